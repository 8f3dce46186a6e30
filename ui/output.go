package ui

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// detailView is what the detail pane shows for the selected unit. Output is
// the only view so far; messages (the IPC channel's traffic) and stats
// (history charts) come next.
type detailView uint8

const (
	viewOutput detailView = iota
)

func (v detailView) String() string {
	switch v {
	case viewOutput:
		return "output"
	}
	return "?"
}

// outLine is one line of a unit's output as the pane keeps it.
type outLine struct {
	seq    uint64
	at     time.Time
	stream procs.Stream
	text   string
	note   bool // written by kelpie, not the unit ("N lines dropped")

	key  wrapKey  // what rows were wrapped for
	rows []string // painted display rows
}

// wrapKey is everything a line's display rows depend on.
type wrapKey struct {
	width      int
	timestamps bool
}

// logBuf is the output the UI keeps for one unit: the newest lines, fetched
// from the engine when it announces new ones.
type logBuf struct {
	name     string
	lines    []outLine
	base     int    // lines evicted from the front: lines[i] is line number base+i
	loaded   bool   // the first fetch came back
	have     uint64 // newest sequence number held
	want     uint64 // newest sequence number announced
	fetching bool   // a fetch is in flight
}

// logsMsg carries lines fetched for a unit.
type logsMsg struct {
	name   string
	tail   bool // the answer to a Tail: it replaces what the buffer holds
	lines  []procs.Line
	missed uint64
	err    error
}

// needsFetch reports whether the engine has lines the buffer lacks.
func (b *logBuf) needsFetch() bool {
	return !b.fetching && (!b.loaded || b.want > b.have)
}

// fetch returns the command that brings the buffer up to date: the newest
// keep lines on first sight (or when too far behind to be worth reading
// through), else the lines after the newest held.
func (b *logBuf) fetch(be Backend, keep int) tea.Cmd {
	b.fetching = true
	name := b.name
	if !b.loaded || b.want-b.have > uint64(keep) {
		return func() tea.Msg {
			lines, err := be.Tail(name, keep)
			return logsMsg{name: name, tail: true, lines: lines, err: err}
		}
	}
	after := b.have
	return func() tea.Msg {
		lines, missed, err := be.Since(name, after, keep)
		return logsMsg{name: name, lines: lines, missed: missed, err: err}
	}
}

// apply stores fetched lines, keeping at most keep.
func (b *logBuf) apply(msg logsMsg, keep int) {
	b.fetching = false
	b.loaded = true
	if msg.err != nil {
		b.want = b.have // do not retry in a loop; the next announcement will
		return
	}
	if msg.tail {
		b.base += len(b.lines)
		b.lines = b.lines[:0:0]
	} else if msg.missed > 0 && len(b.lines) > 0 {
		b.lines = append(b.lines, outLine{
			note: true, text: "⋯ " + grouped(msg.missed) + " lines dropped",
			seq: b.have, stream: procs.Event,
		})
	}
	for _, l := range msg.lines {
		if !msg.tail && l.Seq <= b.have {
			continue
		}
		b.lines = append(b.lines, outLine{seq: l.Seq, at: l.Time, stream: l.Stream, text: l.Text})
		b.have = max(b.have, l.Seq)
	}
	b.want = max(b.want, b.have)
	if n := len(b.lines) - keep; n > 0 {
		b.base += n
		b.lines = b.lines[n:]
	}
}

// logStore holds the buffers of the units shown lately, so coming back to a
// unit is instant; the least recently shown go first.
type logStore struct {
	bufs   map[string]*logBuf
	recent []string // most recently shown last
	limit  int
}

const keptBuffers = 8

func newLogStore() logStore {
	return logStore{bufs: make(map[string]*logBuf), limit: keptBuffers}
}

func (s *logStore) get(name string) *logBuf { return s.bufs[name] }

// open returns name's buffer, making it if needed, and marks it recently shown.
func (s *logStore) open(name string, announced uint64) *logBuf {
	b := s.bufs[name]
	if b == nil {
		b = &logBuf{name: name, want: announced}
		s.bufs[name] = b
	}
	for i, n := range s.recent {
		if n == name {
			s.recent = append(s.recent[:i], s.recent[i+1:]...)
			break
		}
	}
	s.recent = append(s.recent, name)
	for len(s.recent) > s.limit {
		delete(s.bufs, s.recent[0])
		s.recent = s.recent[1:]
	}
	return b
}

