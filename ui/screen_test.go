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
	for _, want := range []string{seqClear, "\x1b[1;1Haaa", "\x1b[2;1Hbbb", "\x1b[3;1Hccc"} {
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
	if strings.Contains(got, seqClear) || strings.Contains(got, "aaa") || !strings.Contains(got, "\x1b[2;1HBBB") {
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

func TestScreenFullWidthLineIsNotErased(t *testing.T) {
	var out bytes.Buffer
	s := newScreen(&out)
	s.resize(3, 2)
	s.submit("abc\nd")
	got := out.String()
	if strings.Contains(got, "abc"+seqReset+seqEraseRight) || !strings.Contains(got, "d"+seqReset+seqEraseRight) {
		t.Fatalf("erase handling: %q", got)
	}
	s.close()
	out.Reset()
	s.submit("zzz")
	if out.Len() != 0 {
		t.Fatal("drew after close")
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
