package ui

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
	vt "github.com/kelpie-dev/kelpie/vterm"
)

// ptyBackend is the fake engine with a real terminal behind its tty unit
// "shell": a shell on a pseudo-terminal, read by vterm's emulator, as the
// engine keeps one per tty unit.
type ptyBackend struct {
	*fakeBackend
	p     *vt.PTY
	term  *vt.Term
	title atomic.Pointer[string] // the last title the shell set (OnTitle)
}

// titleNow is the last title the shell set ("" if none).
func (b *ptyBackend) titleNow() string {
	if t := b.title.Load(); t != nil {
		return *t
	}
	return ""
}

func (b *ptyBackend) Screen(name string) (procs.Screen, error) {
	if name != "shell" {
		return procs.Screen{}, procs.ErrNotTTY
	}
	return procs.Screen{Snapshot: b.term.Snapshot(), Title: b.titleNow(), Scrollback: b.term.ScrollbackLen()}, nil
}

func (b *ptyBackend) Scrollback(name string, from, to int) ([]string, error) {
	return b.term.ScrollbackLines(nil, from, to), nil
}

func (b *ptyBackend) Keys(name string, keys []vt.Key) error {
	for _, k := range keys {
		b.term.Key(k)
	}
	return nil
}

func (b *ptyBackend) Paste(name, text string) error {
	b.term.Paste(text)
	return nil
}

func (b *ptyBackend) Resize(name string, cols, rows int) error {
	_ = b.fakeBackend.Resize(name, cols, rows) // recorded
	b.term.Resize(cols, rows)
	return b.p.Resize(cols, rows)
}

// waitScreen fires the pane's refresh ticks until the frame shows want.
func waitScreen(t *testing.T, hs *harness, want string) {
	t.Helper()
	waitPane(t, hs, want, func(s string) bool { return strings.Contains(s, want) })
}

// waitPane fires the pane's refresh ticks until the frame satisfies ok.
func waitPane(t *testing.T, hs *harness, what string, ok func(screen string) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(hs.screen()); {
		if time.Now().After(deadline) {
			t.Fatalf("the pane never showed %s:\n%s", what, hs.screen())
		}
		time.Sleep(2 * time.Millisecond) // the child's time to answer; polled with a deadline
		if len(ttyTimers(hs)) > 0 {
			fireTick(t, hs)
		}
	}
}

// sessionRuns reports whether a process named comm runs in session sid,
// from /proc/PID/stat: "pid (comm) state ppid pgrp session ...".
func sessionRuns(sid int, comm string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(s[j+1:])
		if len(f) > 3 && f[3] == strconv.Itoa(sid) && s[i+1:j] == comm {
			return true
		}
	}
	return false
}

// TestTTYRealShellThroughThePane types into a real shell on a pseudo-
// terminal through the screen: what it prints is drawn in the pane, the
// pane's size is the terminal's, and ctrl+c reaches the shell.
func TestTTYRealShellThroughThePane(t *testing.T) {
	p, proc, err := vt.Start([]string{"sh", "-i"}, append(os.Environ(), "PS1=$ ", "ENV="), t.TempDir(), 80, 24)
	if err != nil {
		t.Skip("no pseudo-terminal here:", err)
	}
	fb := ttyFake()
	pb := &ptyBackend{fakeBackend: fb, p: p}
	term := vt.New(vt.Options{Reply: p, OnTitle: func(s string) { pb.title.Store(&s) }})
	pb.term = term
	go func() { _, _ = io.Copy(term, p) }() // until the hang-up (EIO)
	t.Cleanup(func() {
		p.Close()
		_, _ = proc.Wait()
		term.Close()
	})
	hs := newHarnessOn(t, pb, fb, 100, 30)
	// The shell echoes a line as it is typed, before it reads it: each
	// command waits for the prompt (the pane's last line "$"), so that
	// what the pane shows after it is the command's.
	atPrompt := func(s string) bool {
		lines := strings.Split(strings.TrimRight(ansi.Strip(strings.Join(hs.m.tty.drawn, "\n")), " \n"), "\n")
		return strings.TrimSpace(lines[len(lines)-1]) == "$"
	}
	run := func(cmd, want string) {
		t.Helper()
		waitPane(t, hs, "a prompt", atPrompt)
		hs.key(cmd, "enter")
		waitScreen(t, hs, want)
	}
	hs.key("i")
	run("echo kelpie-$((6*7))", "kelpie-42")
	// The shell's terminal has the pane's size.
	run("stty size", strconv.Itoa(hs.m.tty.rows)+" "+strconv.Itoa(hs.m.tty.cols))
	// ctrl+c goes to the shell (it ends the sleep: a new prompt), not to
	// kelpie.
	run("sleep 30", "$ sleep 30")
	for deadline := time.Now().Add(10 * time.Second); !sessionRuns(proc.Pid, "sleep"); {
		if time.Now().After(deadline) {
			t.Fatalf("sleep never ran:\n%s", hs.screen())
		}
		time.Sleep(2 * time.Millisecond) // polled with a deadline
	}
	hs.key("ctrl+c")
	run("echo after-$((1+1))", "after-2")
	if hs.m.shutting {
		t.Fatal("ctrl+c in typing mode quit kelpie")
	}
}