func (s *logStore) drop(name string) {
	delete(s.bufs, name)
	for i, n := range s.recent {
		if n == name {
			s.recent = append(s.recent[:i], s.recent[i+1:]...)
			break
		}
	}
}

// outputPane shows one unit's output: scrollback, follow mode, optional
// timestamps. Its rows are wrapped and painted once per line and width.
type outputPane struct {
	view       detailView
	follow     bool
	top        int // line number (see logBuf.base) of the first line shown, when not following
	topSub     int // its first row shown
	timestamps bool
	width      int
	height     int // body rows
	key        wrapKey

	rows []string // the body as rendered: exactly height rows
	// where the body starts, for the title's position indicator
	firstLine, lineCount int
}

func (p *outputPane) setSize(w, h int) {
	p.width, p.height = max(w, 1), max(h, 0)
	p.key = wrapKey{width: p.width, timestamps: p.timestamps}
}

func (p *outputPane) toggleTimestamps() {
	p.timestamps = !p.timestamps
	p.key = wrapKey{width: p.width, timestamps: p.timestamps}
}

// reset shows a unit from its newest line on.
func (p *outputPane) reset() {
	p.follow = true
	p.top, p.topSub = 0, 0
}

const tsLayout = "15:04:05.000 "

// rowsOf returns line i's display rows, wrapping it if its rows are stale.
func (p *outputPane) rowsOf(pal *palette, l *outLine) []string {
	if l.key == p.key && l.rows != nil {
		return l.rows
	}
	l.key = p.key
	l.rows = renderLine(l.rows[:0], pal, l, p.width, p.timestamps)
	return l.rows
}

// renderLine wraps and paints one line into rows of at most w cells.
func renderLine(dst []string, pal *palette, l *outLine, w int, timestamps bool) []string {
	var lead, marker string
	var body paint
	switch {
	case l.note:
		body = pal.dropped
	case l.stream == procs.Stderr:
		body = pal.stderr
	case l.stream == procs.Event:
		body, marker = pal.event, "▸ "
	case l.stream == procs.IPCIn:
		body, marker = pal.dim, "← "
	case l.stream == procs.IPCOut:
		body, marker = pal.dim, "→ "
	}
	indent := width(marker)
	if timestamps && !l.note && !l.at.IsZero() {
		lead = pal.timestamp.on(l.at.Format(tsLayout))
		indent += len(tsLayout)
	}
	if indent > w/2 {
		indent = 0 // too narrow for a hanging indent
		lead, marker = "", ""
	}
	start := len(dst)
	dst = wrapText(dst, l.text, w-indent)
	for i := start; i < len(dst); i++ {
		row := body.on(dst[i])
		switch {
		case i == start && (lead != "" || marker != ""):
			row = lead + body.on(marker) + row
		case indent > 0:
			row = spaces(indent) + row
		}
		dst[i] = row
	}
	return dst
}

// anchor is a row in the buffer: line index and row within it.
type anchor struct{ line, sub int }

func (a anchor) after(b anchor) bool {
	return a.line > b.line || (a.line == b.line && a.sub > b.sub)
}

// bottom is the anchor whose rows fill the body to the buffer's end.
func (p *outputPane) bottom(pal *palette, b *logBuf) anchor {
	need := p.height
	for i := len(b.lines) - 1; i >= 0; i-- {
		n := len(p.rowsOf(pal, &b.lines[i]))
		if n >= need {
			return anchor{i, n - need}
		}
		need -= n
	}
	return anchor{}
}

// topAnchor is where the body starts now.
func (p *outputPane) topAnchor(pal *palette, b *logBuf) anchor {
	bot := p.bottom(pal, b)
	if p.follow {
		return bot
	}
	a := anchor{line: p.top - b.base, sub: p.topSub}
	if a.line < 0 {
		return anchor{}
	}
	if a.line >= len(b.lines) || a.after(bot) {
		return bot
	}
	a.sub = min(a.sub, len(p.rowsOf(pal, &b.lines[a.line]))-1)
	return a
}

