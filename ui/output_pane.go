package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

// outputPane shows a buffer of lines: scrollback, follow mode, optional
// timestamps, wrapping, search and a line selection. Its rows are wrapped
// and painted once per line and look. The Messages view is an outputPane
// too, over the unit's messages, drawn as pretty-printed JSON.
type outputPane struct {
	follow     bool
	top        int // line number (see logBuf.base) of the first line shown, when not following
	topSub     int // its first row shown
	timestamps bool
	nowrap     bool
	messages   bool // draw lines as channel messages
	width      int
	height     int // body rows
	key        wrapKey

	search searchState
	visual visualState

	rows []string // the body as rendered: exactly height rows
	// where the body is, for the title's position indicator and `v`
	firstLine, lastLine, lineCount int // lastLine is a line number, the others indexes

	// Its keys, enabled by updateKeys for the pane's state.
	keys  OutputKeys
	moves MoveKeys
	// What it shows, bound by the root before a key is routed to it (the
	// buffers belong to the logStore, the palette to the theme).
	pal *palette
	buf *logBuf
}

// SetSize gives the pane w columns and h body rows.
func (p *outputPane) SetSize(w, h int) {
	p.width, p.height = max(w, 1), max(h, 0)
	p.rekey()
}

func (p *outputPane) rekey() {
	p.key = wrapKey{width: p.width, timestamps: p.timestamps, nowrap: p.nowrap, query: p.search.query}
}

func (p *outputPane) toggleTimestamps() {
	p.timestamps = !p.timestamps
	p.rekey()
}

func (p *outputPane) toggleWrap() {
	p.nowrap = !p.nowrap
	p.rekey()
}

// reset shows a buffer from its newest line on, without a search or a
// selection (those belong to the buffer shown before).
func (p *outputPane) reset() {
	p.follow = true
	p.top, p.topSub = 0, 0
	p.search = searchState{cur: -1}
	p.visual = visualState{}
	p.rekey()
}

const tsLayout = "15:04:05.000 "

// lineKey is how line number n is to be drawn now.
func (p *outputPane) lineKey(n int) wrapKey {
	k := p.key
	switch {
	case p.visual.on && p.visual.contains(n):
		k.mark = markSelected
	case p.search.isCurrent(n):
		k.mark = markCurrent
	}
	return k
}

// rowsOf returns line i's display rows, drawing them again if stale.
func (p *outputPane) rowsOf(pal *palette, b *logBuf, i int) []string {
	l := &b.lines[i]
	k := p.lineKey(b.base + i)
	if l.key == k && l.rows != nil {
		return l.rows
	}
	l.key = k
	if p.messages {
		l.rows = renderMessage(l.rows[:0], pal, l, k)
	} else {
		l.rows = renderLine(l.rows[:0], pal, l, k)
	}
	return l.rows
}

