package ipc

import "bytes"

const (
	// readBufSize is the reader's resting buffer: large enough that a burst
	// of small messages (a socket buffer holds ~200 KiB) is taken in a few
	// syscalls, small enough to keep per channel.
	readBufSize = 128 << 10
	// keepBufSize: a buffer grown past this for one big line is dropped once
	// it empties, so a single 16 MiB message does not pin 16 MiB forever.
	keepBufSize = 1 << 20
)

// framer splits a byte stream into newline-terminated lines in a bounded
// buffer. It does no I/O so the decoder can be fuzzed without sockets.
type framer struct {
	buf     []byte
	r, w    int // unread bytes are buf[r:w]
	maxLine int
	rest    int // resting buffer size
	// minRead: when less than this is free at the tail, pending bytes are
	// moved to the front before reading, so reads stay large.
	minRead int

	// An over-long line is dropped as it arrives instead of being buffered:
	// memory stays at most about maxLine whatever the peer sends.
	skipping bool
	skipped  int
	skipHead []byte
}

func newFramer(maxLine, size int) *framer {
	return &framer{buf: make([]byte, size), maxLine: maxLine, rest: size, minRead: size / 8}
}

// next returns the next complete line without its newline. The line aliases
// the buffer and is valid only until the next call to space. A line longer
// than maxLine is returned as a LineError instead. ok is false when more
// input is needed.
func (f *framer) next() (line []byte, lerr *LineError, ok bool) {
	if i := bytes.IndexByte(f.buf[f.r:f.w], '\n'); i >= 0 {
		line = f.buf[f.r : f.r+i]
		f.r += i + 1
		if f.skipping {
			lerr = &LineError{Len: f.skipped + i, Head: f.skipHead, Err: ErrLineTooLong}
			f.skipping, f.skipped, f.skipHead = false, 0, nil
			return nil, lerr, true
		}
		if i > f.maxLine {
			return nil, newLineError(line, i, ErrLineTooLong), true
		}
		return line, nil, true
	}
	pending := f.w - f.r
	switch {
	case f.skipping:
		f.skipped += pending
		f.r, f.w = 0, 0
	case pending > f.maxLine:
		f.skipping = true
		f.skipped = pending
		h := f.buf[f.r:f.w]
		if len(h) > lineHead {
			h = h[:lineHead]
		}
		f.skipHead = append([]byte(nil), h...)
		f.r, f.w = 0, 0
	}
	return nil, nil, false
}

// space returns the free tail of the buffer for the next read, first making
// room by compacting or (for a partial line up to maxLine) growing.
func (f *framer) space() []byte {
	if f.r == f.w {
		f.r, f.w = 0, 0
		if len(f.buf) > keepBufSize && len(f.buf) > f.rest {
			f.buf = make([]byte, f.rest)
		}
	}
	if f.r > 0 && (f.w == len(f.buf) || len(f.buf)-f.w < f.minRead) {
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	if f.w == len(f.buf) {
		// A partial line fills the whole buffer; next() guarantees it is at
		// most maxLine long, so the line plus its newline fits after growing.
		n := 2 * len(f.buf)
		if limit := f.maxLine + 1; n > limit {
			n = limit
		}
		nb := make([]byte, n)
		copy(nb, f.buf[:f.w])
		f.buf = nb
	}
	return f.buf[f.w:]
}

// advance records n bytes read into the slice returned by space.
func (f *framer) advance(n int) { f.w += n }
