package procs

import (
	"bytes"
	"sync"
	"time"
	"unicode/utf8"
)

// recOverhead is what one line's record costs besides its text; it is
// charged against the byte cap so that a flood of empty lines cannot grow
// memory past the cap either.
const recOverhead = 32

// lineFlags mark things about a stored line.
type lineFlags uint8

const (
	// flagCut: the line was longer than the line limit and was split; the
	// next line continues it. Nothing is thrown away.
	flagCut lineFlags = 1 << iota
	// flagTrunc: the line was cut short on purpose and what was left out is
	// kept elsewhere (a long message's note; the message store has it).
	flagTrunc
	// flagPlain is not stored: it tells appendLocked the text is printable
	// ASCII and tabs only (the pump checked its whole read), for the tap.
	flagPlain
)

type rec struct {
	off, n uint32
	ts     int64 // unix nanoseconds
	stream Stream
	flags  lineFlags
}

// chunk holds a run of consecutive lines: their bytes packed in data and one
// record each. Whole chunks are evicted and recycled, so the steady state of a
// flooding child allocates nothing.
type chunk struct {
	first uint64 // seq of recs[0]
	data  []byte
	recs  []rec
}

func (c *chunk) cost() int { return len(c.data) + len(c.recs)*recOverhead }

// ring is one unit's output: a byte-capped sequence of lines, numbered from 1.
// Writers (pipe readers, the IPC reader, the supervisor's event lines) append;
// readers copy lines out by sequence number. It is safe for concurrent use.
type ring struct {
	mu        sync.Mutex
	limit     int // bytes (text plus per-line overhead) kept at most
	chunkSize int
	chunks    []*chunk // oldest first; the last one is being filled
	spare     *chunk
	used      int     // cost of all chunks
	next      uint64  // seq the next line gets
	cuts      uint64  // lines split because they were too long
	tap       UnitTap // given each line as it is stored (Supervisor.Tap); nil: none
}

// firstChunk is a new chunk's first allocation; it grows as lines come.
const firstChunk = 1024

func newRing(limit int) *ring {
	// Eight chunks per ring: eviction drops at most an eighth of the history
	// at once, and a chunk still holds a maximum-length line.
	size := max(limit/8, DefaultMaxLine+recOverhead, 4096)
	return &ring{limit: max(limit, size*2), chunkSize: size, next: 1}
}

// appendLocked stores one line. The caller holds r.mu.
func (r *ring) appendLocked(ts int64, stream Stream, flags lineFlags, text []byte) uint64 {
	if len(text) > r.chunkSize-recOverhead {
		text = text[:r.chunkSize-recOverhead] // unreachable with the line limit; a guard
	}
	c := r.chunkFor(len(text))
	off := len(c.data)
	c.data = append(c.data, text...)
	c.recs = append(c.recs, rec{off: uint32(off), n: uint32(len(text)), ts: ts, stream: stream, flags: flags &^ flagPlain})
	if r.tap != nil {
		r.tap.Line(ts, stream, c.data[off:], flags&flagPlain != 0)
	}
	r.used += len(text) + recOverhead
	seq := r.next
	r.next++
	if flags&flagCut != 0 {
		r.cuts++
	}
	return seq
}

// appendPlainLocked stores the whole lines b starts with, up to its last
// newline or the first line longer than maxLine, or as many of them as the
// tap takes now, and returns how many bytes of b they took (0: none). b is
// printable ASCII, tabs and newlines only (the pump checked). A flood is
// all such lines: storing them in one loop, and giving the tap all of them
// in one call, saves the per-line calls of appendLocked (a third of the
// reading thread's time in the one-million-line benchmark). The caller
// holds r.mu.
func (r *ring) appendPlainLocked(ts int64, stream Stream, b []byte, maxLine int) int {
	maxLine = min(maxLine, r.chunkSize-recOverhead)
	if r.tap != nil {
		b = b[:r.tap.Lines(ts, stream, b, maxLine)]
	}
	taken := 0
	for {
		n := bytes.IndexByte(b[taken:], '\n')
		if n < 0 || n > maxLine {
			return taken
		}
		// appendLocked's store, written out: a call per line (not
		// inlined) made BenchmarkIngest 6 % slower.
		c := r.chunkFor(n)
		off := len(c.data)
		c.data = append(c.data, b[taken:taken+n]...)
		c.recs = append(c.recs, rec{off: uint32(off), n: uint32(n), ts: ts, stream: stream})
		r.used += n + recOverhead
		r.next++
		taken += n + 1
	}
}

// chunkFor returns the chunk a line of n bytes goes in, with room for it:
// the last one, or a new one if it would overflow chunkSize.
func (r *ring) chunkFor(n int) *chunk {
	var c *chunk
	if k := len(r.chunks); k > 0 {
		c = r.chunks[k-1]
		if c.cost()+n+recOverhead > r.chunkSize {
			c = nil
		}
	}
	if c == nil {
		c = r.newChunk()
	}
	if need := len(c.data) + n; need > cap(c.data) {
		// A chunk starts small and doubles up to chunkSize: most units
		// log little, and a full-size chunk each (128 KiB and more) made
		// a thousand quiet units look like 150 MB of live heap to the GC,
		// which then let garbage grow RSS that far before collecting.
		grown := make([]byte, len(c.data), min(max(2*cap(c.data), need), r.chunkSize))
		copy(grown, c.data)
		c.data = grown
	}
	return c
}

