package procs

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"reflect"
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

// Lines stored as runs (copied in whole, indexed when first read) and the
// same lines stored one at a time make the same ring: the same chunks
// evicted at the same lines, the same cost, and the same lines, times,
// streams and flags read back by every reader, from any line on. Runs are
// mixed with single lines (events whose text holds a '\n', cut pieces) so
// that indexing meets both, and reads come between writes, so that a
// chunk is read half indexed.
func TestRunsStoreWhatLinesDo(t *testing.T) {
	for seed := range int64(8) {
		rnd := rand.New(rand.NewSource(seed))
		runs, lines := newRing(64<<10), newRing(64<<10)
		// Half the seeds with taps: then the tap finds where runs end.
		ru, lu := &recUnit{lock: &runs.mu}, &recUnit{lock: &lines.mu}
		if seed%2 == 1 {
			runs.tap, lines.tap = ru, lu
		}
		if runs.chunkSize >= 64<<10 {
			t.Fatalf("chunk size %d: the ring would not evict", runs.chunkSize)
		}
		for op := range 300 {
			ts := int64(op / 3)
			st := Stream(rnd.Intn(2))
			switch rnd.Intn(5) {
			case 0: // a line stored alone on both: an event with a newline, or not
				text := []byte(fmt.Sprintf("event %d\nwith a newline", op))
				if rnd.Intn(2) == 0 {
					text = bytes.ReplaceAll(text, []byte("\n"), []byte(" "))
				}
				flags := lineFlags(rnd.Intn(2)) * flagCut
				runs.appendLocked(ts, Event, flags, text)
				lines.appendLocked(ts, Event, flags, text)
			default: // a read's worth of plain lines, some empty, some long
				var b []byte
				for range rnd.Intn(300) {
					b = append(b, bytes.Repeat([]byte{'a' + byte(rnd.Intn(26))}, rnd.Intn(3)*rnd.Intn(400))...)
					b = append(b, '\n')
				}
				// Newlines marked as the pump marks them (where the CPU
				// can), or found by LineEnd.
				fit := Fit{MaxLine: DefaultMaxLine}
				if seed%4 < 2 {
					_, fit.nl = plainLines(b, nil)
				}
				if n := runs.appendPlainLocked(ts, st, b, fit); n != len(b) {
					t.Fatalf("seed %d: a run stored %d of %d bytes", seed, n, len(b))
				}
				for rest := b; len(rest) > 0; {
					i := bytes.IndexByte(rest, '\n')
					lines.appendLocked(ts, st, 0, rest[:i])
					rest = rest[i+1:]
				}
			}
			if runs.next != lines.next || runs.used != lines.used || runs.firstLocked() != lines.firstLocked() || len(runs.chunks) != len(lines.chunks) {
				t.Fatalf("seed %d op %d: runs next %d used %d first %d chunks %d; lines next %d used %d first %d chunks %d", seed, op,
					runs.next, runs.used, runs.firstLocked(), len(runs.chunks), lines.next, lines.used, lines.firstLocked(), len(lines.chunks))
			}
			if rnd.Intn(4) == 0 {
				after := runs.firstLocked() - 1 + uint64(rnd.Int63n(int64(runs.next-runs.firstLocked()+1)))
				limit := 1 + rnd.Intn(2000)
				sameLines(t, seed, op, runs, lines, after, limit)
			}
		}
		sameLines(t, seed, -1, runs, lines, 0, 1<<20)
		if !reflect.DeepEqual(ru.lines, lu.lines) {
			t.Fatalf("seed %d: the tap was given %d lines from runs, %d one at a time", seed, len(ru.lines), len(lu.lines))
		}
	}
}

