package procs

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kelpie-dev/kelpie/vterm"
)

// ttyReadSize is one read from a PTY master. The kernel hands a pty's
// output over in pieces of about 4 KiB at most, and the emulator parses a
// few MB/s: a bigger buffer would only hold the Term's feed lock longer.
const ttyReadSize = 16 << 10

// maxTTYSize bounds a Resize (cols and rows), as Terminals promises.
const maxTTYSize = 1000

// maxInput bounds the keys and pastes queued for a tty unit's child and not
// yet read by it.
const maxInput = 1 << 20

// ttyTerm is a tty unit's terminal, kept for the unit's whole life: one
// emulator (screen, scrollback, title, input modes) across its runs, each
// run on a fresh PTY. The emulator answers the child's queries whether a
// pane shows it or not. Safe for concurrent use: the owner goroutine
// (spawn, release), the run's reader goroutine and front ends (Terminals).
type ttyTerm struct {
	term *vterm.Term
	// out is the current run's PTY, where replies and input go (nil: no
	// run, and input is refused).
	out atomic.Pointer[vterm.PTY]

	// mu orders the feed of a run's output with a new run's reset, and
	// guards gen and pending.
	mu      sync.Mutex
	gen     uint64 // bumped by every new run: an old reader stops feeding
	ended   uint64 // the last gen whose screen left was logged (see endRun)
	pending []byte // lines scrolled off during a feed, "\n"-ended, for the log

	// sizeMu orders a Resize with a new run's PTY taking the size; it is
	// never held while output is parsed, so a pane's Resize waits for no
	// flood.
	sizeMu     sync.Mutex
	cols, rows int // the size a new PTY gets (the last Resize)

	title      atomic.Pointer[string]
	titleQueue atomic.Bool // a title change is on its way to the owner goroutine

	// ver counts changes to the screen (output fed, resize, reset): a pane
	// asking for the screen many times a second between two changes gets
	// the last snapshot again, not a new one drawn from the cells.
	ver    atomic.Uint64
	snapMu sync.Mutex
	snap   Screen
	snapAt uint64 // ver the snapshot was drawn at (0: none)
}

// newTTYTerm makes a unit's terminal, 80x24 until a pane sizes it.
func newTTYTerm(onTitle func()) *ttyTerm {
	tt := &ttyTerm{cols: 80, rows: 24}
	tt.term = vterm.New(vterm.Options{
		Cols: tt.cols, Rows: tt.rows,
		Reply: ttyReply{tt},
		// Log lines keep their colours, as a pipe's do.
		ColorLines: true,
		// A paste of a whole file into an editor fits (a request over the
		// socket is at most 1 MiB too); the queue holds only what waits.
		InputBytes: maxInput,
		// Both run on the reader goroutine, inside its feed (tt.mu held).
		OnLine: func(line string) {
			tt.pending = append(append(tt.pending, line...), '\n')
		},
		OnTitle: func(title string) {
			tt.title.Store(&title)
			onTitle()
		},
	})
	return tt
}

// ttyReply sends the emulator's replies and queued input to the current
// run's PTY; with no run they are dropped (nobody is there to read them).
type ttyReply struct{ tt *ttyTerm }

func (r ttyReply) Write(b []byte) (int, error) {
	p := r.tt.out.Load()
	if p == nil {
		return len(b), nil
	}
	n, err := p.Write(b)
	if err != nil {
		return n, fmt.Errorf("tty input: %w", err)
	}
	return n, nil
}

// resetSeq starts a new run on a clean terminal: off the alternate screen,
// the old screen pushed to the scrollback (ED 2), then a full reset (RIS)
// of modes, colours and cursor.
const resetSeq = "\x1b[?1049l\x1b[H\x1b[2J\x1bc"

