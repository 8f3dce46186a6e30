package ui

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// frameGap is the shortest time between two frames: a burst of messages (a
// key held down, log batches from a flood) is drawn at most this often, and
// the newest frame always lands.
const frameGap = time.Second / 60

// Terminal sequences the screen writes itself.
//
// Autowrap (DECAWM) is off while the screen is up: where kelpie and the
// terminal measure a character differently (an emoji with a modifier, a ZWJ
// sequence), a line that runs long is clipped at the right edge instead of
// spilling into the next row. Bracketed paste is on, so pasted text arrives
// as one paste and never as key presses. seqLeave undoes all of it.
const (
	seqEnter     = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[?2004h\x1b[2J\x1b[H" // alternate screen, hide cursor, no autowrap, bracketed paste, clear
	seqLeave     = "\x1b[?1000l\x1b[?1002l\x1b[?1006l\x1b[?2004l\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l"
	seqMouseOn   = "\x1b[?1000h\x1b[?1002h\x1b[?1006h" // button events, drags, SGR coordinates
	seqMouseOff  = "\x1b[?1000l\x1b[?1002l\x1b[?1006l"
	seqClear     = "\x1b[2J"
	seqEraseLine = "\x1b[2K"
	seqReset     = "\x1b[0m"
)

// screen draws frames on the terminal. It replaces Bubble Tea's renderer,
// which wakes up at its frame rate forever: on the small VMs kelpie runs on a
// 20 Hz ticker alone costs 0.4 % of a core, more than kelpie's whole idle
// budget. screen draws only when the view changed, at once when the last
// frame is older than frameGap (or answers a key), otherwise after the gap,
// and rewrites only the lines that changed. An idle screen costs nothing.
//
// The terminal is written from a goroutine of its own: submit only hands the
// frame over and returns, so a slow terminal (ssh over a bad link, a paused
// tmux client) never stalls Update. The writer always takes the newest frame;
// frames submitted while it was busy writing are never drawn.
type screen struct {
	out  io.Writer
	wake chan struct{} // cap 1: there is something for the writer
	done chan struct{} // closed when the writer has returned

	mu        sync.Mutex
	w, h      int
	latest    string // the newest frame submitted
	pending   bool   // latest is not drawn yet
	repaint   bool   // the next draw clears and redraws everything
	urgent    bool   // the pending frame answers a key: draw it at once
	keyNext   bool   // the next submitted frame answers a key (see expectKey)
	raw       []byte // sequences to write before the next frame (mouse modes, OSC 52)
	last      time.Time
	gap       time.Duration // frameGap (tests stretch it)
	held      bool          // the writer waits out the gap for latest
	busy      bool          // the writer is writing
	closed    bool
	suspended bool       // the terminal is given back (ctrl+z): frames wait
	mouse     bool       // mouse reporting is on (turned on again on resume)
	settled   *sync.Cond // broadcast after each round of the writer, for idle

	// The writer's own.
	shown []string // the lines on the terminal now
	buf   bytes.Buffer
}

func newScreen(out io.Writer) *screen {
	s := &screen{out: out, repaint: true, gap: frameGap, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.settled = sync.NewCond(&s.mu)
	go s.run()
	return s
}

// open takes over the terminal: alternate screen, cursor hidden.
func (s *screen) open() {
	s.write(seqEnter)
}

// close gives the terminal back as it was; later frames are dropped. It
// waits for the writer to finish what it is writing, so that nothing of a
// frame lands after the terminal is restored.
func (s *screen) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.poke()
	<-s.done
	_, _ = io.WriteString(s.out, seqLeave)
}

// poke wakes the writer.
func (s *screen) poke() {
	select {
	case s.wake <- struct{}{}:
	default: // already awake or about to be
	}
}

// write queues a sequence for the terminal, written before the next frame
// (mouse modes, OSC 52).
func (s *screen) write(seq string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.raw = append(s.raw, seq...)
	s.mu.Unlock()
	s.poke()
}

// setMouse turns mouse reporting on or off, and remembers it for a resume.
func (s *screen) setMouse(on bool) {
	s.mu.Lock()
	s.mouse = on
	s.mu.Unlock()
	if on {
		s.write(seqMouseOn)
	} else {
		s.write(seqMouseOff)
	}
}

// expectKey marks the next frame as the answer to a key press: it is drawn
// at once even inside frameGap. The gap exists to coalesce floods of output,
// never to make a person wait.
//
// The mark goes with the next submitted frame, not with whatever frame the
// writer takes next: a frame of output held in the gap while the key was
// being handled must not take the mark and leave the key's own frame to
// wait out the gap (that cost up to 17 ms per key under an output flood).
func (s *screen) expectKey() {
	s.mu.Lock()
	s.keyNext = true
	s.mu.Unlock()
}

// resize records the terminal's new size; the next frame repaints it all.
func (s *screen) resize(w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w, s.h = w, h
	s.repaint = true
	s.pending = true
}

// redraw forgets what the terminal shows: the next frame clears the screen
// and draws every line (ctrl+l, after something else wrote on the terminal).
func (s *screen) redraw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repaint = true
	s.pending = true
	s.urgent = true
}

// submit hands over the newest frame. It never waits for the terminal.
func (s *screen) submit(frame string) {
	s.mu.Lock()
	key := s.keyNext
	s.keyNext = false
	if s.closed || (frame == s.latest && !s.pending && !s.repaint) {
		s.mu.Unlock()
		return
	}
	s.latest, s.pending = frame, true
	s.urgent = s.urgent || key
	s.mu.Unlock()
	s.poke()
}

// suspend gives the terminal back (ctrl+z): it writes seqLeave once the
// writer is idle and holds every frame until resume. It waits for the
// terminal, which is what suspending means.
func (s *screen) suspend() {
	s.mu.Lock()
	s.suspended = true
	s.mu.Unlock()
	s.write(seqLeave)
	s.idle()
}

// resume takes the terminal again after a suspend: everything seqEnter sets
// up, the mouse if it was on, and the whole frame drawn anew.
func (s *screen) resume() {
	s.mu.Lock()
	s.suspended = false
	s.raw = append(s.raw, seqEnter...)
	if s.mouse {
		s.raw = append(s.raw, seqMouseOn...)
	}
	s.repaint, s.pending, s.urgent = true, true, true
	s.mu.Unlock()
	s.poke()
}

// idle waits until the writer has written everything it can now: the
// queued sequences, and the latest frame unless it is held by the gap or a
// suspend. Only a suspend and tests wait for the terminal.
func (s *screen) idle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		held := s.held && !s.urgent && time.Since(s.last) < s.gap
		if s.closed || (!s.busy && len(s.raw) == 0 && (!s.pending || held || s.suspended || s.w <= 0 || s.h <= 0)) {
			return
		}
		s.poke()
		s.settled.Wait() // the writer's next round
	}
}

