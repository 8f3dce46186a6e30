package logfile

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// sink is one unit's procs.UnitTap: its lines are formatted as they are
// stored, by the thread that read them (their bytes still in its cache),
// into a block the Writer's thread writes out. Its methods are called
// with the unit's ring locked (Wait aside), so the lines arrive in order.
type sink struct {
	w    *Writer
	name string

	mu    sync.Locker // the unit's ring's: held when the sink is given anything
	cur   []byte      // the block being filled (nil: none)
	big   bool        // the last block filled up: the next is a big one
	dirty bool        // the Writer collects cur after the pace (markDirty)
	lost  uint64      // lines dropped since the last one kept: said before the next
	// queued is the bytes of this unit's blocks queued or being written:
	// only a unit with some waits for room (Full), not every unit that
	// logs while another floods.
	queued  atomic.Int64
	removed bool   // Removed: each later block closes the file after it
	note    []byte // the lost-lines note, built here
	// prefix is what a line of stream prefixSt in millisecond prefixMS
	// starts with (time, stream, spaces), formatted once for them all: a
	// flooding unit writes hundreds of lines per millisecond.
	prefix   []byte
	prefixMS int64
	prefixSt procs.Stream
}

// Line formats one line into the unit's block; a line there is no room for
// (the backlog is full and the unit cannot wait) is counted, and the next
// line kept is preceded by a line saying how many went.
func (s *sink) Line(ts int64, st procs.Stream, text []byte, plain bool) {
	if s.lost > 0 && !s.sayLost(ts, false) {
		s.lose()
		return
	}
	if !s.put(ts, st, text, plain, false) {
		s.lose()
	}
}

// Lines formats a run of plain lines the way Line does, with their prefix
// built once. It stops where fit does, or where the unit should wait for
// the disk (Full) before a new block, as the pump waits before a line.
func (s *sink) Lines(ts int64, st procs.Stream, text []byte, fit procs.Fit) (int, int) {
	s.setPrefix(ts, st)
	// The block and prefix in locals: a store to s.cur a line, with its
	// write barrier check, was a fifth of this loop.
	cur, prefix := s.cur, s.prefix
	taken, lines := 0, 0
	for {
		e := fit.LineEnd(text, taken)
		if e < 0 || !fit.Fits(taken, lines, e-taken) {
			break
		}
		if s.lost == 0 && len(cur)+len(prefix)+e+1-taken <= cap(cur) {
			cur = append(append(cur, prefix...), text[taken:e+1]...)
		} else {
			s.cur = cur
			if s.Full() {
				return taken, lines
			}
			s.Line(ts, st, text[taken:e], true) // a new block, or the lost lines said first
			s.setPrefix(ts, st)                 // the note has its own
			cur, prefix = s.cur, s.prefix
		}
		taken = e + 1
		lines++
	}
	s.cur = cur
	return taken, lines
}

// setPrefix makes s.prefix the start of a line of st at ts.
func (s *sink) setPrefix(ts int64, st procs.Stream) {
	ms := ts / int64(time.Millisecond)
	if s.prefix != nil && ms == s.prefixMS && st == s.prefixSt {
		return
	}
	s.prefix = time.Unix(0, ts).AppendFormat(s.prefix[:0], TimeFormat)
	s.prefix = append(append(append(s.prefix, ' '), st.String()...), ' ')
	s.prefixMS, s.prefixSt = ms, st
}

// sayLostNow says how many lines were lost, if any, past the backlog's
// limit if need be: at a collection, or the unit's removal.
func (s *sink) sayLostNow() {
	if s.lost > 0 {
		s.sayLost(time.Now().UnixNano(), true)
	}
}

// handOver queues the block being filled for the Writer (none: nil, for
// shut alone); shut closes the file after it.
func (s *sink) handOver(shut bool) {
	s.w.push(pending{s: s, b: s.cur, shut: shut})
	s.cur = nil
}

// lose counts a dropped line, and has the Writer's next collection say so
// if no line kept comes before it.
func (s *sink) lose() {
	s.lost++
	if !s.dirty {
		s.dirty = true
		s.w.markDirty(s)
	}
}

// sayLost puts the line saying how many lines were lost; force puts it
// past the backlog's limit (a collection, the unit's removal).
func (s *sink) sayLost(ts int64, force bool) bool {
	s.note = strconv.AppendUint(append(s.note[:0], "kelpie: "...), s.lost, 10)
	s.note = append(s.note, " lines lost here (the disk was slower than the unit)"...)
	if !s.put(ts, procs.Event, s.note, true, force) {
		return false
	}
	s.lost = 0
	return true
}

// Lost counts lines the ring dropped before the Writer was started.
func (s *sink) Lost(n uint64) {
	if n > 0 {
		s.lost += n - 1
		s.lose()
	}
}

// Full says the backlog is full (and the Writer is keeping up): the unit's
// pumps wait before their next line.
func (s *sink) Full() bool {
	w := s.w
	return w.inuse.Load() >= w.opts.Backlog && s.queued.Load() > 0 && !w.letGo.Load() && !w.ended.Load()
}

// Wait waits for room in the backlog (see Writer.waitRoom).
func (s *sink) Wait() { s.w.waitRoom() }

// Removed queues what the unit has left, and the closing of its file.
func (s *sink) Removed() {
	s.sayLostNow()
	s.removed = true
	s.handOver(true)
}

// put appends one formatted line ; false: no block to put it in.
func (s *sink) put(ts int64, st procs.Stream, text []byte, plain, force bool) bool {
	s.setPrefix(ts, st)
	n := len(s.prefix) + len(text) + 1
	if len(s.cur)+n > cap(s.cur) && !s.next(n, force) {
		return false
	}
	b := append(s.cur, s.prefix...)
	if !plain {
		b = appendPlain(b, text)
	} else {
		b = append(b, text...)
	}
	s.cur = append(b, '\n')
	return true
}

// next queues the full block, if any, and takes a new one for a line of n
// bytes.
func (s *sink) next(n int, force bool) bool {
	w := s.w
	if s.cur != nil {
		s.big = true // it filled before the pace collected it: a flood
		s.handOver(s.removed)
	}
	s.cur = w.block(n, s.big, force)
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
