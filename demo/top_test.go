package demo

import (
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/vterm"
)

// roleEnv makes the test binary play a demo role (see TestMain).
const roleEnv = "KELPIE_TEST_DEMO_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(Run(role))
	}
	os.Exit(m.Run())
}

// TestTopUnitIsATTYUnit: the demo's top runs on a terminal of its own.
func TestTopUnitIsATTYUnit(t *testing.T) {
	for _, sp := range Specs("/bin/kelpie") {
		if sp.Name == "top" {
			if !sp.TTY {
				t.Error("top is not a tty unit")
			}
			return
		}
	}
	t.Fatal("the demo has no top unit")
}

// TestTopOnATerminal plays the top role on a pseudo-terminal read by the
// emulator tty units have: it draws its screen with a title, answers the
// arrow keys in the mode it asked for, redraws at a new size, and q quits
// it cleanly, the alternate screen left.
func TestTopOnATerminal(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, proc, err := vterm.Start([]string{exe, "-test.run=^$"}, append(os.Environ(), roleEnv+"=top"), "", 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var title atomic.Pointer[string] // the last title top set
	term := vterm.New(vterm.Options{Reply: p, OnTitle: func(s string) { title.Store(&s) }})
	defer term.Close()
	go func() { _, _ = io.Copy(term, p) }() // until the hang-up (EIO)
	screen := func() string {
		return ansi.Strip(strings.Join(term.Snapshot().Lines, "\n"))
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; the screen:\n%s", what, screen())
			}
			time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
		}
	}
	waitFor("top's screen", func() bool { return strings.Contains(screen(), "kelpie demo · top") })
	// OnTitle runs once Write has fed the chunk that set it: the screen
	// can show first.
	waitFor("top's title", func() bool { s := title.Load(); return s != nil && strings.HasPrefix(*s, "top · ") })
	if !term.AltScreen() {
		t.Errorf("not on the alternate screen")
	}
	term.Key(vterm.Key{Code: vterm.KeyDown})
	waitFor("the key read", func() bool { return strings.Contains(screen(), "last key: down") })
	if !strings.Contains(screen(), `"\x1bOB"`) {
		t.Errorf("down was not sent in application cursor mode:\n%s", screen())
	}
	term.Key(vterm.Key{Rune: 's'})
	waitFor("the sort", func() bool { return strings.Contains(screen(), "sorted by mem") })

	if err := p.Resize(50, 15); err != nil {
		t.Fatal(err)
	}
	term.Resize(50, 15)
	waitFor("a redraw at 50x15", func() bool {
		s := term.Snapshot()
		last := ansi.Strip(s.Lines[len(s.Lines)-1])
		return len(s.Lines) == 15 && strings.Contains(last, "last key")
	})
	term.Key(vterm.Key{Rune: 'q'})
	st, err := proc.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("top ended with %v, %v", st, err)
	}
	waitFor("the main screen back", func() bool { return !term.AltScreen() })
}

func TestParseStat(t *testing.T) {
	line := []byte("4242 (evil) (\x1b]0;x\a) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 300 18446744073709551615")
	p, ok := parseStat(line, 4096)
	if !ok || p.pid != 4242 || p.state != "R" || p.ticks != 300 || p.rss != 300*4096 {
		t.Fatalf("parsed %+v, %v", p, ok)
	}
	if strings.ContainsAny(p.comm, "\x1b\a") {
		t.Errorf("a process's name keeps its controls: %q", p.comm)
	}
}

// TestFitAndPadCountCells: a wide process name takes two cells a character,
// so a row cut and padded to w cells is w cells wide, colour kept.
func TestFitAndPadCountCells(t *testing.T) {
	row := "\x1b[1m  42 注文処理サーバ\x1b[0m"
	if got := ansi.StringWidth(fit(row, 11)); got != 11 {
		t.Errorf("fit(%q, 11) is %d cells", row, got)
	}
	// A wide character that would straddle the edge is left out: padded,
	// the row is still exactly w cells.
	if got := ansi.StringWidth(pad(fit(row, 10), 10)); got != 10 {
		t.Errorf("pad(fit(%q, 10), 10) is %d cells", row, got)
	}
	if got := fit(row, 10); !strings.HasPrefix(got, "\x1b[1m") || !strings.HasSuffix(got, "\x1b[0m") {
		t.Errorf("fit lost the colour: %q", got)
	}
	if got := ansi.StringWidth(pad("注文", 8)); got != 8 {
		t.Errorf("pad(注文, 8) is %d cells", got)
	}
}

// TestKeyNameReadsSequences: xterm's keys by their sequences, the longest
// too, several in one read, then plain characters.
func TestKeyNameReadsSequences(t *testing.T) {
	b := []byte("\x1b[A\x1bOB\x1b[15~\x1b[6~q\x1b")
	var got []string
	for len(b) > 0 {
		name, n := keyName(b)
		got = append(got, name)
		b = b[n:]
	}
	if want := "up down F5 pgdn q esc"; strings.Join(got, " ") != want {
		t.Errorf("keys %q, want %q", got, want)
	}
}