// run is the writer: it wakes when there is something to write, takes the
// newest frame and writes it outside the lock.
func (s *screen) run() {
	defer close(s.done)
	var timer *time.Timer
	var tick <-chan time.Time
	for {
		select {
		case <-s.wake:
		case <-tick:
			tick = nil
		}
		wk, ok := s.take()
		if !ok {
			if timer != nil {
				timer.Stop()
			}
			s.mu.Lock()
			s.settled.Broadcast()
			s.mu.Unlock()
			return
		}
		if wk.wait > 0 && tick == nil {
			timer = time.NewTimer(wk.wait)
			tick = timer.C
		}
		if len(wk.raw) > 0 {
			_, _ = s.out.Write(wk.raw)
		}
		if wk.draw {
			s.draw(wk.frame, wk.w, wk.h, wk.repaint)
		}
		s.mu.Lock()
		s.busy = false
		s.settled.Broadcast()
		s.mu.Unlock()
	}
}

// work is what the writer takes in one go: sequences to write, maybe a
// frame to draw, or how long the frame gap still holds it.
type work struct {
	raw     []byte
	draw    bool
	frame   string
	w, h    int
	repaint bool
	wait    time.Duration // > 0: the newest frame waits this long
}

// take hands the writer what there is to write; ok is false once the
// screen is closed.
func (s *screen) take() (wk work, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return wk, false
	}
	wk.raw, s.raw = s.raw, nil
	sized := s.w > 0 && s.h > 0
	if s.pending && !sized {
		s.pending = false // nothing to draw on
	}
	wk.draw = s.pending && !s.suspended
	s.held = false
	if wait := s.gap - time.Since(s.last); wk.draw && wait > 0 && !s.urgent {
		// Inside the gap: coalesce, and draw the newest then.
		wk.draw, wk.wait, s.held = false, wait, true
	}
	if wk.draw {
		wk.frame, wk.w, wk.h, wk.repaint = s.latest, s.w, s.h, s.repaint
		s.pending, s.repaint, s.urgent = false, false, false
		s.last = time.Now()
	}
	s.busy = len(wk.raw) > 0 || wk.draw
	return wk, true
}