func (r *ring) newChunk() *chunk {
	// Evict whole chunks, oldest first, until a fresh one fits under the limit.
	for len(r.chunks) > 0 && r.used+r.chunkSize > r.limit {
		old := r.chunks[0]
		r.used -= old.cost()
		copy(r.chunks, r.chunks[1:])
		r.chunks[len(r.chunks)-1] = nil
		r.chunks = r.chunks[:len(r.chunks)-1]
		if r.spare == nil {
			r.spare = old
		}
	}
	c := r.spare
	r.spare = nil
	if c == nil {
		c = &chunk{data: make([]byte, 0, min(r.chunkSize, firstChunk)), recs: make([]rec, 0, 16)}
	}
	c.data, c.recs, c.first = c.data[:0], c.recs[:0], r.next
	r.chunks = append(r.chunks, c)
	return c
}

// Append stores one line and returns its sequence number.
func (r *ring) Append(t time.Time, stream Stream, text []byte) uint64 {
	return r.appendFlags(t, stream, 0, text)
}

// appendFlags is Append with flags.
func (r *ring) appendFlags(t time.Time, stream Stream, flags lineFlags, text []byte) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.appendLocked(t.UnixNano(), stream, flags, text)
}

// Last returns the newest line's sequence number (0 when empty).
func (r *ring) Last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next - 1
}

// firstLocked is the oldest kept line's sequence number.
func (r *ring) firstLocked() uint64 {
	if len(r.chunks) == 0 {
		return r.next
	}
	return r.chunks[0].first
}

// Since copies out up to max lines with sequence numbers above after, oldest
// first. missed counts lines above after that were already evicted.
func (r *ring) Since(after uint64, limit int) (lines []Line, missed uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	first := r.firstLocked()
	from := after + 1
	if from < first {
		missed = first - from
		from = first
	}
	return r.copyLocked(from, limit), missed
}

// Tail copies out the newest n lines, oldest first.
func (r *ring) Tail(n int) []Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	first := r.firstLocked()
	from := first
	if r.next-first > uint64(n) {
		from = r.next - uint64(n)
	}
	return r.copyLocked(from, n)
}

func (r *ring) copyLocked(from uint64, limit int) []Line {
	if from >= r.next || limit <= 0 {
		return nil
	}
	out := make([]Line, 0, min(uint64(limit), r.next-from))
	for _, c := range r.chunks {
		end := c.first + uint64(len(c.recs))
		if end <= from {
			continue
		}
		for i := from - c.first; i < uint64(len(c.recs)) && len(out) < limit; i++ {
			rc := c.recs[i]
			b := c.data[rc.off : rc.off+rc.n]
			text := string(b)
			if !utf8.Valid(b) {
				// Child output is bytes; what leaves the ring is valid UTF-8
				// so JSON and the terminal never see broken sequences.
				text = string([]rune(text))
			}
			if rc.flags&flagCut != 0 {
				text += cutMarker
			}
			out = append(out, Line{Seq: c.first + i, Time: time.Unix(0, rc.ts), Stream: rc.stream, Text: text,
				Truncated: rc.flags&(flagCut|flagTrunc) != 0})
		}
		from = end
		if len(out) >= limit {
			break
		}
	}
	return out
}

// cutMarker ends a line that was split because it exceeded the line limit;
// the following line carries on where it stopped.
const cutMarker = " ↩"

// RawLine locates one line copied out by AppendSince: its text is
// buf[Off:Off+Len] of the buffer returned with it.
type RawLine struct {
	Seq      uint64
	Time     int64 // unix nanoseconds
	Stream   Stream
	Cut      bool // split for length; the next line continues it
	Trunc    bool // cut short on purpose (see Line.Truncated)
	Off, Len int
}

// appendSince is Since without a string per line: it appends the texts of up
// to limit lines after `after` to buf and their records to recs.
func (r *ring) appendSince(after uint64, limit int, buf []byte, recs []RawLine) ([]byte, []RawLine, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var missed uint64
	from := after + 1
	if first := r.firstLocked(); from < first {
		missed = first - from
		from = first
	}
	n := 0
	for _, c := range r.chunks {
		end := c.first + uint64(len(c.recs))
		if end <= from {
			continue
		}
		i0 := from - c.first
		i1 := min(uint64(len(c.recs)), i0+uint64(max(limit-n, 0)))
		if i1 <= i0 {
			break
		}
		// A chunk's texts are packed in order: one copy takes them all.
		lo, hi := c.recs[i0].off, c.recs[i1-1].off+c.recs[i1-1].n
		base := len(buf) - int(lo)
		buf = append(buf, c.data[lo:hi]...)
		for i := i0; i < i1; i++ {
			rc := c.recs[i]
			recs = append(recs, RawLine{Seq: c.first + i, Time: rc.ts, Stream: rc.stream,
				Cut: rc.flags&flagCut != 0, Trunc: rc.flags&flagTrunc != 0, Off: base + int(rc.off), Len: int(rc.n)})
		}
		n += int(i1 - i0)
		from = end
		if n >= limit {
			break
		}
	}
	return buf, recs, missed
}