// beginRun readies the terminal for a new run on p and returns the run's
// generation. The old run's screen goes to the scrollback (its lines were
// logged when it ended, so they are not logged again). If its reader has
// not yet logged them (a restart can come before the reader hears the
// hang-up), beginRun returns them for the log instead: the reader of the
// old run, seeing a newer run, logs nothing.
func (tt *ttyTerm) beginRun(p *vterm.PTY, first bool) (gen uint64, rest []byte, err error) {
	tt.mu.Lock()
	if tt.gen != 0 && tt.ended != tt.gen {
		rest = tt.restLocked()
		tt.ended = tt.gen
	}
	tt.gen++
	gen = tt.gen
	if !first {
		_, _ = tt.term.Write([]byte(resetSeq))
		tt.pending = tt.pending[:0]
		tt.ver.Add(1)
	}
	tt.mu.Unlock()
	tt.sizeMu.Lock()
	defer tt.sizeMu.Unlock()
	tt.out.Store(p)
	return gen, rest, p.Resize(tt.cols, tt.rows)
}

// feed parses one read of run gen's output; lines that scrolled off are
// appended to lines. It reports false once a newer run owns the terminal.
func (tt *ttyTerm) feed(gen uint64, b []byte, lines []byte) ([]byte, bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.gen != gen {
		return lines, false
	}
	_, _ = tt.term.Write(b)
	tt.ver.Add(1)
	lines = append(lines, tt.pending...)
	tt.pending = tt.pending[:0]
	return lines, true
}

// endRun detaches run gen's PTY and returns the text left on the main
// screen that the log has not had (up to its last non-blank row, text and
// SGR): rows no line feed finished. A full-screen program's alternate screen is
// not a log.
func (tt *ttyTerm) endRun(gen uint64, p *vterm.PTY) []byte {
	tt.out.CompareAndSwap(p, nil)
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.gen != gen || tt.ended == gen {
		return nil
	}
	tt.ended = gen
	return tt.restLocked()
}

// restLocked is what the main screen holds that the log has not had, up to
// its last non-blank row, one line each, text and SGR (nothing for the
// alternate screen): rows a line feed finished were logged then. tt.mu is
// held.
func (tt *ttyTerm) restLocked() []byte {
	var b []byte
	for _, r := range tt.term.Unlogged() {
		b = append(append(b, r...), '\n')
	}
	return b
}

// resize sets the size of the emulator and, when a run has one, its PTY.
func (tt *ttyTerm) resize(cols, rows int) error {
	cols, rows = min(max(cols, 1), maxTTYSize), min(max(rows, 1), maxTTYSize)
	tt.sizeMu.Lock()
	defer tt.sizeMu.Unlock()
	tt.cols, tt.rows = cols, rows
	tt.term.Resize(cols, rows)
	tt.ver.Add(1)
	if p := tt.out.Load(); p != nil {
		if err := p.Resize(cols, rows); err != nil && !errors.Is(err, os.ErrClosed) {
			return err
		}
	}
	return nil
}

// screen returns the current screen, drawn again only if it changed since
// the last call. The caller gets its own Lines slice.
func (tt *ttyTerm) screen() Screen {
	tt.snapMu.Lock()
	defer tt.snapMu.Unlock()
	// Read before drawing: a change during the drawing bumps ver past it,
	// and the next call draws again.
	v := tt.ver.Load() + 1
	if tt.snapAt != v {
		tt.snap = Screen{Snapshot: tt.term.Snapshot(), Scrollback: tt.term.ScrollbackLen()}
		tt.snapAt = v
	}
	sc := tt.snap
	sc.Lines = slices.Clone(sc.Lines)
	if t := tt.title.Load(); t != nil {
		sc.Title = *t
	}
	return sc
}

// ttyRun is what a run of a tty unit holds beyond a process: its PTY and
// the goroutine reading it.
type ttyRun struct {
	pty  *vterm.PTY
	done chan struct{} // closed when the reader has ended and closed the PTY
}

// spawnTTY opens the run's PTY (sized as the unit's terminal) and returns
// the child's descriptors 0, 1, 2 (the slave) and the run. The caller
// starts the child with vterm.SessionAttr and calls startTTY (or
// abortTTY).
func (s *Supervisor) spawnTTY(u *unit) (*ttyRun, []*os.File, error) {
	u.tty.sizeMu.Lock()
	cols, rows := u.tty.cols, u.tty.rows
	u.tty.sizeMu.Unlock()
	p, err := vterm.Open(cols, rows)
	if err != nil {
		return nil, nil, fmt.Errorf("terminal: %w", err)
	}
	sl := p.Slave()
	return &ttyRun{pty: p, done: make(chan struct{})}, []*os.File{sl, sl, sl}, nil
}

