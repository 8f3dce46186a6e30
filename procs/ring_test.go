package procs

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A unit that logs one line costs a small chunk, not a full-size one: a
// thousand quiet units once looked like 150 MB of live heap to the GC. The
// chunk grows as lines come, and never past chunkSize.
func TestRingChunksStartSmall(t *testing.T) {
	r := newRing(1 << 20)
	r.Append(time.Now(), Stdout, []byte("started"))
	if c := cap(r.chunks[0].data); c > firstChunk {
		t.Fatalf("a one-line ring holds a %d-byte chunk", c)
	}
	line := make([]byte, 1000)
	for range 2000 {
		r.Append(time.Now(), Stdout, line)
	}
	for i, c := range r.chunks {
		if cap(c.data) > r.chunkSize {
			t.Fatalf("chunk %d grew to %d bytes, past chunkSize %d", i, cap(c.data), r.chunkSize)
		}
	}
	if got := r.Tail(3); len(got) != 3 || len(got[2].Text) != 1000 {
		t.Fatalf("tail after growing: %d lines", len(got))
	}
}

// A read of plain lines is stored as a run (appendPlainLocked) and given to
// the tap in one call; what the ring and the tap hold must be what the
// line-at-a-time path stores for the same bytes: here the same output fed
// a byte at a time, which never makes a run of more than an empty line.
func TestPlainRunsStoreWhatLinesDo(t *testing.T) {
	const maxLine = 64
	var in []byte
	for i := range 300 {
		switch i % 50 {
		case 7:
			in = append(in, bytes.Repeat([]byte("L"), 3*maxLine+5)...) // cut in pieces
		case 8:
			in = append(in, "tab\there, then an empty line"...)
		case 9:
			// empty
		default:
			in = fmt.Appendf(in, "line %d of plain text", i)
		}
		in = append(in, '\n')
	}
	in = append(in, "an unfinished tail"...)
	feed := func(step int) (*ring, *recUnit) {
		r := newRing(1 << 20)
		u := &recUnit{lock: &r.mu}
		r.tap = u
		p := newPump(r, Stdout, maxLine, nil)
		for b := in; len(b) > 0; {
			k := min(step, len(b))
			p.feed(b[:k], time.Unix(0, 0), false)
			b = b[k:]
		}
		p.feed(nil, time.Unix(0, 0), true)
		return r, u
	}
	whole, wu := feed(len(in))
	bytewise, bu := feed(1)
	if wu.runs == 0 || wu.runs > 20 {
		t.Fatalf("one read of 300 lines was given to the tap in %d runs, want a few", wu.runs)
	}
	got, want := whole.Tail(1000), bytewise.Tail(1000)
	if len(got) != len(want) || len(got) < 300 {
		t.Fatalf("stored %d lines as runs, %d a line at a time", len(got), len(want))
	}
	for i := range got {
		if got[i].Text != want[i].Text || got[i].Truncated != want[i].Truncated || got[i].Seq != want[i].Seq {
			t.Fatalf("line %d: run stored %+v, line-at-a-time %+v", i, got[i], want[i])
		}
	}
	if strings.Join(wu.lines, "\n") != strings.Join(bu.lines, "\n") {
		t.Fatalf("the tap was given other lines as runs (%d) than a line at a time (%d)", len(wu.lines), len(bu.lines))
	}
}

// Log watches see the lines of plain runs too: a readiness watch fires on
// a line inside a run, a liveness watch (it only counts) counts each match,
// and a unit with either keeps its floods on the plain-run path.
func TestLogWatchesSeeRunsLines(t *testing.T) {
	r := newRing(1 << 20)
	u := &recUnit{lock: &r.mu}
	r.tap = u
	p := newPump(r, Stdout, DefaultMaxLine, nil)
	ready := &logWatch{re: regexp.MustCompile("ready to accept"), need: 1, fire: func() {}}
	alive := &logWatch{re: regexp.MustCompile("^tick")}
	p.watch = []*logWatch{ready, alive}
	p.feed([]byte("starting\ntick\nstill starting\n"), time.Unix(0, 0), false)
	if ready.fired.Load() {
		t.Fatal("the readiness watch fired before its line")
	}
	p.feed([]byte("tick\nready to accept connections\ntick\n"), time.Unix(0, 0), false)
	if !ready.fired.Load() {
		t.Fatal("the readiness watch did not fire on a line of a run")
	}
	p.feed([]byte("a\nflood\ntick\nlines\n"), time.Unix(0, 0), false)
	if u.runs != 3 {
		t.Fatalf("%d runs for three plain reads, want 3", u.runs)
	}
	if got := alive.hits.Load(); got != 4 {
		t.Fatalf("the liveness watch counted %d ticks, want 4", got)
	}
	if got := len(u.lines); got != 10 {
		t.Fatalf("the tap has %d lines, want 10", got)
	}
}

// A piece that sanitising makes longer than the line limit, and that
// cannot be cut before its end (one replacement character here), is stored
// once: not followed by an empty record, which cost the ring a line's
// overhead each (a fuzzed input of 915 bytes stored 1,829 lines, and lost
// some) and showed as an empty line.
func TestAnUncuttablePieceIsStoredOnce(t *testing.T) {
	r := newRing(1 << 20)
	p := newPump(r, Stdout, 1, nil)
	p.feed([]byte("\xc9\xc9\xc9\n"), time.Unix(1, 0), false)
	lines := r.Tail(100)
	if len(lines) != 3 {
		t.Fatalf("stored %d lines for three invalid bytes: %+v", len(lines), lines)
	}
	for i, l := range lines {
		if strings.TrimSuffix(l.Text, cutMarker) != "\uFFFD" || l.Truncated != (i < 2) {
			t.Fatalf("line %d: %+v, want a replacement character, cut but for the last", i, l)
		}
	}
}