// sameLines fails unless rings a and b give the same lines after seq after
// through Since, AppendSince and Tail.
func sameLines(t *testing.T, seed int64, op int, a, b *ring, after uint64, limit int) {
	t.Helper()
	la, ma := a.Since(after, limit)
	lb, mb := b.Since(after, limit)
	if ma != mb || !reflect.DeepEqual(la, lb) {
		t.Fatalf("seed %d op %d: Since(%d, %d): %d lines, missed %d; want %d lines, missed %d", seed, op, after, limit, len(la), ma, len(lb), mb)
	}
	bufA, recsA, ma := a.appendSince(after, limit, nil, nil)
	bufB, recsB, mb := b.appendSince(after, limit, nil, nil)
	if ma != mb || len(recsA) != len(recsB) || len(recsA) != len(la) {
		t.Fatalf("seed %d op %d: appendSince: %d lines, missed %d; want %d, %d", seed, op, len(recsA), ma, len(recsB), mb)
	}
	for i := range recsA {
		ra, rb := recsA[i], recsB[i]
		if string(bufA[ra.Off:ra.Off+ra.Len]) != string(bufB[rb.Off:rb.Off+rb.Len]) || ra.Seq != rb.Seq || ra.Time != rb.Time ||
			ra.Stream != rb.Stream || ra.Cut != rb.Cut || ra.Trunc != rb.Trunc {
			t.Fatalf("seed %d op %d: appendSince line %d: %+v, want %+v", seed, op, i, ra, rb)
		}
	}
	if ta, tb := a.Tail(limit), b.Tail(limit); !reflect.DeepEqual(ta, tb) {
		t.Fatalf("seed %d op %d: Tail(%d) differs", seed, op, limit)
	}
}

// Fit.LineEnd finds the same line ends from the newlines plainLines marks
// as from the text itself, from every offset of texts of every length
// (the assembly's 64-byte blocks and the tail after them), starting
// anywhere in the read, as the ring gives a run after a long line.
func TestLineEndFromMarkedNewlines(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for n := range 300 {
		read := make([]byte, n)
		for i := range read {
			read[i] = 'a'
			if rnd.Intn(8) == 0 || n > 200 && i > 150 && rnd.Intn(40) == 0 {
				read[i] = '\n'
			}
		}
		plain, nl := plainLines(read, nil)
		if !plain {
			t.Fatalf("%q: not plain", read)
		}
		for base := 0; base <= n; base += 1 + rnd.Intn(5) {
			text := read[base:]
			marked, looked := Fit{nl: nl, base: base}, Fit{}
			for from := 0; from <= len(text); from++ {
				if got, want := marked.LineEnd(text, from), looked.LineEnd(text, from); got != want {
					t.Fatalf("read of %d, text from %d, line from %d: LineEnd %d, want %d", n, base, from, got, want)
				}
			}
		}
	}
}

// A read from the middle of a chunk with no limit to speak of (the
// public Since and AppendSince take any) gets every line after it.
func TestSinceWithAHugeLimit(t *testing.T) {
	r := newRing(1 << 20)
	for i := range 10 {
		r.Append(time.Unix(0, 0), Stdout, fmt.Appendf(nil, "line %d", i))
	}
	if lines, _ := r.Since(3, math.MaxInt); len(lines) != 7 || lines[0].Text != "line 3" {
		t.Fatalf("Since(3, MaxInt): %d lines %+v, want lines 4 to 10", len(lines), lines)
	}
	if _, recs, _ := r.appendSince(3, math.MaxInt, nil, nil); len(recs) != 7 {
		t.Fatalf("appendSince(3, MaxInt): %d lines, want 7", len(recs))
	}
}

// A run that meets a full chunk while its tap is full waits before it
// takes a new chunk: a new one would evict lines with nothing yet to
// take their place.
func TestAFullTapTakesNoNewChunk(t *testing.T) {
	r := newRing(64 << 10)
	u := &recUnit{lock: &r.mu}
	r.tap = u
	line := append(bytes.Repeat([]byte("y"), 99), '\n')
	for r.next < 2000 { // past the limit: the ring evicts
		r.appendPlainLocked(0, Stdout, line, Fit{MaxLine: DefaultMaxLine})
	}
	c := r.chunks[len(r.chunks)-1]
	for r.roomFor(c, line, Fit{MaxLine: DefaultMaxLine, Overhead: recOverhead - 1}) {
		r.appendPlainLocked(0, Stdout, line, Fit{MaxLine: DefaultMaxLine})
	}
	chunks, first := len(r.chunks), r.firstLocked()
	u.full = true
	if n := r.appendPlainLocked(0, Stdout, line, Fit{MaxLine: DefaultMaxLine}); n != 0 {
		t.Fatalf("a full tap took %d bytes", n)
	}
	if len(r.chunks) != chunks || r.firstLocked() != first {
		t.Fatalf("a full tap's run took a new chunk: %d chunks (was %d), first line %d (was %d)", len(r.chunks), chunks, r.firstLocked(), first)
	}
}