// draw writes frame on a w x h terminal: every line when repaint, else the
// lines that differ from what is shown.
func (s *screen) draw(frame string, w, h int, repaint bool) {
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	b := &s.buf
	b.Reset()
	if repaint {
		b.WriteString(seqReset + seqClear)
		s.shown = s.shown[:0]
	}
	for i := 0; i < h; i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		if i < len(s.shown) && s.shown[i] == line {
			continue
		}
		b.WriteString("\x1b[")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(";1H")
		// The row is erased before it is drawn, so nothing of the old one
		// stays, even where the terminal draws the new line narrower than
		// kelpie measured it. (Erasing after it would eat the last cell of a
		// full-width line: without autowrap the cursor stays on that cell.)
		b.WriteString(seqEraseLine)
		// The last guard before the terminal: whatever a view let through,
		// only text and SGR colour leave here.
		b.WriteString(termSafe(line))
		b.WriteString(seqReset)
	}
	if b.Len() > 0 {
		_, _ = s.out.Write(b.Bytes())
	}
	if cap(s.shown) < h {
		s.shown = make([]string, h)
	}
	s.shown = s.shown[:h]
	for i := range s.shown {
		s.shown[i] = ""
		if i < len(lines) {
			s.shown[i] = lines[i]
		}
	}
}

// rawMsg asks the screen to write a terminal sequence (OSC 52 copy, say)
// between frames; only the screen may write to the terminal.
type rawMsg string

// mouseMsg turns mouse reporting on or off.
type mouseMsg bool

// writeRaw is a Cmd that writes seq to the terminal between frames.
func writeRaw(seq string) tea.Cmd { return func() tea.Msg { return rawMsg(seq) } }

// setMouse is a Cmd that turns mouse reporting on or off. Off (the default)
// leaves the terminal's own text selection working.
func setMouse(on bool) tea.Cmd { return func() tea.Msg { return mouseMsg(on) } }

// framed wraps the root model: it feeds every view to the screen and applies
// the screen's own messages; Bubble Tea itself runs without a renderer.
type framed struct {
	Model
	scr *screen
	// suspend gives the terminal back and stops kelpie (ctrl+z); it
	// returns once kelpie runs again, with the terminal's size. Run sets
	// it; without it ctrl+z does nothing.
	suspend tea.Cmd
}

// Update passes msg to the model, after handling what concerns the screen.
func (f *framed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		f.scr.expectKey()
		if !msg.Paste && key.Matches(msg, f.Model.keys.Redraw) {
			// Something else wrote on the terminal: forget what kelpie
			// thinks is there and draw it all again.
			f.scr.redraw()
			return f, nil
		}
		if !msg.Paste && key.Matches(msg, f.Model.keys.Suspend) {
			return f, f.suspend
		}
	case tea.MouseMsg:
		f.scr.expectKey()
	case tea.WindowSizeMsg:
		f.scr.resize(msg.Width, msg.Height)
	case rawMsg:
		f.scr.write(string(msg))
		return f, nil
	case mouseMsg:
		f.scr.setMouse(bool(msg))
		return f, nil
	}
	return f, f.Model.update(msg)
}

// View draws the model's view and gives Bubble Tea nothing to render.
func (f *framed) View() string {
	f.scr.submit(f.Model.View())
	return ""
}
