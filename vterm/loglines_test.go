package vterm

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// logTerm is a small Term whose OnLine lines are collected.
type logTerm struct {
	*Term
	mu  sync.Mutex
	got []string
}

func newLogTerm(t *testing.T, cols, rows int) *logTerm {
	lt := &logTerm{}
	lt.Term = New(Options{Cols: cols, Rows: rows, OnLine: func(s string) {
		lt.mu.Lock()
		lt.got = append(lt.got, s)
		lt.mu.Unlock()
	}})
	t.Cleanup(func() { lt.Close() })
	return lt
}

func (lt *logTerm) lines() []string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return slices.Clone(lt.got)
}

func (lt *logTerm) want(t *testing.T, step string, want ...string) {
	t.Helper()
	if got := lt.lines(); !slices.Equal(got, want) {
		t.Fatalf("%s: logged %q, want %q", step, got, want)
	}
}

// A row is logged when a line feed finishes it, while it is still on the
// screen, and not again when it scrolls off, is erased by ED 2, or is left
// at the end (Unlogged); a row never finished is logged when it scrolls off.
func TestTermLogsFinishedRowsOnce(t *testing.T) {
	lt := newLogTerm(t, 20, 4)
	lt.Write([]byte("listening on 8080\r\n"))
	lt.want(t, "finished row", "listening on 8080")
	lt.Write([]byte("\x1b[31mred\x1b[m\r\n\r\n"))
	lt.want(t, "coloured and empty", "listening on 8080", "red", "")
	// Scroll everything off: nothing logged twice.
	lt.Write([]byte("a\r\nb\r\nc\r\n"))
	lt.want(t, "scrolled off", "listening on 8080", "red", "", "a", "b", "c")
	if n := lt.ScrollbackLen(); n != 3 {
		t.Fatalf("the scrollback holds %d lines, want 3 (it keeps what scrolls off)", n)
	}
	// ED 2 pushes the screen; the logged rows are not logged again, an
	// unfinished one (no line feed) is.
	lt.Write([]byte("prompt$ "))
	lt.Write([]byte("\x1b[H\x1b[2J"))
	lt.want(t, "ED 2", "listening on 8080", "red", "", "a", "b", "c", "prompt$")
	// After the erase, rows are fresh: the same text again is logged.
	lt.Write([]byte("a\r\nlast"))
	lt.want(t, "after erase", "listening on 8080", "red", "", "a", "b", "c", "prompt$", "a")
	if rest := lt.Unlogged(); !slices.Equal(rest, []string{"last"}) {
		t.Fatalf("Unlogged = %q, want [last]", rest)
	}
	if rest := lt.Unlogged(); len(rest) != 0 {
		t.Fatalf("Unlogged again = %q, want nothing", rest)
	}
}

// A logical line that wrapped over several rows is one log line, also
// with colours inside it; rows scrolled off before their line feed are
// logged as they leave.
func TestTermLogsWrappedLineJoined(t *testing.T) {
	lt := newLogTerm(t, 10, 5)
	long := strings.Repeat("0123456789", 2) + "abc"
	lt.Write([]byte(long + "\r\n"))
	lt.want(t, "wrapped", long)
	lt.Write([]byte("\x1b[1m" + strings.Repeat("x", 12) + "\x1b[m\r\n"))
	lt.want(t, "wrapped, styled", long, strings.Repeat("x", 12))
	// A line longer than the screen: its first rows scroll off unfinished.
	lt2 := newLogTerm(t, 4, 2)
	lt2.Write([]byte("aaaabbbbcccc\n"))
	lt2.want(t, "longer than the screen", "aaaa", "bbbbcccc")
}

// A row rewritten after cursor-up is logged again as it now stands when a
// line feed finishes it; one rewritten with the same text is not; a row
// redrawn with CR (a progress bar) is logged only when finished.
func TestTermLogsCursorUpRewrites(t *testing.T) {
	lt := newLogTerm(t, 20, 6)
	lt.Write([]byte("one\r\ntwo\r\n"))
	lt.Write([]byte("\x1b[2Aone\r\n")) // same text: not again
	lt.want(t, "same rewrite", "one", "two")
	lt.Write([]byte("TWO\r\n")) // row 1 changed
	lt.want(t, "changed rewrite", "one", "two", "TWO")
	lt.Write([]byte("\x1b[4H 10%\r 50%\r100%\r\n"))
	lt.want(t, "progress", "one", "two", "TWO", "100%")
	// Six line feeds finish six blank rows; of the four rows scrolled off
	// only row 2, never finished, is logged as it leaves.
	lt.Write([]byte(strings.Repeat("\n", 6)))
	lt.want(t, "scrolled", "one", "two", "TWO", "100%", "", "", "", "", "", "", "")
}

// The alternate screen is never logged, and going back to the main screen
// does not log its rows again.
func TestTermLogsNoAltScreen(t *testing.T) {
	lt := newLogTerm(t, 20, 4)
	lt.Write([]byte("main\r\n\x1b[?1049h"))
	lt.Write([]byte("alt one\r\nalt two\r\n\r\n\r\n\r\nalt\r\n\x1b[2J"))
	lt.want(t, "alt screen", "main")
	if rest := lt.Unlogged(); rest != nil {
		t.Fatalf("Unlogged on the alternate screen = %q", rest)
	}
	lt.Write([]byte("\x1b[?1049l"))
	// Three blank rows finished, then "main" scrolls off: not again.
	lt.Write([]byte("\n\n\n\n"))
	lt.want(t, "back on main", "main", "", "", "", "")
}
