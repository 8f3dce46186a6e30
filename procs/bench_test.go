package procs

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkIngest measures what kelpie spends per 64 KiB read of 100-byte
// lines: splitting, the sanitise check, and storing in the ring ("ring"),
// and with a tap that copies each line after a 32-byte prefix into a block,
// as the log files' sink does ("tap": the reading thread's work with
// log_dir on, but the file's write).
func BenchmarkIngest(b *testing.B) {
	chunk := []byte(strings.Repeat(strings.Repeat("y", 99)+"\n", 655))
	for _, name := range []string{"ring", "tap"} {
		b.Run(name, func(b *testing.B) {
			r := newRing(DefaultLogBuffer)
			if name == "tap" {
				r.tap = &copyTap{prefix: []byte(strings.Repeat("p", 32)), block: make([]byte, 0, 256<<10)}
			}
			p := newPump(r, Stdout, DefaultMaxLine, func(uint64) {})
			now := time.Now()
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			for b.Loop() {
				p.feed(chunk, now, false)
			}
		})
	}
}

// copyTap formats lines as the log files' sink does, into a block it
// empties when full.
type copyTap struct {
	prefix, block []byte
}

func (t *copyTap) Line(_ int64, _ Stream, text []byte, _ bool) {
	t.Lines(0, 0, append(text, '\n'), Fit{MaxLine: len(text), Room: 1 << 30})
}
func (t *copyTap) Lines(_ int64, _ Stream, text []byte, fit Fit) (int, int) {
	block := t.block
	taken, lines := 0, 0
	for {
		e := fit.LineEnd(text, taken)
		if e < 0 || !fit.Fits(taken, lines, e-taken) {
			break
		}
		if len(block)+len(t.prefix)+e+1-taken > cap(block) {
			block = block[:0]
		}
		block = append(append(block, t.prefix...), text[taken:e+1]...)
		taken = e + 1
		lines++
	}
	t.block = block
	return taken, lines
}
func (t *copyTap) Lost(uint64) {}
func (t *copyTap) Full() bool  { return false }
func (t *copyTap) Wait()       {}
func (t *copyTap) Removed()    {}

// BenchmarkSample measures one sampler tick (one /proc scan) with no units.
func BenchmarkSample(b *testing.B) {
	sm := newSampler()
	b.ReportAllocs()
	for b.Loop() {
		sm.measure(nil, time.Now())
	}
}

// BenchmarkPipe measures a writer putting 100,000 lines of 100 bytes through
// a pipe, from its first write until the reader has stored the last line,
// per reader: "cat" (blocking reads into a discarded buffer: the floor),
// "thread" (the former design: one blocking reader per pipe with a 1 ms pause
// after a short read, kept here as the baseline) and "pool" (the shared epoll
// reader threads). Writes are one per line ("line") or 64 KiB ("buf").
func BenchmarkPipe(b *testing.B) {
	const n = 100000
	line := []byte(strings.Repeat("y", 99) + "\n")
	for _, mode := range []string{"line", "buf"} {
		for _, reader := range []string{"cat", "thread", "pool"} {
			b.Run(mode+"/"+reader, func(b *testing.B) {
				var rd *readers
				if reader == "pool" {
					var err error
					if rd, err = newReaders(0); err != nil {
						b.Fatal(err)
					}
					defer rd.close(0)
				}
				b.SetBytes(n * int64(len(line)))
				cpu0 := cpuTime()
				var wcpu time.Duration
				for b.Loop() {
					r, w, err := newOutputPipe()
					if err != nil {
						b.Fatal(err)
					}
					done := make(chan struct{})
					ring := newRing(DefaultLogBuffer)
					var notify func(uint64)
					switch reader {
					case "cat":
						_ = unix.SetNonblock(r, false)
						go func() { catPipe(r); close(done) }()
					case "thread":
						_ = unix.SetNonblock(r, false)
						p := newPump(ring, Stdout, DefaultMaxLine, nil)
						go func() { threadPipe(r, p); close(done) }()
					case "pool":
						notify = func(last uint64) {
							if last == n {
								close(done)
							}
						}
						if _, err := rd.add(r, newPump(ring, Stdout, DefaultMaxLine, notify)); err != nil {
							b.Fatal(err)
						}
					}
					// The writer has a thread of its own, as a child would.
					wc := make(chan time.Duration)
					go func() {
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						var ru unix.Rusage
						_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru)
						t0 := ru.Utime.Nano() + ru.Stime.Nano()
						writeLines(w, line, n, mode == "buf")
						_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru)
						wc <- time.Duration(ru.Utime.Nano() + ru.Stime.Nano() - t0)
					}()
					wcpu += <-wc
					w.Close()
					<-done
				}
				// CPU time, writer and reader together and the writer's
				// alone: less at the mercy of a busy machine than wall time.
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
				b.ReportMetric(float64(wcpu)/float64(b.N)/1e6, "wcpu-ms/op")
			})
		}
	}
}

func writeLines(w *os.File, line []byte, n int, buffered bool) {
	if !buffered {
		for range n {
			_, _ = w.Write(line)
		}
		return
	}
	buf := make([]byte, 0, 64<<10)
	for range n {
		if len(buf)+len(line) > cap(buf) {
			_, _ = w.Write(buf)
			buf = buf[:0]
		}
		buf = append(buf, line...)
	}
	_, _ = w.Write(buf)
}

// catPipe reads fd until EOF and discards it, as `cat > /dev/null` would.
func catPipe(fd int) {
	defer unix.Close(fd)
	buf := make([]byte, 64<<10)
	for {
		if n, err := unix.Read(fd, buf); n <= 0 && err != unix.EINTR {
			return
		}
	}
}

// threadPipe is the former reader: blocking reads on its own thread, a 1 ms
// pause after a short read.
func threadPipe(fd int, p *pump) {
	defer unix.Close(fd)
	buf := make([]byte, readSize)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if n > 0 {
			p.feed(buf[:n], time.Now(), false)
		}
		if n > 0 && n < len(buf)/2 {
			time.Sleep(coalesce)
		}
		if n <= 0 {
			p.feed(nil, time.Now(), true)
			return
		}
	}
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRestartAfterKill measures kill -9 of a unit's process to its next
// run being up, with the guard and state file kelpie runs with (and a cgroup
// per run where the tree is writable).
func BenchmarkRestartAfterKill(b *testing.B) {
	self, _ := os.Executable()
	tag := NewTag()
	opts := Options{Tick: -1, Tag: tag, Guard: []string{self, guardTestArg, tag},
		StateFile: filepath.Join(b.TempDir(), "k.run"), NoCgroup: os.Getenv("NOCG") != ""}
	if os.Getenv("BARE") != "" {
		opts.Guard, opts.StateFile = nil, ""
	}
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	spec := Spec{Name: "svc", Argv: []string{"sleep", "600"}, Restart: RestartAlways, MinUptime: time.Nanosecond}
	_ = s.Add(spec)
	_, sub := s.Subscribe()
	defer sub.Close()
	_ = s.Start("svc")
	ctx := context.Background()
	running := func(old int) int {
		for {
			bt, err := sub.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, in := range bt.States {
				if in.State == Running && in.PID != old {
					return in.PID
				}
			}
		}
	}
	pid := running(0)
	b.Log(s.Cleanup())
	b.ResetTimer()
	for range b.N {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		pid = running(pid)
	}
}
