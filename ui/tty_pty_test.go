package ui

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
	vt "github.com/kelpie-dev/kelpie/vterm"
)

// ptyBackend is the fake engine with a real terminal behind its tty unit
// "shell": a shell on a pseudo-terminal, read by vterm's emulator, as the
// engine keeps one per tty unit.
type ptyBackend struct {
	*fakeBackend
	p    *vt.PTY
	term *vt.Term
}

func (b *ptyBackend) Screen(name string) (procs.Screen, error) {
	if name != "shell" {
		return procs.Screen{}, procs.ErrNotTTY
	}
	return procs.Screen{Snapshot: b.term.Snapshot(), Title: b.term.Title(), Scrollback: b.term.ScrollbackLen()}, nil
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

// TestTTYRealShellThroughThePane types into a real shell on a pseudo-
// terminal through the screen: what it prints is drawn in the pane, the
// pane's size is the terminal's, and ctrl+c reaches the shell.
func TestTTYRealShellThroughThePane(t *testing.T) {
	p, proc, err := vt.Start([]string{"sh", "-i"}, append(os.Environ(), "PS1=$ ", "ENV="), t.TempDir(), 80, 24)
	if err != nil {
		t.Skip("no pseudo-terminal here:", err)
	}
	term := vt.New(vt.Options{Reply: p})
	go func() { _, _ = term.ReadFrom(p) }()
	t.Cleanup(func() {
		p.Close()
		_, _ = proc.Wait()
		term.Close()
	})
	fb := ttyFake()
	hs := newHarnessOn(t, &ptyBackend{fakeBackend: fb, p: p, term: term}, fb, 100, 30)
	waitScreen(t, hs, "$ ")
	hs.key("i")
	hs.key("echo kelpie-$((6*7))")
	hs.key("enter")
	waitScreen(t, hs, "kelpie-42")
	// The shell's terminal has the pane's size.
	hs.key("stty size", "enter")
	cols, rows := hs.m.tty.cols, hs.m.tty.rows
	waitScreen(t, hs, strconv.Itoa(rows)+" "+strconv.Itoa(cols))
	// ctrl+c goes to the shell (it ends the sleep: a new prompt), not to
	// kelpie.
	prompts := func(s string) int { return len(regexp.MustCompile(`(?m)^\$ *$`).FindAllString(s, -1)) }
	hs.key("sleep 30", "enter")
	waitScreen(t, hs, "$ sleep 30")
	before := prompts(hs.screen())
	hs.key("ctrl+c")
	waitPane(t, hs, "a new prompt", func(s string) bool { return prompts(s) > before })
	hs.key("echo after-$((1+1))", "enter")
	waitScreen(t, hs, "after-2")
	if hs.m.shutting {
		t.Fatal("ctrl+c in typing mode quit kelpie")
	}
}
