package procs

import (
	"bytes"
	"slices"
	"sort"
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

// span gives the lines of a chunk from index from on, up to the next span's,
// their time, stream and flags. The lines of one read share them, so a
// flood's run of lines costs one span, not a record per line.
type span struct {
	from   uint32
	stream Stream
	flags  lineFlags
	ts     int64 // unix nanoseconds
}

// chunk holds a run of consecutive lines: their texts packed in data, each
// followed by '\n', where line i starts at offs[i]. Whole chunks are evicted
// and recycled, so the steady state of a flooding child allocates nothing.
//
// A run of plain lines (appendPlainLocked) is copied in whole and not indexed:
// offs covers the first len(offs) lines, and the rest (whose texts hold no
// '\n') are found from scan on when first read (index). A line stored alone
// after them stays unindexed too unless its text holds a '\n' (so a read's
// first line, which began in the read before, does not index the chunk). A
// flood's reading thread then does no work per line for the ring, and lines
// nobody reads (a headless kelpie's, or those a screen skips) are never
// indexed.
type chunk struct {
	first uint64 // seq of the chunk's first line
	data  []byte
	n     int      // lines held
	offs  []uint32 // start of each indexed line in data
	scan  int      // where the first unindexed line starts (len(offs) < n)
	spans []span
}

// cost is what the chunk counts against the ring's cap: its texts and
// recOverhead per line (the '\n' after each is part of that).
func (c *chunk) cost() int { return len(c.data) + c.n*(recOverhead-1) }

// index makes sure the first upto lines (at most n) are indexed.
func (c *chunk) index(upto int) {
	upto = min(upto, c.n)
	for len(c.offs) < upto {
		c.offs = append(c.offs, uint32(c.scan))
		c.scan += bytes.IndexByte(c.data[c.scan:], '\n') + 1
	}
}

// starts returns in at where lines i0 to i1 start, and where the last
// one ends (after its '\n'): from the index, or, for the newest lines of a
// chunk not indexed yet, found back from its end, so that a screen reading
// the newest lines of a flood does not index all of it.
func (c *chunk) starts(i0, i1 int, at []uint32) []uint32 {
	at = at[:0]
	if i1 == c.n && i0 >= len(c.offs) && c.n-i0 < i0-len(c.offs) {
		// No '\n' in the texts of lines not indexed.
		at = slices.Grow(at, i1-i0+1)[:i1-i0+1]
		end := len(c.data)
		at[i1-i0] = uint32(end)
		for j := i1 - i0 - 1; j >= 0; j-- {
			end = bytes.LastIndexByte(c.data[:end-1], '\n') + 1
			at[j] = uint32(end)
		}
		return at
	}
	c.index(i1 + 1)
	at = append(at, c.offs[i0:i1]...)
	if i1 < c.n {
		return append(at, c.offs[i1])
	}
	return append(at, uint32(len(c.data)))
}

// spanAt is the index of the span line i is in.
func (c *chunk) spanAt(i int) int {
	return sort.Search(len(c.spans), func(k int) bool { return int(c.spans[k].from) > i }) - 1
}

// walk calls f for each line from i0 on whose start at gives (starts),
// with its text and its span.
func (c *chunk) walk(i0 int, at []uint32, f func(i int, text []byte, sp *span)) {
	k := c.spanAt(i0)
	for j := range len(at) - 1 {
		i := i0 + j
		for k+1 < len(c.spans) && int(c.spans[k+1].from) <= i {
			k++
		}
		f(i, c.data[at[j]:at[j+1]-1], &c.spans[k])
	}
}

// mark starts a span at line i unless the last one has the same time,
// stream and flags.
func (c *chunk) mark(i int, ts int64, stream Stream, flags lineFlags) {
	if k := len(c.spans); k > 0 {
		if sp := c.spans[k-1]; sp.ts == ts && sp.stream == stream && sp.flags == flags {
			return
		}
	}
	c.spans = append(c.spans, span{from: uint32(i), stream: stream, flags: flags, ts: ts})
}

// ring is one unit's output: a byte-capped sequence of lines, numbered from 1.
// Writers (pipe readers, the IPC reader, the supervisor's event lines) append;
// readers copy lines out by sequence number. It is safe for concurrent use.
type ring struct {
	mu        sync.Mutex
	limit     int // bytes (text plus per-line overhead) kept at most
	chunkSize int
	chunks    []*chunk // oldest first; the last one is being filled
	spare     *chunk
	used      int      // cost of all chunks
	next      uint64   // seq the next line gets
	cuts      uint64   // lines split because they were too long
	tap       UnitTap  // given each line as it is stored (Supervisor.Tap); nil: none
	at        []uint32 // scratch for each
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
	if len(c.offs) < c.n && bytes.IndexByte(text, '\n') >= 0 {
		// A '\n' in the text (an event's) would end a line for index:
		// index what is before it now, and this line with them.
		c.index(c.n)
	}
	off := len(c.data)
	c.data = append(append(c.data, text...), '\n')
	if len(c.offs) == c.n {
		c.offs = append(c.offs, uint32(off))
	}
	c.mark(c.n, ts, stream, flags&^flagPlain)
	c.n++
	if r.tap != nil {
		r.tap.Line(ts, stream, c.data[off:off+len(text)], flags&flagPlain != 0)
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
// newline or the first line longer than fit.MaxLine, or as many of them as
// the tap takes now, and returns how many bytes of b they took (0: none). b
// is printable ASCII, tabs and newlines only (the pump checked, and may have
// marked its newlines in fit). A flood is all such lines: they are copied in
// as runs, a run per chunk they go in, and given to the tap in one call
// each, which finds where each line ends and where the chunk is full (Fit):
// the per-line work of appendLocked was half the reading thread's time in
// the one-million-line benchmark. The caller holds r.mu.
func (r *ring) appendPlainLocked(ts int64, stream Stream, b []byte, fit Fit) int {
	fit.MaxLine = min(fit.MaxLine, r.chunkSize-recOverhead)
	fit.Overhead = recOverhead - 1
	base := fit.base
	var c *chunk
	if k := len(r.chunks); k > 0 {
		c = r.chunks[k-1]
	}
	taken := 0
	for {
		if c == nil || !r.roomFor(c, b[taken:], fit) {
			if r.tap != nil && r.tap.Full() {
				// The unit waits first: a new chunk now would evict
				// lines before any line is there to take their place.
				return taken
			}
			c = r.newChunk()
		}
		fit.Room, fit.base = r.chunkSize-c.cost(), base+taken
		var n, lines int
		if r.tap != nil {
			n, lines = r.tap.Lines(ts, stream, b[taken:], fit)
		} else {
			n, lines = fit.Take(b[taken:])
		}
		if n > 0 {
			if len(c.offs) == c.n {
				c.scan = len(c.data)
			}
			r.grow(c, len(c.data)+n)
			c.data = append(c.data, b[taken:taken+n]...)
			c.mark(c.n, ts, stream, 0)
			c.n += lines
			r.used += n + lines*(recOverhead-1)
			r.next += uint64(lines)
			taken += n
		}
		// Only a full chunk goes on in the next: a line too long, an
		// unfinished one, or a full tap ends the run.
		if taken == len(b) || r.roomFor(c, b[taken:], fit) {
			return taken
		}
	}
}

// roomFor reports whether chunk c has room for the first line of b, or
// whether that line does not go in a run anyway (too long, unfinished):
// false means the run goes on in a new chunk.
func (r *ring) roomFor(c *chunk, b []byte, fit Fit) bool {
	fit.Room = r.chunkSize - c.cost()
	n := bytes.IndexByte(b, '\n')
	return n < 0 || n > fit.MaxLine || fit.Fits(0, 0, n)
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
	r.grow(c, len(c.data)+n+1)
	return c
}

// grow makes room for need bytes in c.data.
func (r *ring) grow(c *chunk, need int) {
	if need > cap(c.data) {
		// A chunk starts small and doubles up to chunkSize: most units
		// log little, and a full-size chunk each (128 KiB and more) made
		// a thousand quiet units look like 150 MB of live heap to the GC,
		// which then let garbage grow RSS that far before collecting.
		grown := make([]byte, len(c.data), min(max(2*cap(c.data), need), r.chunkSize))
		copy(grown, c.data)
		c.data = grown
	}
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
		c = &chunk{data: make([]byte, 0, min(r.chunkSize, firstChunk)), offs: make([]uint32, 0, 16)}
	}
	c.data, c.offs, c.spans, c.first, c.n, c.scan = c.data[:0], c.offs[:0], c.spans[:0], r.next, 0, 0
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
	r.each(from, limit, func(c *chunk, i0 int, at []uint32) {
		c.walk(i0, at, func(i int, b []byte, sp *span) {
			text := string(b)
			if !utf8.Valid(b) {
				// Child output is bytes; what leaves the ring is valid UTF-8
				// so JSON and the terminal never see broken sequences.
				text = string([]rune(text))
			}
			if sp.flags&flagCut != 0 {
				text += cutMarker
			}
			out = append(out, Line{Seq: c.first + uint64(i), Time: time.Unix(0, sp.ts), Stream: sp.stream, Text: text,
				Truncated: sp.flags&(flagCut|flagTrunc) != 0})
		})
	})
	return out
}

// each calls f for each chunk holding lines from seq from on, with the
// index of the first line to read and where each starts (starts), up to
// limit lines in all.
func (r *ring) each(from uint64, limit int, f func(c *chunk, i0 int, at []uint32)) {
	n := 0
	for _, c := range r.chunks {
		end := c.first + uint64(c.n)
		if end <= from {
			continue
		}
		i0 := int(from - c.first)
		i1 := i0 + min(c.n-i0, limit-n) // not i0+limit-n: limit may be MaxInt
		if i1 <= i0 {
			return
		}
		r.at = c.starts(i0, i1, r.at)
		f(c, i0, r.at)
		n += i1 - i0
		from = end
	}
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
	r.each(from, limit, func(c *chunk, i0 int, at []uint32) {
		// A chunk's texts are packed in order: one copy takes them all.
		lo := int(at[0])
		base := len(buf) - lo
		buf = append(buf, c.data[lo:at[len(at)-1]]...)
		c.walk(i0, at, func(i int, text []byte, sp *span) {
			recs = append(recs, RawLine{Seq: c.first + uint64(i), Time: sp.ts, Stream: sp.stream,
				Cut: sp.flags&flagCut != 0, Trunc: sp.flags&flagTrunc != 0, Off: base + int(at[i-i0]), Len: len(text)})
		})
	})
	return buf, recs, missed
}