// renderLine wraps (or cuts) and paints one line into rows of at most
// k.width cells.
func renderLine(dst []string, pal *palette, l *outLine, k wrapKey) []string {
	w := k.width
	body, marker := lineLook(pal, l)
	indent := width(marker) + l.prefixW
	lead := l.prefix
	if k.timestamps && !l.note && !l.at.IsZero() {
		lead += pal.timestamp.on(l.at.Format(tsLayout))
		indent += len(tsLayout)
	}
	if indent > w/2 {
		indent = 0 // too narrow for a hanging indent
		lead, marker = "", ""
	}
	text := l.text
	switch {
	case k.mark == markSelected:
		// A selection shows the plain text, so it reads as one block.
		text, body = l.plainText(), pal.selection
	case k.query != "":
		hl := pal.match
		if k.mark == markCurrent {
			hl = pal.curMatch
		}
		text = highlight(text, k.query, hl, body.open)
	}
	start := len(dst)
	dst = wrapText(dst, text, w-indent)
	if k.nowrap && len(dst)-start > 1 {
		dst = append(dst[:start], ansi.Truncate(dst[start], w-indent-1, "")+sgrTail(dst[start])+ellipsis)
	}
	for i := start; i < len(dst); i++ {
		row := dst[i]
		if k.mark == markSelected {
			row = fit(row, w-indent, false)
		}
		row = body.on(row)
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

// lineLook is how a line's stream is drawn: its paint and its marker.
func lineLook(pal *palette, l *outLine) (body paint, marker string) {
	switch {
	case l.note:
		return pal.dropped, ""
	case l.stream == procs.Stderr:
		return pal.stderr, ""
	case l.stream == procs.Event:
		return pal.event, "▸ "
	case l.stream == procs.IPCIn:
		return pal.dim, "← "
	case l.stream == procs.IPCOut:
		return pal.dim, "→ "
	}
	return paint{}, ""
}

// sgrTail is the reset a cut row needs when it holds colours.
func sgrTail(row string) string {
	if strings.IndexByte(row, 0x1b) >= 0 {
		return sgrReset
	}
	return ""
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
		n := len(p.rowsOf(pal, b, i))
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
	a.sub = min(a.sub, len(p.rowsOf(pal, b, a.line))-1)
	return a
}

// pause stops following where the body is now, so what is on screen stays.
func (p *outputPane) pause(pal *palette, b *logBuf) {
	if !p.follow || b == nil || len(b.lines) == 0 {
		return
	}
	a := p.topAnchor(pal, b)
	p.follow = false
	p.top, p.topSub = b.base+a.line, a.sub
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
				a.sub = len(p.rowsOf(pal, b, a.line)) - 1
				n--
			default:
				n = 0
			}
		}
	} else {
		for n := delta; n > 0 && bot.after(a); {
			rows := len(p.rowsOf(pal, b, a.line))
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
	p.follow = a == bot && !p.visual.on
	p.top, p.topSub = b.base+a.line, a.sub
}

// reveal scrolls so that line number n is on screen: with a third of the
// body above it when it was off screen and centre is set (a search jump),
// else just far enough (a selection moving).
func (p *outputPane) reveal(pal *palette, b *logBuf, n int, centre bool) {
	if b == nil {
		return
	}
	i := n - b.base
	if i < 0 || i >= len(b.lines) || p.height <= 0 {
		return
	}
	p.revealRow(pal, b, anchor{line: i}, len(p.rowsOf(pal, b, i))-1, centre)
}

// revealMatch scrolls so that the search's current match, on line number
// n, is on screen: the row it starts on, which in a long wrapped line can
// be far below the line's first row.
func (p *outputPane) revealMatch(pal *palette, b *logBuf, n int) {
	if b == nil {
		return
	}
	i := n - b.base
	if i < 0 || i >= len(b.lines) || p.height <= 0 {
		return
	}
	r := matchRow(p.rowsOf(pal, b, i), p.search.query)
	p.revealRow(pal, b, anchor{line: i, sub: r}, r, true)
}

// revealRow scrolls so that the rows of line at.line from row at.sub to row
// last are on screen (as many as fit): with a third of the body above them
// when they were off screen and centre is set, else just far enough.
func (p *outputPane) revealRow(pal *palette, b *logBuf, at anchor, last int, centre bool) {
	i := at.line
	a := p.topAnchor(pal, b)
	place := func() {
		p.follow = false
		p.top, p.topSub = b.base+i, at.sub
		if centre {
			p.scroll(pal, b, -p.height/3)
		}
	}
	if a.after(at) {
		place()
		return
	}
	// Rows from the top of the body to the end of row last of line i.
	rows := 0
	for j := a.line; j <= i && rows <= p.height; j++ {
		n := len(p.rowsOf(pal, b, j))
		if j == i {
			n = min(last+1, n)
		}
		if j == a.line {
			n -= a.sub
		}
		rows += n
	}
	if rows <= p.height {
		return
	}
	if centre || i > a.line+p.height {
		place()
		return
	}
	p.scroll(pal, b, rows-p.height)
}

// matchRow is the row of a line's rows where the first match of q starts
// (0 when it cannot tell).
func matchRow(rows []string, q string) int {
	if len(rows) < 2 || q == "" {
		return 0
	}
	plain := make([]string, len(rows))
	for r, row := range rows {
		plain[r] = ansi.Strip(row)
		if indexFold(plain[r], q, 0) >= 0 {
			return r
		}
	}
	// The match straddles a row end: find it in the joined rows (hanging
	// indents aside, the rows are the line cut in pieces).
	var joined strings.Builder
	starts := make([]int, len(plain))
	for r, s := range plain {
		if r > 0 {
			s = strings.TrimLeft(s, " ")
		}
		starts[r] = joined.Len()
		joined.WriteString(s)
	}
	at := indexFold(joined.String(), q, 0)
	if at < 0 {
		return 0
	}
	r := 0
	for r+1 < len(starts) && starts[r+1] <= at {
		r++
	}
	return r
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

// View prepares and returns the body rows.
func (p *outputPane) View(pal *palette, b *logBuf, empty string) []string {
	p.rows = p.rows[:0]
	p.firstLine, p.lastLine, p.lineCount = 0, 0, 0
	if p.height <= 0 {
		return p.rows
	}
	switch {
	case b == nil || (!b.loaded && len(b.lines) == 0):
		p.rows = append(p.rows, pal.dim.on(truncate("loading…", p.width)))
	case len(b.lines) == 0:
		p.rows = append(p.rows, pal.dim.on(truncate(empty, p.width)))
	default:
		p.search.sync(b)
		a := p.topAnchor(pal, b)
		p.firstLine, p.lineCount = a.line, len(b.lines)
		for i := a.line; i < len(b.lines) && len(p.rows) < p.height; i++ {
			rows := p.rowsOf(pal, b, i)
			if i == a.line {
				rows = rows[min(a.sub, len(rows)):]
			}
			if len(p.rows)+len(rows) <= p.height || i == a.line {
				p.lastLine = b.base + i // wholly on screen (or all there is)
			}
			rows = rows[:min(len(rows), p.height-len(p.rows))]
			p.rows = append(p.rows, rows...)
		}
	}
	for len(p.rows) < p.height {
		p.rows = append(p.rows, "")
	}
	return p.rows
}

// position words where the body is, for the pane's title.
func (p *outputPane) position() string {
	var parts []string
	if p.visual.on {
		parts = append(parts, "selecting "+plural(p.visual.count(), "line"))
	}
	if s := p.search.status(); s != "" {
		parts = append(parts, s)
	}
	switch {
	case p.follow:
		parts = append(parts, "following")
	case p.lineCount == 0:
		parts = append(parts, "paused")
	default:
		parts = append(parts, "paused · line "+grouped(uint64(p.firstLine+1))+"/"+grouped(uint64(p.lineCount)))
	}
	if p.nowrap {
		parts = append(parts, "no wrap")
	}
	return strings.Join(parts, " · ")
}

// visualState is a selection of whole lines for copying: from anchor to
// cursor, both line numbers (see logBuf.base).
type visualState struct {
	on             bool
	anchor, cursor int
}

func (v visualState) bounds() (lo, hi int) { return min(v.anchor, v.cursor), max(v.anchor, v.cursor) }

func (v visualState) contains(n int) bool {
	lo, hi := v.bounds()
	return n >= lo && n <= hi
}

func (v visualState) count() int {
	lo, hi := v.bounds()
	return hi - lo + 1
}

// startSelection selects the newest line wholly on screen and freezes the
// body, so the selection does not scroll away while the unit writes.
func (p *outputPane) startSelection(pal *palette, b *logBuf) bool {
	if b == nil || len(b.lines) == 0 {
		return false
	}
	p.pause(pal, b)
	n := max(min(p.lastLine, b.end()-1), b.base)
	p.visual = visualState{on: true, anchor: n, cursor: n}
	return true
}

// moveSelection moves the selection's cursor end by delta lines.
func (p *outputPane) moveSelection(pal *palette, b *logBuf, delta int) {
	if b == nil || len(b.lines) == 0 {
		return
	}
	v := &p.visual
	v.anchor = max(v.anchor, b.base) // lines may have been evicted
	v.cursor = max(b.base, min(v.cursor+delta, b.end()-1))
	p.reveal(pal, b, v.cursor, false)
}

// selectionText is the selected lines as plain text, one per line.
func (p *outputPane) selectionText(b *logBuf) (string, int) {
	lo, hi := p.visual.bounds()
	lo, hi = max(lo, b.base), min(hi, b.end()-1)
	var sb strings.Builder
	n := 0
	for i := lo; i <= hi; i++ {
		if n > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(b.lines[i-b.base].plainText())
		n++
	}
	return sb.String(), n
}
