package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestScreenDrawsOnlyChangedLines(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(10, 3)
	s.submit("aaa\nbbb\nccc")
	first := out.String()
	for _, want := range []string{seqClear, "\x1b[1;1H" + seqEraseLine + "aaa", "\x1b[2;1H" + seqEraseLine + "bbb", "\x1b[3;1H" + seqEraseLine + "ccc"} {
		if !strings.Contains(first, want) {
			t.Fatalf("first frame lacks %q: %q", want, first)
		}
	}
	// The same frame again writes nothing.
	out.Reset()
	s.last = time.Time{}
	s.submit("aaa\nbbb\nccc")
	if out.Len() != 0 {
		t.Fatalf("an unchanged frame wrote %q", out.String())
	}
	// One changed line: only it is written, without a clear.
	s.submit("aaa\nBBB\nccc")
	got := out.String()
	if strings.Contains(got, seqClear) || strings.Contains(got, "aaa") || !strings.Contains(got, "\x1b[2;1H"+seqEraseLine+"BBB") {
		t.Fatalf("partial redraw wrote %q", got)
	}
}

func TestScreenHoldsBurstsToTheFrameGap(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(10, 1)
	s.submit("one")
	out.Reset()
	s.submit("two") // within frameGap of the first: held back
	if out.Len() != 0 || s.timer == nil {
		t.Fatalf("drew %q at once, timer %v", out.String(), s.timer)
	}
	s.submit("three") // replaces the held frame
	s.timer.Stop()
	s.flush() // what the timer does
	if got := out.String(); strings.Contains(got, "two") || !strings.Contains(got, "three") {
		t.Fatalf("flush wrote %q", got)
	}
}

func TestScreenErasesEachRowBeforeDrawingIt(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(3, 2)
	s.submit("abc\nd")
	got := out.String()
	// Full-width or not, a row is erased whole first: nothing of the old
	// row stays where the terminal draws the new one narrower than kelpie
	// measured (an emoji sequence), and no erase follows a full-width line.
	for _, want := range []string{"\x1b[1;1H" + seqEraseLine + "abc" + seqReset, "\x1b[2;1H" + seqEraseLine + "d" + seqReset} {
		if !strings.Contains(got, want) {
			t.Fatalf("frame lacks %q: %q", want, got)
		}
	}
	if strings.Contains(got, "\x1b[K") {
		t.Fatalf("erased after a line: %q", got)
	}
	s.close()
	out.Reset()
	s.submit("zzz")
	if out.Len() != 0 {
		t.Fatal("drew after close")
	}
}

func TestScreenAutowrapOffWhileUp(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.open()
	if got := out.String(); !strings.Contains(got, "\x1b[?7l") || !strings.Contains(got, "\x1b[?2004h") {
		t.Fatalf("open wrote %q: want autowrap off and bracketed paste on", got)
	}
	out.Reset()
	s.close()
	s.close() // a second close (the deferred one after a panic) writes nothing more
	got := out.String()
	if strings.Count(got, "\x1b[?7h") != 1 || strings.Count(got, "\x1b[?2004l") != 1 {
		t.Fatalf("close wrote %q: want autowrap and paste mode restored once", got)
	}
	if i, j := strings.Index(got, "\x1b[?7h"), strings.Index(got, "\x1b[?1049l"); i > j {
		t.Fatalf("autowrap restored after leaving the alternate screen: %q", got)
	}
}

func TestScreenRedrawRepaintsEverything(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(10, 2)
	s.submit("aaa\nbbb")
	out.Reset()
	s.redraw()
	s.submit("aaa\nbbb") // the same frame: drawn whole, at once, after a clear
	got := out.String()
	if !strings.Contains(got, seqClear) || !strings.Contains(got, "aaa") || !strings.Contains(got, "bbb") {
		t.Fatalf("redraw wrote %q", got)
	}
	if s.timer != nil {
		s.timer.Stop()
		t.Fatal("redraw waited for the frame gap")
	}
}

func TestScreenWritesOnlyTextAndColour(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(40, 1)
	s.submit("\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07x \u009b2J y \x1b[2J z \x9b")
	got := out.String()
	for _, bad := range []string{"\x1b]", "\u009b", "\x1b[2J z", "\x9b"} {
		if strings.Contains(got, bad) {
			t.Fatalf("frame wrote %q: %q", bad, got)
		}
	}
	if !strings.Contains(got, "\x1b[31mred") {
		t.Fatalf("colour lost: %q", got)
	}
}

func TestScreenDrawsAKeysFrameAtOnce(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(10, 1)
	s.submit("one") // a frame just went out
	out.Reset()
	s.expectKey()
	s.submit("two") // inside frameGap, but it answers a key
	if !strings.Contains(out.String(), "two") {
		t.Fatalf("a key's frame waited: %q", out.String())
	}
	out.Reset()
	s.submit("three") // output again: held back
	if out.Len() != 0 {
		t.Fatalf("drew %q inside the gap", out.String())
	}
	s.timer.Stop()
}
