package procs

import (
	"bytes"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// pipeSize is asked of the kernel for every output pipe: a child that writes
// in bursts fills it without waiting for kelpie to be scheduled.
const pipeSize = 1 << 20

// readSize is how much one read takes from a pipe.
const readSize = 256 << 10

// coalesce is the pause after a short read (see pump.run).
const coalesce = time.Millisecond

// pump reads one output pipe of a unit until EOF, splits it into lines, and
// stores them in the unit's ring. It never stops reading because of what it
// reads: a line longer than maxLine is split (each piece but the last marked
// as cut) rather than buffered without bound. After each read it announces the
// new lines once, so a flood costs one notification per read, not per line.
type pump struct {
	ring    *ring
	stream  Stream
	maxLine int
	notify  func(last uint64)

	buf     []byte // read buffer
	partial []byte // the unfinished line carried between reads
	clean   []byte // scratch for sanitising
}

func newPump(r *ring, stream Stream, maxLine int, notify func(uint64)) *pump {
	return &pump{ring: r, stream: stream, maxLine: maxLine, notify: notify}
}

// run reads f until EOF or error and closes it.
func (p *pump) run(f *os.File) {
	defer f.Close()
	p.buf = make([]byte, readSize)
	for {
		n, err := f.Read(p.buf)
		if n > 0 {
			p.feed(p.buf[:n], time.Now(), false)
		}
		if n > 0 && n < len(p.buf)/2 && err == nil {
			// A short read means we are keeping up with the child line by
			// line, waking on each of its writes. Pausing lets its output
			// gather in the (large) pipe buffer instead: the child then
			// writes without waking anyone, and one read takes a thousand
			// lines. A millisecond of delay is nothing in a log.
			time.Sleep(coalesce)
		}
		if err != nil {
			if len(p.partial) > 0 {
				p.feed(nil, time.Now(), true)
			}
			// EOF or a read error ends the pipe alike; the process's
			// exit is reported by the reaper, not here.
			return
		}
	}
}

// feed stores every complete line in b; the unfinished tail waits for more
// input, or is stored too at eof.
func (p *pump) feed(b []byte, now time.Time, eof bool) {
	ts := now.UnixNano()
	r := p.ring
	r.mu.Lock()
	var last uint64
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := b[:i]
		b = b[i+1:]
		if len(p.partial) > 0 {
			p.partial = append(p.partial, line...)
			line = p.partial
			p.partial = p.partial[:0]
		}
		last = p.store(ts, line)
	}
	if len(b) > 0 {
		p.partial = append(p.partial, b...)
	}
	// Over-long unfinished lines are stored in pieces now: the child may never
	// print a newline, and kelpie must not hold its output hostage.
	for len(p.partial) > p.maxLine {
		last = p.storePiece(ts, p.partial[:p.maxLine], flagCut)
		p.partial = append(p.partial[:0], p.partial[p.maxLine:]...)
	}
	if eof && len(p.partial) > 0 {
		last = p.store(ts, p.partial)
		p.partial = p.partial[:0]
	}
	r.mu.Unlock()
	if last != 0 && p.notify != nil {
		p.notify(last)
	}
}

// store saves one complete line (split if longer than maxLine). r.mu is held.
func (p *pump) store(ts int64, line []byte) uint64 {
	var last uint64
	for len(line) > p.maxLine {
		last = p.storePiece(ts, line[:p.maxLine], flagCut)
		line = line[p.maxLine:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return max(last, p.storePiece(ts, line, 0))
}

func (p *pump) storePiece(ts int64, text []byte, flags lineFlags) uint64 {
	if !plain(text) {
		p.clean = sanitise(p.clean[:0], text)
		text = p.clean
	}
	// Sanitising can lengthen a piece (U+FFFD takes three bytes for one
	// invalid byte), and the ring would truncate a line longer than a chunk
	// holds wherever it ends, maybe inside a rune or colour sequence. Store
	// such a piece in parts cut between runes and sequences instead.
	limit := min(p.maxLine, p.ring.chunkSize-recOverhead)
	var last uint64
	for len(text) > limit {
		k := cutText(text, limit)
		last = p.ring.appendLocked(ts, p.stream, flags|flagCut, text[:k])
		text = text[k:]
	}
	return max(last, p.ring.appendLocked(ts, p.stream, flags, text))
}

// growPipe asks for a bigger pipe buffer; failure (a per-user limit) only
// means a smaller buffer, so it is ignored.
// It goes through SyscallConn because File.Fd would switch the pipe to
// blocking mode and cost an OS thread per reader.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize) })
	}
}