// scroll moves the body by delta rows (negative: up, towards older lines).
// Scrolling up leaves follow mode; reaching the bottom resumes it.
func (p *outputPane) scroll(pal *palette, b *logBuf, delta int) {
	if b == nil || len(b.lines) == 0 || delta == 0 {
		return
	}
	a := p.topAnchor(pal, b)
	bot := p.bottom(pal, b)
	if delta < 0 {
		for n := -delta; n > 0; {
			switch {
			case a.sub > 0:
				step := min(a.sub, n)
				a.sub -= step
				n -= step
			case a.line > 0:
				a.line--
				a.sub = len(p.rowsOf(pal, &b.lines[a.line])) - 1
				n--
			default:
				n = 0
			}
		}
	} else {
		for n := delta; n > 0 && bot.after(a); {
			rows := len(p.rowsOf(pal, &b.lines[a.line]))
			switch {
			case a.sub+1 < rows:
				step := min(rows-1-a.sub, n)
				a.sub += step
				n -= step
			case a.line+1 < len(b.lines):
				a.line++
				a.sub = 0
				n--
			default:
				n = 0
			}
		}
		if a.after(bot) {
			a = bot
		}
	}
	p.follow = a == bot
	p.top, p.topSub = b.base+a.line, a.sub
}

// home shows the oldest line kept.
func (p *outputPane) home(pal *palette, b *logBuf) {
	if b == nil {
		return
	}
	p.top, p.topSub = b.base, 0
	p.follow = len(b.lines) == 0 || p.bottom(pal, b) == anchor{}
}

// end resumes following.
func (p *outputPane) end() { p.follow = true }

// render prepares the body rows.
func (p *outputPane) render(pal *palette, b *logBuf) {
	p.rows = p.rows[:0]
	p.firstLine, p.lineCount = 0, 0
	if p.height <= 0 {
		return
	}
	switch {
	case b == nil || (!b.loaded && len(b.lines) == 0):
		p.rows = append(p.rows, pal.dim.on(truncate("loading output…", p.width)))
	case len(b.lines) == 0:
		p.rows = append(p.rows, pal.dim.on(truncate("no output yet", p.width)))
	default:
		a := p.topAnchor(pal, b)
		p.firstLine, p.lineCount = a.line, len(b.lines)
		for i := a.line; i < len(b.lines) && len(p.rows) < p.height; i++ {
			rows := p.rowsOf(pal, &b.lines[i])
			if i == a.line {
				rows = rows[min(a.sub, len(rows)):]
			}
			rows = rows[:min(len(rows), p.height-len(p.rows))]
			p.rows = append(p.rows, rows...)
		}
	}
	for len(p.rows) < p.height {
		p.rows = append(p.rows, "")
	}
}

// position words where the body is, for the pane's title.
func (p *outputPane) position() string {
	if p.follow {
		return "following"
	}
	if p.lineCount == 0 {
		return "paused"
	}
	return "paused · line " + grouped(uint64(p.firstLine+1)) + "/" + grouped(uint64(p.lineCount))
}

// ruleLine draws a title rule exactly w cells wide: "── left ───── right ──".
// Segments are painted pieces of text; the first segment that does not fit
// is cut.
type segment struct {
	text string
	p    paint
}

func ruleLine(rule paint, w int, left, right []segment) string {
	if w <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	put := func(s segment, room int) bool {
		t := truncate(s.text, room)
		s.p.write(&b, t)
		used += width(t)
		return width(t) == width(s.text)
	}
	rightW := 0
	for _, s := range right {
		rightW += width(s.text)
	}
	if rightW+8 > w {
		right, rightW = nil, 0
	}
	lead := "── "
	if w < 6 {
		lead = ""
	}
	rule.write(&b, lead)
	used += width(lead)
	for _, s := range left {
		room := w - used - rightW - 1
		if room <= 0 || !put(s, room) {
			break
		}
	}
	fill := w - used - rightW
	if fill > 0 {
		rule.write(&b, " "+strings.Repeat("─", fill-1))
		used += fill
	}
	for _, s := range right {
		put(s, w-used)
	}
	return b.String()
}
