package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/procs"
)

// reset ends every line kelpie prints to a terminal, so a style a child left
// open never reaches the next line or the user's shell.
const reset = "\x1b[0m"

// runHeadless prints every unit's output until the supervisor shuts down
// (with --quiet-units, only kelpie's own messages: the detached kelpie).
// Termination signals, and the output being closed (`kelpie up --headless |
// head -3`), stop every unit gracefully; the TUI handles the signals itself.
func (c *cli) runHeadless(sup *procs.Supervisor, shutdown func()) {
	// A write to a closed pipe must be an error to act on, not a SIGPIPE
	// that kills kelpie and leaves its units to the guard's SIGKILL. Notify
	// (not Ignore, which children would inherit) and never Stop: a last
	// message to a closed stderr must not kill kelpie on its way out either.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	defer signal.Stop(sigs)
	// A quiet unit writes nothing that could fail: watch the pipe itself.
	closed, unwatch := watchClosed(c.stdout)
	defer unwatch()
	say := sync.OnceFunc(func() {
		fmt.Fprintln(c.stderr, "kelpie: the output was closed; stopping every unit")
	})
	go func() {
		select {
		case sig := <-sigs:
			if c.quietUnits {
				fmt.Fprintf(c.stderr, "kelpie: %s at %s: stopping every unit\n", sig, time.Now().Format(time.RFC3339))
			}
			shutdown()
		case <-closed:
			say()
			shutdown()
		case <-sup.Done():
		}
	}()
	if c.quietUnits {
		// The detached kelpie's log: kelpie's own words only. Every unit's
		// output stays in its ring (kelpie logs, attach) and log_dir's
		// rotated files; copying it here too would grow without bound.
		<-sup.Done()
		fmt.Fprintf(c.stderr, "kelpie: every unit stopped at %s; exiting\n", time.Now().Format(time.RFC3339))
		return
	}
	if isDevNull(c.stdout) {
		// Not formatted only to be thrown away: a flood would cost kelpie
		// a core for nothing (the rings and log_dir: keep it).
		<-sup.Done()
		return
	}
	if err := printHeadless(sup, c.stdout); err != nil {
		say()
		shutdown()
	}
}

// printHeadless prints every unit's output, each line prefixed with the
// unit's name (coloured on a terminal), until the supervisor shuts down, or
// until a write fails, which it returns. It reads from the units' rings, so
// a slow stdout loses lines (and says how many) instead of slowing the
// children down.
func printHeadless(sup *procs.Supervisor, out io.Writer) error {
	cur, err := sup.Follow(nil, -1)
	if err != nil {
		return err
	}
	defer cur.Close()
	colour := wantColour(out)
	prefix := prefixes(cur.Units(), colour)
	w := bufio.NewWriterSize(out, 64<<10)
	var rb procs.RawBatch
	for {
		if err := cur.NextRaw(context.Background(), &rb); err != nil {
			return w.Flush()
		}
		for _, u := range rb.Units {
			p, ok := prefix[u.Unit]
			if !ok { // a unit added since: the next colour, its own name's width
				p = prefixes([]string{u.Unit}, colour)[u.Unit]
				prefix[u.Unit] = p
			}
			if u.Missed > 0 {
				fmt.Fprintf(w, "%s… %d lines dropped (stdout was slower than the output)\n", p, u.Missed)
			}
			for _, l := range u.Lines {
				w.WriteString(p)
				if l.Stream != procs.Stdout {
					w.WriteString("[" + l.Stream.String() + "] ")
				}
				writeText(w, rb.Buf[l.Off:l.Off+l.Len], colour)
				if l.Cut {
					w.WriteString(" ↩")
				}
				w.WriteByte('\n')
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// prefixes gives each unit its line prefix: the name padded to the longest,
// in one of six colours when colour is on.
func prefixes(names []string, colour bool) map[string]string {
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	p := make(map[string]string, len(names))
	for i, n := range names {
		p[n] = prefix(n, width, i, colour)
	}
	return p
}

// prefix is the i-th unit's line prefix, its name padded to width.
func prefix(name string, width, i int, colour bool) string {
	// Names come from the running kelpie: outside text.
	s := fmt.Sprintf("%-*s | ", width, procs.Clean(name))
	if colour {
		s = fmt.Sprintf("\x1b[%dm%s%s", 31+i%6, s, reset)
	}
	return s
}

// writeText writes one line of (already sanitised) output: its colours and
// a reset after them to a terminal that wants colour, plain text otherwise
// (colour codes mean nothing in a file or to the next program in a pipe).
func writeText(w *bufio.Writer, text []byte, colour bool) {
	_, _ = w.Write(appendText(w.AvailableBuffer(), text, colour))
}

// appendText is writeText for a buffer: one rule for `kelpie logs` and
// headless output alike.
func appendText[T string | []byte](b []byte, text T, colour bool) []byte {
	if colour {
		return append(append(b, text...), reset...)
	}
	for i := 0; i < len(text); i++ {
		if text[i] == 0x1b {
			return append(b, ansi.Strip(string(text))...)
		}
	}
	return append(b, text...)
}

// wantColour decides colour for output to w from what is known without
// asking the terminal anything: w is a terminal, NO_COLOR is unset or empty
// (no-color.org), and TERM is not "dumb".
func wantColour(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// isDevNull reports whether w is /dev/null (the same device).
func isDevNull(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	var st, null unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || unix.Stat(os.DevNull, &null) != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && null.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == null.Rdev
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// watchClosed reports on the returned channel when nobody reads w any more:
// w is a pipe whose reader has gone or a socket whose peer has. For any other
// w it never reports. unwatch ends the watch.
func watchClosed(w io.Writer) (closed <-chan struct{}, unwatch func()) {
	ch := make(chan struct{})
	f, ok := w.(*os.File)
	if !ok {
		return ch, func() {}
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || (st.Mode&unix.S_IFMT != unix.S_IFIFO && st.Mode&unix.S_IFMT != unix.S_IFSOCK) {
		return ch, func() {}
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return ch, func() {}
	}
	go func() {
		defer wakeR.Close()
		// No events asked for: poll still reports POLLERR (a pipe's reader
		// closed) and POLLHUP (a socket's peer gone).
		fds := []unix.PollFd{{Fd: int32(f.Fd())}, {Fd: int32(wakeR.Fd()), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err == nil && fds[1].Revents != 0 {
				return
			}
			if err == nil && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				close(ch)
			}
			return
		}
	}()
	return ch, func() { wakeW.Close() }
}