// abortTTY lets go of a run's PTY whose child did not start.
func abortTTY(tr *ttyRun) {
	_ = tr.pty.Close()
	close(tr.done)
}

// startTTY hands the run's PTY to the unit's terminal and starts its
// reader, once the child has started. Owner goroutine only.
func (s *Supervisor) startTTY(u *unit, r *procRun, tr *ttyRun, watches []*logWatch) {
	// The child has the slave: ours must go, or the hang-up never shows.
	_ = tr.pty.CloseSlave()
	name := u.spec.Name
	notify := func(last uint64) { s.broker.logs(name, last) }
	gen, rest, err := u.tty.beginRun(tr.pty, u.runs == 0)
	if len(rest) > 0 {
		// The last run's screen, its reader not there yet: logged before
		// anything of this run, and past this run's log probes.
		newPump(u.ring, Stdout, s.opts.MaxLine, notify).feed(rest, time.Now(), true)
	}
	if err != nil {
		s.event(u, "terminal size not set: %v", err)
	}
	r.tty = tr
	pu := newPump(u.ring, Stdout, s.opts.MaxLine, notify)
	pu.watch, pu.mayWait = watches, true
	s.pumps.Add(1)
	go func() {
		defer s.pumps.Done()
		s.readTTY(u.tty, gen, tr, pu)
	}()
}

// readTTY feeds a run's output to the unit's terminal until the terminal
// hangs up (every process of the session let go of it) or the read
// deadline set at release passes; lines that scroll off go to the log. It
// then logs what is left on the screen and closes the PTY. The child is
// held up by nothing but the emulator's parsing and, while the log files'
// writer is behind, by the log (pump.room, a second at most without
// progress): no front end is waited for.
func (s *Supervisor) readTTY(tt *ttyTerm, gen uint64, tr *ttyRun, pu *pump) {
	defer close(tr.done)
	buf := make([]byte, ttyReadSize)
	var lines []byte
	for {
		n, err := tr.pty.Read(buf)
		if n > 0 {
			var ok bool
			lines, ok = tt.feed(gen, buf[:n], lines[:0])
			if !ok {
				break
			}
			if len(lines) > 0 {
				pu.feed(lines, time.Now(), false)
			}
		}
		if err != nil {
			break
		}
	}
	if rest := tt.endRun(gen, tr.pty); len(rest) > 0 {
		pu.feed(rest, time.Now(), true)
	}
	_ = tr.pty.Close()
}

// release lets the reader of an ended run finish: it reads what is left
// until the hang-up, for grace at most.
func (tr *ttyRun) release(grace time.Duration) {
	// A deadline, not a close: the last output written before the exit is
	// still in the master's buffer and must be read first.
	_ = tr.pty.Master().SetReadDeadline(time.Now().Add(grace))
}

// ttyHangUpGrace is the longest a stopping tty unit's session waits for
// its hang-up while the session leader lives (a quarter of stop_timeout
// when that is shorter): an interactive shell ignores SIGTERM, and ends by
// the SIGHUP well before stop_timeout; a program that handles the stop
// signal has this long before a SIGHUP it may not handle.
const ttyHangUpGrace = time.Second

// scheduleHangUp hangs up a stopping tty run's session after the grace,
// on the supervisor's clock, unless the stop was decided again or the
// leader's exit hung it up first. Owner goroutine only.
func (s *Supervisor) scheduleHangUp(u *unit, r *procRun) {
	if r.tty == nil || r.hungUp {
		return
	}
	if r.hup != nil {
		r.hup.Stop()
	}
	epoch := u.epoch
	grace := min(ttyHangUpGrace, u.spec.StopTimeout/4)
	r.hup = s.clock.AfterFunc(grace, func() {
		s.post(func() {
			if u.epoch == epoch && u.stopping && u.run == run(r) {
				s.hangUp(u, r, "still running after "+grace.String())
			}
		})
	})
}

