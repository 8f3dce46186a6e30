package vterm

import (
	"io"
	"runtime"
	"strings"
	"sync"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
)

// feedChunk bounds how much child output goes into the emulator between two
// drains of its scrollback. Each push costs a full copy of a line's cells
// there, and a few bytes (DECALN, then ED 2) can push a whole screen, so the
// chunk keeps that transient memory small; the per-call cost is nothing
// beside the parser's per-byte work.
const feedChunk = 256

// Options configure a Term.
type Options struct {
	// Cols and Rows are the screen size; 80x24 when zero.
	Cols, Rows int
	// Reply receives what the emulator answers the child (device
	// attributes, cursor position and mode reports) and the input queued by
	// SendInput, Key and Paste: the PTY master. Nil discards it. It is
	// written from a goroutine of the Term's own, so a child that does not
	// read its input blocks nobody.
	Reply io.Writer
	// OnTitle, when set, gets the title the child sets (OSC 0/2), cleaned:
	// printable runes only, at most 200.
	OnTitle func(title string)
	// OnLine, when set, gets each main-screen line once, as plain text (no
	// SGR, trailing blanks trimmed): when a line feed finishes it, or when
	// it scrolls off unfinished (see Unlogged for the rest). The unit's log.
	OnLine func(line string)
	// ColorLines hands OnLine each line as the scrollback keeps it, text
	// and SGR (a log that keeps colours, as a pipe's does), not plain.
	ColorLines bool
	// ScrollbackBytes caps the kept scrollback; DefaultScrollbackBytes when
	// zero.
	ScrollbackBytes int
	// InputBytes caps input queued for the child and not yet written;
	// 64 KiB when zero. Past it input is dropped (SendInput says so).
	InputBytes int
}

