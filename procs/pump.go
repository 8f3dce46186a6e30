package procs

import (
	"bytes"
	"time"
)

// pipeSize is asked of the kernel for every output pipe: a child that writes
// in bursts fills it without waiting for kelpie to be scheduled.
const pipeSize = 1 << 20

// readSize is how much one read takes from a pipe.
const readSize = 256 << 10

// coalesce is the pause after a round of short reads (see readLoop.run).
const coalesce = time.Millisecond

// pump takes what is read from one output pipe of a unit (by the shared
// reader threads, see readers), splits it into lines, and stores them in the
// unit's ring. It never stops reading because of what it
// reads: a line longer than maxLine is split (each piece but the last marked
// as cut) rather than buffered without bound. After each read it announces the
// new lines once, so a flood costs one notification per read, not per line.
type pump struct {
	ring    *ring
	stream  Stream
	maxLine int
	notify  func(last uint64)
	told    uint64 // the newest line announced (notify)
	// mayWait: the pump may wait for the ring's Tap (room) before storing
	// a line; false for one fed on the owner goroutine, which never waits.
	mayWait bool
	watch   []*logWatch // log probes matching the run's lines as they arrive

	partial []byte   // the unfinished line carried between reads
	nl      []uint64 // the read's newlines, when plainLines marks them
	clean   []byte   // scratch for sanitising
	last    uint64   // the newest line stored
	// asciiRun: the lines being stored are printable ASCII and tabs (the
	// read they came in was, see plainLines): no line-by-line check.
	asciiRun bool
}

func newPump(r *ring, stream Stream, maxLine int, notify func(uint64)) *pump {
	return &pump{ring: r, stream: stream, maxLine: maxLine, notify: notify}
}

// feed stores every complete line in b; the unfinished tail waits for more
// input, or is stored too at eof.
func (p *pump) feed(b []byte, now time.Time, eof bool) {
	ts := now.UnixNano()
	r := p.ring
	// Most reads are printable ASCII lines only: one pass over the read
	// says so for all of its lines at once.
	var ascii bool
	ascii, p.nl = plainLines(b, p.nl)
	read := len(b)
	r.mu.Lock()
	for len(b) > 0 {
		if ascii && len(p.partial) == 0 {
			// A flood's lines go in runs; a line too long for one stops
			// a run, and is stored below.
			p.room()
			fit := Fit{MaxLine: p.maxLine, nl: p.nl, base: read - len(b)}
			if n := r.appendPlainLocked(ts, p.stream, b, fit); n > 0 {
				p.watchRun(b[:n])
				p.last = r.next - 1
				b = b[n:]
				continue
			}
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := b[:i]
		b = b[i+1:]
		p.asciiRun = ascii
		if len(p.partial) > 0 {
			p.partial = append(p.partial, line...)
			line = p.partial
			p.partial = p.partial[:0]
			p.asciiRun = false // its start came in another read
		}
		p.store(ts, line)
	}
	p.asciiRun = false
	if len(b) > 0 {
		p.partial = append(p.partial, b...)
	}
	// Over-long unfinished lines are stored in pieces now: the child may never
	// print a newline, and kelpie must not hold its output hostage.
	for first := true; len(p.partial) > p.maxLine; first = false {
		p.storePiece(ts, p.partial[:p.maxLine], flagCut, first)
		p.partial = append(p.partial[:0], p.partial[p.maxLine:]...)
	}
	if eof && len(p.partial) > 0 {
		p.store(ts, p.partial)
		p.partial = p.partial[:0]
	}
	r.mu.Unlock()
	p.tell()
}

// store saves one complete line (split if longer than maxLine). r.mu is held.
func (p *pump) store(ts int64, line []byte) {
	first := true // only the first piece may wait for room (see storePiece)
	for len(line) > p.maxLine {
		p.storePiece(ts, line[:p.maxLine], flagCut, first)
		line, first = line[p.maxLine:], false
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	for _, w := range p.watch {
		w.line(line)
	}
	p.storePiece(ts, line, 0, first)
}

// storePiece stores one piece of a line (p.last is then its seq); wait
// says it may wait for room first (room), which only a line's first piece
// does: the rest of a line follows under the same hold of the lock.
func (p *pump) storePiece(ts int64, text []byte, flags lineFlags, wait bool) {
	if !p.asciiRun && !plain(text) {
		p.clean = sanitise(p.clean[:0], text)
		text = p.clean
	}
	// Sanitising can lengthen a piece (U+FFFD takes three bytes for one
	// invalid byte), and the ring would truncate a line longer than a chunk
	// holds wherever it ends, maybe inside a rune or colour sequence. Store
	// such a piece in parts cut between runes and sequences instead.
	limit := min(p.maxLine, p.ring.chunkSize-recOverhead)
	if wait {
		p.room()
	}
	for len(text) > limit {
		k := cutText(text, limit)
		if k >= len(text) {
			break // no cut before its end (one rune or sequence): it goes whole
		}
		p.last = p.ring.appendLocked(ts, p.stream, flags|flagCut, text[:k])
		text = text[k:]
	}
	if p.asciiRun {
		flags |= flagPlain
	}
	p.last = p.ring.appendLocked(ts, p.stream, flags, text)
}

// watchRun has the log watches see each line of a run the ring stored
// (store shows them the others).
func (p *pump) watchRun(run []byte) {
	for _, w := range p.watch {
		for rest := run; len(rest) > 0 && !w.done(); {
			i := bytes.IndexByte(rest, '\n')
			w.line(rest[:i])
			rest = rest[i+1:]
		}
	}
}

// room waits, r.mu held, while the ring's Tap (the log files) is full:
// the unit then goes at the Tap's pace, its pipe filling and its writes
// blocking, as under `| cat > file`, and no line is lost. The Tap gives up
// waiting itself when its disk is slow or its writer stuck, so the unit
// never stops for long.
func (p *pump) room() {
	r := p.ring
	if t := r.tap; t != nil && p.mayWait && t.Full() {
		r.mu.Unlock()
		p.tell() // the lines stored so far are not held back by the wait
		t.Wait()
		r.mu.Lock()
	}
}

// tell announces the lines stored since the last announcement (r.mu not
// held).
func (p *pump) tell() {
	if p.last != p.told && p.notify != nil {
		p.notify(p.last)
		p.told = p.last
	}
}
