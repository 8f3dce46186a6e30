package logfile

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// sink is one unit's procs.UnitTap: its lines are formatted as they are
// stored, by the thread that read them (their bytes still in its cache),
// into a block the Writer's thread writes out whole. Its methods are called
// with the unit's ring locked (Wait aside), so the lines arrive in order.
type sink struct {
	w    *Writer
	name string

	mu    sync.Locker // the unit's ring's: held when the sink is given anything
	cur   []byte      // the block being filled (nil: none)
	big   bool        // the last block filled up: the next is a big one
	dirty bool        // the Writer collects cur after the pace (markDirty)
	lost  uint64      // lines dropped since the last one kept: said before the next
	// stamp is the formatted time of millisecond stampMS: a flooding unit
	// writes hundreds of lines per millisecond.
	stamp   []byte
	stampMS int64
}

// Line formats one line into the unit's block; a line there is no room for
// (the backlog is full and the unit cannot wait) is counted, and the next
// line kept is preceded by a line saying how many went.
func (s *sink) Line(ts int64, st procs.Stream, text []byte, plain bool) {
	if s.lost > 0 {
		note := fmt.Sprintf("kelpie: %d lines lost here (the disk was slower than the unit)", s.lost)
		if !s.put(ts, procs.Event, []byte(note), true) {
			s.lost++
			return
		}
		s.lost = 0
	}
	if !s.put(ts, st, text, plain) {
		s.lost++
	}
}

// Lost counts lines the ring dropped before the Writer was started.
func (s *sink) Lost(n uint64) { s.lost += n }

// Full says the backlog is full (and the Writer is keeping up): the unit's
// pumps wait before their next line.
func (s *sink) Full() bool {
	w := s.w
	return w.inuse.Load() >= w.opts.Backlog && !w.letGo.Load() && !w.ended.Load()
}

// Wait waits for room in the backlog (see Writer.waitRoom).
func (s *sink) Wait() { s.w.waitRoom() }

// Removed queues what the unit has left, and the closing of its file.
func (s *sink) Removed() {
	b := s.cur
	s.cur = nil
	s.w.push(pending{s: s, b: b, shut: true})
}

// put appends one formatted line ; false: no block to put it in.
func (s *sink) put(ts int64, st procs.Stream, text []byte, plain bool) bool {
	if ms := ts / int64(time.Millisecond); ms != s.stampMS || s.stamp == nil {
		s.stamp, s.stampMS = time.Unix(0, ts).AppendFormat(s.stamp[:0], TimeFormat), ms
	}
	name := st.String()
	n := len(s.stamp) + len(name) + len(text) + 3
	if len(s.cur)+n > cap(s.cur) && !s.next(n) {
		return false
	}
	b := append(s.cur, s.stamp...)
	b = append(append(append(b, ' '), name...), ' ')
	if !plain && bytes.IndexByte(text, 0x1b) >= 0 {
		b = appendPlain(b, text)
	} else {
		b = append(b, text...)
	}
	s.cur = append(b, '\n')
	return true
}

// next queues the full block, if any, and takes a new one for a line of n
// bytes.
func (s *sink) next(n int) bool {
	w := s.w
	if len(s.cur) > 0 {
		s.big = true // it filled before the pace collected it: a flood
		w.push(pending{s: s, b: s.cur})
	} else if s.cur != nil {
		w.giveBack(s.cur)
	}
	s.cur = w.block(n, s.big)
	if s.cur == nil {
		s.big = false // try for a small one next time
		return false
	}
	if !s.dirty {
		s.dirty = true
		w.markDirty(s)
	}
	return true
}