// hangUp hangs up a stopping tty run's session now and says why. Owner
// goroutine only.
func (s *Supervisor) hangUp(u *unit, r *procRun, why string) {
	if r.hangUp() {
		s.event(u, "%s: SIGHUP to the terminal's session", why)
	}
}

// tty returns the named unit's terminal: nil and ErrNotFound or ErrNotTTY.
func (s *Supervisor) tty(name string) (*ttyTerm, error) {
	s.ringsMu.RLock()
	defer s.ringsMu.RUnlock()
	if tt := s.ttys[name]; tt != nil {
		return tt, nil
	}
	if s.rings[name] == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return nil, fmt.Errorf("%q: %w", name, ErrNotTTY)
}

// Screen returns a tty unit's emulated screen (Terminals).
func (s *Supervisor) Screen(name string) (Screen, error) {
	tt, err := s.tty(name)
	if err != nil {
		return Screen{}, err
	}
	return tt.screen(), nil
}

// Scrollback returns lines [from, to) of a tty unit's scrollback, oldest
// first (Terminals).
func (s *Supervisor) Scrollback(name string, from, to int) ([]string, error) {
	tt, err := s.tty(name)
	if err != nil {
		return nil, err
	}
	return tt.term.ScrollbackLines(nil, max(from, 0), to), nil
}

// errInputFull says the child has not read its earlier input.
var errInputFull = errors.New("input not sent: the child is not reading its terminal (queue full)")

// input checks that the unit's terminal has a run to type into.
func (s *Supervisor) input(name string) (*ttyTerm, error) {
	tt, err := s.tty(name)
	if err != nil {
		return nil, err
	}
	if tt.out.Load() == nil {
		return nil, fmt.Errorf("input to %q: %w", name, ErrNotRunning)
	}
	return tt, nil
}

// Keys sends key presses to a tty unit's child (Terminals).
func (s *Supervisor) Keys(name string, keys []vterm.Key) error {
	tt, err := s.input(name)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !tt.term.Key(k) {
			return fmt.Errorf("keys to %q: %w", name, errInputFull)
		}
	}
	return nil
}

// Paste sends text to a tty unit's child as one paste (Terminals).
func (s *Supervisor) Paste(name string, text string) error {
	tt, err := s.input(name)
	if err != nil {
		return err
	}
	if !tt.term.Paste(text) {
		return fmt.Errorf("paste to %q: %w", name, errInputFull)
	}
	return nil
}

// Resize sets a tty unit's terminal size (Terminals).
func (s *Supervisor) Resize(name string, cols, rows int) error {
	tt, err := s.tty(name)
	if err != nil {
		return err
	}
	if err := tt.resize(cols, rows); err != nil {
		return fmt.Errorf("resize %q: %w", name, err)
	}
	return nil
}

// addTTY gives a new tty unit its terminal. Owner goroutine only.
func (s *Supervisor) addTTY(u *unit) {
	u.info.TTY = true
	var tt *ttyTerm
	tt = newTTYTerm(func() {
		// On the reader goroutine: hand the title to the owner goroutine
		// without waiting for it, one hand-over at a time.
		if !tt.titleQueue.CompareAndSwap(false, true) {
			return
		}
		go s.post(func() {
			tt.titleQueue.Store(false)
			if t := tt.title.Load(); t != nil && s.units[u.spec.Name] == u && u.info.Title != *t {
				u.info.Title = *t
				s.publish(u)
			}
		})
	})
	u.tty = tt
	s.ringsMu.Lock()
	s.ttys[u.spec.Name] = tt
	s.ringsMu.Unlock()
}

// closeTTY lets go of a terminal's emulator: a removed unit's, once it is
// out of s.ttys (owner goroutine), or every one at Shutdown, once the
// readers ended (ringsMu held for reading). It takes no lock of its own:
// Term.Close is safe from any goroutine and does its work once, and a
// Screen still drawing the terminal reads its last screen.
func closeTTY(tt *ttyTerm) {
	if tt != nil {
		_ = tt.term.Close()
	}
}

var _ Terminals = (*Supervisor)(nil)
