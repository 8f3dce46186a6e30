package procs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// TaskNames lists the built-in worker tasks a config's `task:` may name.
func TaskNames() []string { return []string{"primes", "echo", "sleep", "tail"} }

// BuiltinTask returns the named built-in task, configured by args:
//
//   - primes [LIMIT [PAUSE]]: CPU-bound; the group's members claim blocks of
//     numbers through the shared counter "next" and count primes in "found"
//     and numbers checked in "checked"; each sends a progress message every
//     second and answers {"ping": x}. Past LIMIT (0 or none: no limit) a
//     member idles; PAUSE (a duration) rests between blocks, for a light load.
//   - echo: answers every message m with {"echo": m}.
//   - sleep: idles; answers {"ping": x} with {"pong": x}.
//   - tail PATH: follows the file into the unit's output, like tail -F: it
//     survives truncation and rotation by rename.
func BuiltinTask(name string, args []string) (WorkerFunc, error) {
	switch name {
	case "primes":
		return primesTask(args)
	case "echo":
		if len(args) > 0 {
			return nil, errors.New("echo takes no args")
		}
		return echoTask, nil
	case "sleep":
		if len(args) > 0 {
			return nil, errors.New("sleep takes no args")
		}
		return sleepTask, nil
	case "tail":
		if len(args) != 1 || args[0] == "" {
			return nil, errors.New("tail takes one arg: the file to follow")
		}
		path := args[0]
		return func(ctx context.Context, w Worker) error { return tailFile(ctx, w, path, tailPoll) }, nil
	}
	return nil, fmt.Errorf("no built-in task %q", name)
}

// primeBlock is how many numbers a primes worker claims at once.
const primeBlock = 2000

func primesTask(args []string) (WorkerFunc, error) {
	var limit int64
	var pause time.Duration
	if len(args) > 2 {
		return nil, errors.New("primes takes at most two args: LIMIT and PAUSE")
	}
	if len(args) > 0 {
		n, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || n < 0 || n == 1 {
			return nil, fmt.Errorf("primes: LIMIT %q is not 0 (no limit) or a number of at least 2", args[0])
		}
		limit = n
	}
	if len(args) > 1 {
		d, err := time.ParseDuration(args[1])
		if err != nil || d < 0 {
			return nil, fmt.Errorf("primes: PAUSE %q is not a duration", args[1])
		}
		pause = d
	}
	return func(ctx context.Context, w Worker) error {
		var found, checked, largest int64
		report := time.NewTicker(time.Second)
		defer report.Stop()
		progress := func() error {
			return w.Send(map[string]int64{"checked": checked, "found": found, "largest": largest})
		}
		for {
			if ctx.Err() != nil {
				return nil
			}
			start := w.Add("next", primeBlock) - primeBlock + 2
			if limit > 0 && start > limit {
				_ = progress()
				return idle(ctx, w) // done: answer pings until stopped
			}
			end := start + primeBlock
			if limit > 0 {
				end = min(end, limit+1)
			}
			var f int64
			for n := start; n < end; n++ {
				if isPrime(n) {
					f++
					largest = n
				}
			}
			found += f
			checked += end - start
			w.Add("found", f)
			w.Add("checked", end-start)
			select {
			case <-report.C:
				if err := progress(); err != nil {
					return err
				}
			case m := <-w.Inbox():
				answerPing(w, m)
			default:
			}
			if pause > 0 {
				select {
				case <-time.After(pause):
				case <-ctx.Done():
				}
			}
		}
	}, nil
}

func isPrime(n int64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := int64(3); d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func echoTask(ctx context.Context, w Worker) error {
	for {
		m, err := w.Recv(ctx)
		if err != nil {
			return nil // stopped
		}
		if err := w.Send(map[string]json.RawMessage{"echo": m}); err != nil {
			return err
		}
	}
}

func sleepTask(ctx context.Context, w Worker) error { return idle(ctx, w) }

// idle waits for the stop, answering pings.
func idle(ctx context.Context, w Worker) error {
	for {
		m, err := w.Recv(ctx)
		if err != nil {
			return nil
		}
		answerPing(w, m)
	}
}

// answerPing answers {"ping": x} with {"pong": x}; other messages are ignored.
func answerPing(w Worker, m json.RawMessage) {
	var p struct {
		Ping json.RawMessage `json:"ping"`
	}
	if json.Unmarshal(m, &p) == nil && p.Ping != nil {
		_ = w.Send(map[string]json.RawMessage{"pong": p.Ping})
	}
}

// tailPoll is how often tail looks at its file.
const tailPoll = 200 * time.Millisecond

// tailFile follows path into w's output: it starts at the file's end (the
// unit's output is for what happens now), reads what is appended, starts
// over when the file is truncated, and when the file is renamed away
// (rotation) reads the old one to its end, then follows the new one from its
// start. A missing file is waited for.
func tailFile(ctx context.Context, w Worker, path string, every time.Duration) error {
	var f *os.File
	var ino uint64
	var off int64
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	buf := make([]byte, 64<<10)
	drain := func() {
		for f != nil {
			n, err := f.ReadAt(buf, off)
			if n > 0 {
				_, _ = w.Stdout().Write(buf[:n])
				off += int64(n)
			}
			if err != nil || n == 0 {
				return
			}
		}
	}
	open := func(fromEnd bool) {
		nf, err := os.Open(path)
		if err != nil {
			return
		}
		var st syscall.Stat_t
		if syscall.Fstat(int(nf.Fd()), &st) != nil {
			nf.Close()
			return
		}
		f, ino, off = nf, st.Ino, 0
		if fromEnd {
			off = st.Size
		}
	}
	open(true)
	if f == nil {
		w.Printf("tail: waiting for %s", path)
	} else {
		w.Printf("tail: following %s", path)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if f == nil {
			open(false)
		} else {
			var st syscall.Stat_t
			err := syscall.Stat(path, &st)
			switch {
			case err == nil && st.Ino != ino:
				drain() // rotated: the rest of the old file, then the new one
				f.Close()
				f = nil
				open(false)
			case err == nil && st.Size < off:
				w.Printf("tail: %s was truncated", path)
				off = 0
			}
		}
		drain()
		select {
		case <-ctx.Done():
			return nil
		case m := <-w.Inbox():
			answerPing(w, m)
		case <-t.C:
		}
	}
}