// Term is the terminal emulator kept with a tty unit. Write feeds it the
// child's output; it keeps the screen as cells, answers the child's queries
// through Options.Reply at all times (whether a pane shows it or not), keeps
// the lines that scroll off, and draws snapshots of text and SGR only.
// Methods are safe for concurrent use; Write is meant for one goroutine (the
// PTY reader), and the callbacks run on it, outside the Term's lock.
type Term struct {
	mu        sync.Mutex
	emu       *vt.Emulator
	hist      history
	appCursor bool // DECCKM: cursor keys send ESC O x
	bracketed bool // mode 2004: pastes are wrapped
	altOff    bool // the alternate screen keeps no scrollback
	// The parser's payload buffer is 64 KiB, not x/vt's 4 MiB.
	smallParser bool
	onTitle     func(string)
	onLine      func(string)
	colorLines  bool
	// Filled under mu during a Write, handed to the callbacks after it.
	newLines []string
	newTitle *string
	plainBuf []byte
	rowBuf   []byte

	// What OnLine has had of each main-screen row (see loglines.go); kept
	// only when OnLine is set.
	rows      []rowLog
	lineStart int      // the row after the last one a line feed finished
	segClean  bool     // no escape but SGR since that line feed
	lineRows  []string // the rows of the line being finished
	edSkip    []bool   // per line an ED 2 is pushing: already logged
	erased    bool     // an ED 2 or 3 blanked the screen: forget rows

	in     inbox
	pipe   io.Closer // the emulator's reply pipe, closed to stop the drain
	done   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// New makes a Term and starts its two goroutines: one drains the emulator's
// reply pipe (x/vt writes replies into an unbuffered pipe inside Write: not
// read, the next query would block Write for good), one writes replies and
// input to Options.Reply. Close stops both.
func New(o Options) *Term {
	cols, rows := o.Cols, o.Rows
	if cols <= 0 || rows <= 0 {
		cols, rows = 80, 24
	}
	cols, rows = clampSize(cols), clampSize(rows)
	limit := o.ScrollbackBytes
	if limit <= 0 {
		limit = DefaultScrollbackBytes
	}
	inLimit := o.InputBytes
	if inLimit <= 0 {
		inLimit = 64 << 10
	}
	t := &Term{
		emu:        vt.NewEmulator(cols, rows),
		hist:       history{limit: limit},
		onTitle:    o.OnTitle,
		onLine:     o.OnLine,
		colorLines: o.ColorLines,
		in:         inbox{limit: inLimit, wake: make(chan struct{}, 1)},
		done:       make(chan struct{}),
		segClean:   true,
	}
	t.altOff = noAltScrollback(t.emu)
	t.smallParser = shrinkParser(t.emu)
	// Never full between two drains (see feedChunk), so x/vt's own
	// eviction, an O(n) shift per line, never runs.
	t.emu.SetScrollbackSize(1 << 30)
	t.emu.SetCallbacks(vt.Callbacks{
		Title: func(s string) {
			s = cleanTitle(s)
			t.newTitle = &s
		},
		EnableMode:  func(m ansi.Mode) { t.setMode(m, true) },
		DisableMode: func(m ansi.Mode) { t.setMode(m, false) },
	})
	// Hyperlinks are dropped, not stored in cells (handlers registered
	// later run first; true ends the chain).
	t.emu.RegisterOscHandler(8, func([]byte) bool { return true })
	// ED 3 clears x/vt's scrollback: take the lines out first, so a
	// `clear` does not lose what ED 2 pushed just before it. ED 2 pushes
	// the screen's rows: those already logged are not logged again.
	t.emu.RegisterCsiHandler('J', func(p ansi.Params) bool {
		if n, _, _ := p.Param(0, 0); n == 2 || n == 3 {
			t.eraseLocked(n)
		}
		return false
	})
	// x/vt loops once per unit of these counts, unbounded: a child's
	// "CSI 99999999 b" (repeat the last character) would hold the Term,
	// and every pane drawing it, for minutes. No program needs a count
	// past what the screen holds, so such a sequence is ignored.
	for final, limit := range map[byte]func() int{
		'b': func() int { return t.emu.Width() * t.emu.Height() }, // REP
		'I': t.emu.Width,                                          // CHT
		'Z': t.emu.Width,                                          // CBT
		'X': t.emu.Width,                                          // ECH
	} {
		t.emu.RegisterCsiHandler(int(final), func(p ansi.Params) bool {
			n, _, _ := p.Param(0, 1)
			return n > limit()
		})
	}
	// A full reset (RIS) resets the modes without the mode callbacks.
	t.emu.RegisterEscHandler('c', func() bool {
		t.appCursor, t.bracketed = false, false
		return false
	})
	t.pipe, _ = t.emu.InputPipe().(io.Closer)
	reply := o.Reply
	if reply == nil {
		reply = io.Discard
	}
	t.wg.Add(2)
	go t.drainReplies()
	go t.writeInput(reply)
	return t
}

func (t *Term) setMode(m ansi.Mode, on bool) {
	switch m {
	case ansi.ModeCursorKeys:
		t.appCursor = on
	case ansi.ModeBracketedPaste:
		t.bracketed = on
	}
}

// drainReplies copies the emulator's replies into the input queue until the
// pipe is closed.
func (t *Term) drainReplies() {
	defer t.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := t.emu.Read(buf)
		if n > 0 {
			t.in.push(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// writeInput writes queued bytes to w until Close.
func (t *Term) writeInput(w io.Writer) {
	defer t.wg.Done()
	var spare []byte
	for {
		select {
		case <-t.in.wake:
		case <-t.done:
			return
		}
		b := t.in.take(spare)
		if len(b) > 0 {
			// An error (the PTY is gone) drops the bytes: there is no one
			// left to read them.
			_, _ = w.Write(b)
		}
		spare = b[:0]
	}
}

// Write feeds the child's output to the emulator. It never fails. The lock
// is taken per feedChunk, so a Snapshot waits for a chunk's parsing at most
// (tens of microseconds), never for a whole large read.
func (t *Term) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += feedChunk {
		if off > 0 {
			// Parsing a flood takes a core (x/vt scrolls slowly): yield
			// between chunks, so the screen's goroutine, woken by a key,
			// runs now and not at the next preemption (up to 10 ms later).
			runtime.Gosched()
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			break
		}
		t.feedLocked(p[off:min(off+feedChunk, len(p))])
		t.mu.Unlock()
	}
	t.mu.Lock()
	lines, title := t.newLines, t.newTitle
	t.newLines, t.newTitle = nil, nil
	t.mu.Unlock()
	if title != nil && t.onTitle != nil {
		t.onTitle(*title)
	}
	if t.onLine != nil {
		for _, l := range lines {
			t.onLine(l)
		}
	}
	return len(p), nil
}

// drainLocked moves the lines x/vt pushed to its scrollback into the
// history (text and SGR) and, for OnLine, the pending lines not logged
// already.
func (t *Term) drainLocked() {
	sb := t.emu.Scrollback()
	if sb == nil || sb.Len() == 0 {
		if t.onLine != nil {
			t.resetIfErasedLocked()
		}
		return
	}
	lines := sb.Lines()
	for _, l := range lines {
		var plain *[]byte
		if t.onLine != nil && !t.colorLines {
			t.plainBuf = t.plainBuf[:0]
			plain = &t.plainBuf
		}
		t.rowBuf = appendRow(t.rowBuf[:0], plain, len(l), func(x int) *uv.Cell { return &l[x] })
		row := string(t.rowBuf)
		t.hist.push(row)
		switch {
		case t.onLine != nil && !t.scrolledLocked(row):
			// Logged when a line feed finished it.
		case plain != nil:
			t.newLines = append(t.newLines, strings.TrimRight(string(t.plainBuf), " "))
		case t.onLine != nil:
			t.newLines = append(t.newLines, row) // the same string: no copy
		}
	}
	clear(lines) // x/vt keeps the backing array: let the cells go
	sb.Clear()
	if t.onLine != nil {
		t.resetIfErasedLocked()
	}
}

// Resize changes the screen size; the PTY is resized by its owner
// (PTY.Resize), which makes the kernel signal the child.
func (t *Term) Resize(cols, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emu.Resize(clampSize(cols), clampSize(rows))
}

// Snapshot is the screen drawn for a pane: Lines has one entry per row,
// each text and SGR sequences only (trailing blank cells left out, a reset
// at the end of a styled row); the cursor is at CursorX, CursorY (0-based).
type Snapshot struct {
	Cols, Rows       int
	Lines            []string
	CursorX, CursorY int
	CursorVisible    bool
	AltScreen        bool
}

// Snapshot draws the current screen from its cells.
func (t *Term) Snapshot() Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.emu
	w, h := e.Width(), e.Height()
	s := Snapshot{Cols: w, Rows: h, Lines: make([]string, h), AltScreen: e.IsAltScreen()}
	for y := range h {
		t.rowBuf = appendRow(t.rowBuf[:0], nil, w, func(x int) *uv.Cell { return e.CellAt(x, y) })
		s.Lines[y] = string(t.rowBuf)
	}
	pos := e.CursorPosition()
	s.CursorX, s.CursorY = pos.X, pos.Y
	s.CursorVisible = !e.CursorHidden()
	return s
}

// AltScreen reports whether the child is on the alternate screen (a
// full-screen program).
func (t *Term) AltScreen() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.emu.IsAltScreen()
}

// ScrollbackLen is the number of lines kept in the scrollback.
func (t *Term) ScrollbackLen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hist.len()
}

