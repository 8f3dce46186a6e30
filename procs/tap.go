package procs

import (
	"bytes"
	"errors"
	"math/bits"
	"sync"
)

// Tap is given every line each unit's ring stores, as it is stored and in
// the ring's order: output, events and notes. The log files are one
// (logfile.Writer): their lines are formatted by the thread that read them,
// while they are still in its cache, rather than copied out of the ring
// again later by another thread (the reason a Tap exists beside Follow).
// Set one with Supervisor.Tap.
type Tap interface {
	// Unit returns where unit name's lines go. It is called on the
	// supervisor's owner goroutine when the unit is added (before it can
	// write), or for each unit present when the Tap is set. lock is held
	// whenever the UnitTap is given anything: the Tap takes it to read what
	// it was given from another goroutine, and needs no lock of its own.
	Unit(name string, lock sync.Locker) UnitTap
	// Close says the engine has shut down: its pumps have stored what
	// they read (or were given up on after a second), and lines stored
	// after Close may be dropped.
	Close()
}

// UnitTap takes one unit's lines. Every method but Wait is called with the
// unit's ring locked (the lines then arrive in the ring's order), by
// whichever thread stores the line, so none of them may block.
type UnitTap interface {
	// Line takes one stored line (a piece of an over-long one is a line);
	// plain says text is printable ASCII and tabs only (no colour codes).
	Line(ts int64, s Stream, text []byte, plain bool)
	// Lines takes whole lines from the start of text, a read's worth of
	// them rather than one call each: text is printable ASCII, tabs and
	// newlines only (plain, as for Line). It returns how many bytes it
	// took, each line with its '\n', and how many lines: up to the last
	// newline, where fit stops (Fit.Take), or the point where it is Full.
	// The ring stores the lines taken; the rest are given again (after
	// the unit has waited, if it was Full; a pump that cannot wait gives
	// the next one to Line). The ring takes n and lines on trust (it does
	// not walk the lines again): n must end just after a '\n', and lines
	// must count the '\n's before it.
	Lines(ts int64, s Stream, text []byte, fit Fit) (n, lines int)
	// Lost says n lines went by before the Tap was set (the ring had
	// dropped them already).
	Lost(n uint64)
	// Full reports whether the unit should wait (Wait) before it stores
	// more: asked by the pumps of pipes and terminals, which may wait, so
	// that a unit writing faster than the Tap takes its lines is slowed
	// as under `| cat > file`, instead of the Tap dropping lines.
	Full() bool
	// Wait waits, the ring not locked, until the Tap has room again or
	// gives up waiting (a Tap must not stop a unit for long).
	Wait()
	// Removed says the unit was removed. Lines its pipes still drain after
	// this are given too.
	Removed()
}

// Fit is where a run of lines given to UnitTap.Lines stops: before a line
// longer than MaxLine, or one that would take the run past Room, a line
// taking its text, its '\n' and Overhead more. It is the room left in the
// ring's chunk the run goes in: the tap, which finds where each line ends
// to format it (LineEnd), finds where the chunk is full too, so that the
// lines of a flood are walked once.
type Fit struct {
	MaxLine, Room, Overhead int
	// nl marks the newlines of the read the run is part of (plainLines),
	// the text given with the Fit starting at bit base; nil: none marked.
	nl   []uint64
	base int
}

// Fits reports whether a line of n bytes (without its '\n') goes after a
// run of taken bytes and lines.
func (f *Fit) Fits(taken, lines, n int) bool {
	return n <= f.MaxLine && taken+n+1+(lines+1)*f.Overhead <= f.Room
}

// LineEnd returns where in text, the text given with the Fit, the line
// that starts at from ends (the index of its '\n'), or -1 if it does not:
// from the word of marks the line starts in (a flood's lines mostly end
// there), else lineEnd.
func (f *Fit) LineEnd(text []byte, from int) int {
	p := uint(f.base + from)
	if w := p >> 6; w < uint(len(f.nl)) { // none when nl is nil
		if m := f.nl[w] >> (p & 63); m != 0 {
			return from + bits.TrailingZeros64(m)
		}
	}
	return f.lineEnd(text, from)
}

// lineEnd is LineEnd past the first word of marks, or without marks.
func (f *Fit) lineEnd(text []byte, from int) int {
	if f.nl == nil {
		if i := bytes.IndexByte(text[from:], '\n'); i >= 0 {
			return from + i
		}
		return -1
	}
	for w := (f.base+from)>>6 + 1; w < len(f.nl); w++ {
		if m := f.nl[w]; m != 0 {
			return w<<6 + bits.TrailingZeros64(m) - f.base
		}
	}
	return -1
}

// Take is how many bytes and lines of b (whole lines, the text given with
// the Fit) a run takes.
func (f *Fit) Take(b []byte) (taken, lines int) {
	for {
		e := f.LineEnd(b, taken)
		if e < 0 || !f.Fits(taken, lines, e-taken) {
			return taken, lines
		}
		taken = e + 1
		lines++
	}
}

// ErrTapSet is returned by Supervisor.Tap when a Tap is already set.
var ErrTapSet = errors.New("a tap is already set")

// Tap sets t to be given every unit's lines: each present unit's, from its
// oldest line still kept (the lines its ring has dropped are counted in
// Lost), and every later unit's from its first. One Tap per supervisor; it
// is closed when the supervisor has shut down.
func (s *Supervisor) Tap(t Tap) error {
	var err error
	if cerr := s.call(func() {
		if s.tap != nil {
			err = ErrTapSet
			return
		}
		s.tap = t
		for _, name := range s.order {
			r := s.units[name].ring
			r.tapFrom(t.Unit(name, &r.mu))
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// tapFrom sets r's tap and gives it what r keeps now.
func (r *ring) tapFrom(t UnitTap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if first := r.firstLocked(); first > 1 {
		t.Lost(first - 1)
	}
	r.each(r.firstLocked(), int(r.next-r.firstLocked()), func(c *chunk, i0 int, at []uint32) {
		c.walk(i0, at, func(_ int, text []byte, sp *span) { t.Line(sp.ts, sp.stream, text, false) })
	})
	r.tap = t
}

// removed tells r's tap, if any, that its unit was removed.
func (r *ring) removed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tap != nil {
		r.tap.Removed()
	}
}
