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
// frame is older than frameGap, otherwise on a one-shot timer, and rewrites
// only the lines that changed. An idle screen costs nothing.
type screen struct {
	out io.Writer

	mu      sync.Mutex
	w, h    int
	shown   []string // the lines on the terminal now
	latest  string   // the newest frame submitted
	pending bool     // latest is not drawn yet
	repaint bool     // the next draw clears and redraws everything
	last    time.Time
	timer   *time.Timer
	closed  bool
	urgent  bool // the next frame answers a key: draw it at once
	buf     bytes.Buffer
}

func newScreen(out io.Writer) *screen { return &screen{out: out, repaint: true} }

// open takes over the terminal: alternate screen, cursor hidden.
func (s *screen) open() {
	s.write(seqEnter)
}

// close gives the terminal back as it was; later frames are dropped.
func (s *screen) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	_, _ = io.WriteString(s.out, seqLeave)
}

// write sends a sequence to the terminal between frames (mouse modes, OSC 52).
func (s *screen) write(seq string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		_, _ = io.WriteString(s.out, seq)
	}
}

// expectKey marks the next frame as the answer to a key press: it is drawn
// at once even inside frameGap. The gap exists to coalesce floods of output,
// never to make a person wait.
func (s *screen) expectKey() {
	s.mu.Lock()
	s.urgent = true
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

// submit hands over the newest frame.
func (s *screen) submit(frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || (frame == s.latest && !s.pending && !s.repaint) {
		return
	}
	s.latest, s.pending = frame, true
	urgent := s.urgent
	s.urgent = false
	if wait := frameGap - time.Since(s.last); wait > 0 && !urgent {
		if s.timer == nil {
			s.timer = time.AfterFunc(wait, s.flush)
		}
		return
	}
	s.drawLocked()
}

// flush draws a frame that was held back by frameGap.
func (s *screen) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = nil
	if s.pending && !s.closed {
		s.drawLocked()
	}
}

func (s *screen) drawLocked() {
	s.pending = false
	s.last = time.Now()
	if s.h <= 0 || s.w <= 0 {
		return
	}
	lines := strings.Split(s.latest, "\n")
	if len(lines) > s.h {
		lines = lines[:s.h]
	}
	b := &s.buf
	b.Reset()
	if s.repaint {
		b.WriteString(seqReset + seqClear)
		s.shown = s.shown[:0]
		s.repaint = false
	}
	for i := 0; i < s.h; i++ {
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
	if cap(s.shown) < s.h {
		s.shown = make([]string, s.h)
	}
	s.shown = s.shown[:s.h]
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
}

// Update passes msg to the model, after handling what concerns the screen.
func (f framed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		f.scr.expectKey()
		if !msg.Paste && key.Matches(msg, f.Model.keys.Redraw) {
			// Something else wrote on the terminal: forget what kelpie
			// thinks is there and draw it all again.
			f.scr.redraw()
			return f, nil
		}
	case tea.MouseMsg:
		f.scr.expectKey()
	case tea.WindowSizeMsg:
		f.scr.resize(msg.Width, msg.Height)
	case rawMsg:
		f.scr.write(string(msg))
		return f, nil
	case mouseMsg:
		if msg {
			f.scr.write(seqMouseOn)
		} else {
			f.scr.write(seqMouseOff)
		}
		return f, nil
	}
	m, cmd := f.Model.Update(msg)
	f.Model = m.(Model)
	return f, cmd
}

// View draws the model's view and gives Bubble Tea nothing to render.
func (f framed) View() string {
	f.scr.submit(f.Model.View())
	return ""
}