// ScrollbackLines appends lines [from, to) of the scrollback to dst, 0
// being the oldest kept, each text and SGR like a Snapshot row. Old lines
// are dropped past the byte cap, which shifts the numbering: read
// ScrollbackLen and the lines under one call each frame, not across frames.
func (t *Term) ScrollbackLines(dst []string, from, to int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hist.slice(dst, from, to)
}

// SendInput queues bytes for the child (ordered with the emulator's
// replies) without blocking. It reports false when the queue is full and
// the bytes were dropped, or the Term is closed.
func (t *Term) SendInput(p []byte) bool {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed || len(p) == 0 {
		return !closed
	}
	return t.in.push(p)
}

// Key queues the encoding of k for the child, in the cursor-key mode the
// child asked for. It reports what SendInput does.
func (t *Term) Key(k Key) bool {
	t.mu.Lock()
	app := t.appCursor
	t.mu.Unlock()
	return t.SendInput(EncodeKey(k, app))
}

// Paste queues text as a paste: wrapped in bracketed-paste marks when the
// child turned mode 2004 on (with any end mark inside the text removed, so
// a paste cannot end itself early and type the rest as keys).
func (t *Term) Paste(text string) bool {
	t.mu.Lock()
	br := t.bracketed
	t.mu.Unlock()
	return t.SendInput(EncodePaste(text, br))
}

// Close stops the Term's goroutines; later Writes are ignored and input is
// refused. If Options.Reply can block (a PTY whose child stopped reading),
// close the PTY first so the pending write returns.
func (t *Term) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	if t.pipe != nil {
		t.pipe.Close()
	}
	close(t.done)
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// inbox is the byte queue to the child, capped; push never blocks.
type inbox struct {
	mu      sync.Mutex
	buf     []byte
	limit   int
	dropped int64
	wake    chan struct{}
}

func (q *inbox) push(p []byte) bool {
	q.mu.Lock()
	if len(q.buf)+len(p) > q.limit {
		q.dropped++
		q.mu.Unlock()
		return false
	}
	q.buf = append(q.buf, p...)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// take hands out the queued bytes and leaves spare as the new buffer.
func (q *inbox) take(spare []byte) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.buf
	q.buf = spare
	return b
}
