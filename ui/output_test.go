package ui

import (
	"fmt"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

// A flood's batches keep the newest lines, numbered as if every line had
// been stored, in the buffer's own array: no batch grows a new one.
func TestLogBufKeepsTheNewestInItsArray(t *testing.T) {
	const keep = 100
	b := &logBuf{}
	seq := uint64(0)
	batch := func(n int) logsMsg {
		var msg logsMsg
		for range n {
			seq++
			msg.lines = append(msg.lines, procs.Line{Seq: seq, Text: fmt.Sprint(seq)})
		}
		return msg
	}
	b.apply(batch(30), keep)
	b.apply(batch(90), keep)
	if len(b.lines) != keep || b.lines[0].text != "21" || b.end() != 120 {
		t.Fatalf("after 120 lines: %d kept, first %q, end %d; want 100, \"21\", 120", len(b.lines), b.lines[0].text, b.end())
	}
	c := cap(b.lines)
	for range 50 {
		b.apply(batch(250), keep)
	}
	if len(b.lines) != keep || b.lines[keep-1].text != fmt.Sprint(seq) || b.end() != int(seq) {
		t.Fatalf("after %d lines: %d kept, last %q, end %d", seq, len(b.lines), b.lines[keep-1].text, b.end())
	}
	if cap(b.lines) != c {
		t.Fatalf("the array grew from %d to %d", c, cap(b.lines))
	}
}

// Lines already had are not counted against keep: a batch that repeats
// some keeps the buffer full.
func TestLogBufRepeatsDoNotShrinkIt(t *testing.T) {
	b := &logBuf{}
	batch := func(from, to int) logsMsg {
		var msg logsMsg
		for i := from; i <= to; i++ {
			msg.lines = append(msg.lines, procs.Line{Seq: uint64(i), Text: fmt.Sprint(i)})
		}
		return msg
	}
	b.apply(batch(1, 5), 5)
	b.apply(batch(4, 8), 5)
	if len(b.lines) != 5 || b.lines[0].text != "4" || b.lines[4].text != "8" {
		t.Fatalf("kept %d lines from %q; want 4..8", len(b.lines), b.lines[0].text)
	}
}
