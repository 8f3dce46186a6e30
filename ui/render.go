package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// render prepares every piece of the screen and the frame View returns.
func (m *Model) render() {
	m.renders++
	if m.width <= 0 || m.height <= 0 {
		m.frame = ""
		return
	}
	m.applyKeys(m.keyState())
	m.lay = m.computeLayout()
	if m.lay.small {
		m.frame = m.renderSmall()
		return
	}
	m.stats.SetSize(m.lay.paneW, m.lay.paneH-1)
	m.menu.SetSize(m.lay.paneW, m.lay.paneH)
	now := m.now()
	if m.helpOpen {
		m.helpLines = m.renderHelp(m.width, m.height-3)
		m.applyKeys(m.keyState()) // the footer offers scrolling only if it does
	}
	m.header = m.renderHeader()
	m.statusLine = m.renderStatus()
	m.footer = m.renderFooter()
	if !m.helpOpen {
		m.table.focused = m.focus == focusTable
		m.table.SetSize(m.lay.tableW, m.lay.tableH)
		m.table.View(m.pal, now)
		m.paneLines = m.renderPane(now)
	}
	m.frame = m.compose()
}

func (m *Model) renderSmall() string {
	lines := make([]string, m.height)
	msg := "terminal too small"
	if m.shutting {
		msg = "stopping…"
	}
	lines[0] = truncate(msg, m.width)
	return strings.Join(lines, "\n")
}

// compose joins the prepared pieces into exactly height lines.
func (m *Model) compose() string {
	l := &m.lay
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	b.WriteString(m.header)
	switch {
	case m.helpOpen:
		for i := 0; i < m.height-3; i++ {
			b.WriteByte('\n')
			if i < len(m.helpLines) {
				b.WriteString(m.helpLines[i])
			}
		}
	case l.wide:
		sep := m.pal.rule.on("│") + " "
		for i := 0; i < l.tableH; i++ {
			b.WriteByte('\n')
			b.WriteString(m.table.lines[i])
			b.WriteString(sep)
			if i < len(m.paneLines) {
				b.WriteString(m.paneLines[i])
			}
		}
	default:
		for _, line := range m.table.lines {
			b.WriteByte('\n')
			b.WriteString(line)
		}
		for i := 0; i < l.paneH; i++ {
			b.WriteByte('\n')
			if i < len(m.paneLines) {
				b.WriteString(m.paneLines[i])
			}
		}
	}
	b.WriteByte('\n')
	b.WriteString(m.statusLine)
	b.WriteByte('\n')
	b.WriteString(m.footer)
	return b.String()
}

func (m *Model) renderHeader() string {
	p, c := m.pal, &m.totals
	// The config's name on the left, kelpie itself (version, own use) dim
	// on the right. A narrower terminal loses the version, then the words
	// after the counts, then the right end.
	for tier := range 3 {
		compact := tier == 2
		left := []segment{{safe(m.opts.Title), p.brand}}
		word := func(s string) string {
			if compact {
				return ""
			}
			return " " + s
		}
		left = append(left,
			segment{"   " + strconv.Itoa(c.units) + " units", p.header},
			segment{"  ● " + strconv.Itoa(c.running) + word("running"), p.running},
		)
		if c.crashed > 0 {
			left = append(left, segment{"  ✖ " + strconv.Itoa(c.crashed) + word("crashed"), p.crashed})
		}
		if c.stuck > 0 {
			left = append(left, segment{"  ! " + strconv.Itoa(c.stuck) + word("stuck"), p.crashed})
		}
		if c.backoff > 0 {
			left = append(left, segment{"  ◌ " + strconv.Itoa(c.backoff) + word("backoff"), p.starting})
		}
		if c.paused > 0 {
			left = append(left, segment{"  ‖ " + strconv.Itoa(c.paused) + word("paused"), p.paused})
		}
		left = append(left, segment{"   cpu " + percent(c.cpu) + "%  mem " + humanBytes(c.rss), p.header})
		var right []segment
		if m.mouse {
			right = append(right, segment{"mouse  ", p.dim})
		}
		self, gap := "kelpie", " "
		if m.opts.Version != "" && tier == 0 {
			self, gap = self+" "+safe(m.opts.Version), "  "
		}
		if m.haveStats {
			self += gap + percent(m.self.CPU) + "% " + humanBytes(m.self.RSS)
		}
		right = append(right, segment{self, p.dim})
		if compact || segWidth(left)+2+segWidth(right) <= m.width {
			return spread(m.width, left, right)
		}
	}
	return ""
}

// spread lays segments out on one line of exactly w cells: left ones from
// the start, right ones flush right when there is room for them.
func spread(w int, left, right []segment) string {
	lw, rw := segWidth(left), segWidth(right)
	if lw+2+rw > w {
		right, rw = nil, 0
	}
	var b strings.Builder
	used := 0
	for _, s := range left {
		room := w - used
		if room <= 0 {
			break
		}
		t := truncate(s.text, room)
		s.p.write(&b, t)
		used += width(t)
	}
	b.WriteString(spaces(w - used - rw))
	for _, s := range right {
		s.p.write(&b, s.text)
	}
	return b.String()
}

func segWidth(segs []segment) int {
	n := 0
	for _, s := range segs {
		n += width(s.text)
	}
	return n
}

// renderStatus is the line above the footer: a question, the filter or
// search being typed, the shutdown's progress, the last action's outcome,
// or the filter in force.
func (m *Model) renderStatus() string {
	p, w := m.pal, m.width
	switch {
	case m.confirm != nil:
		return p.question.on(truncate(m.confirm.question+"  y/n", w))
	case m.lineFor != modalNone:
		info := ""
		if m.lineFor == modalFilter {
			info = strconv.Itoa(m.table.shownUnits()) + " of " + plural(len(m.table.order), "unit")
		} else if pane, _ := m.activePane(); pane != nil {
			info = pane.search.status()
		}
		m.line.Width = max(w-width(m.line.Prompt)-width(info)-3, 1)
		return truncate(m.line.View()+"  "+p.dim.on(info), w)
	case m.shutting && m.killing:
		return p.err.on(truncate(fmt.Sprintf("killing %s…", plural(m.totals.live, "unit")), w))
	case m.shutting:
		return p.warn.on(truncate(fmt.Sprintf("stopping %s…  (q again: kill now)", plural(m.totals.live, "unit")), w))
	case m.status.text == "" && m.table.filter != "":
		keys := "" // the keys work on the table only
		if m.focus == focusTable && !m.helpOpen {
			keys = " · / edits · esc clears"
		}
		return p.dim.on(truncate("filter “"+safe(m.table.filter)+"”: "+strconv.Itoa(m.table.shownUnits())+" of "+
			plural(len(m.table.order), "unit")+keys, w))
	case m.status.text == "":
		return ""
	}
	pt := p.info
	switch m.status.kind {
	case statusOK:
		pt = p.success
	case statusError:
		pt = p.err
	}
	return pt.on(truncate(m.status.text, w))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "ch") || strings.HasSuffix(what, "ss") {
		return strconv.Itoa(n) + " " + what + "es"
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// renderPane is the detail pane: a menu, several units, or the selected
// unit's title, state reason and view.
func (m *Model) renderPane(now time.Time) []string {
	w, h := m.lay.paneW, m.lay.paneH
	p := m.pal
	if m.menu.open {
		return m.menu.View(p, w, h)
	}
	switch m.mode {
	case modeSplit:
		return m.split.View(m.splitLook(), w, h)
	case modeMerged:
		return m.renderMerged(w, h)
	}
	rule := p.rule
	if m.focus == focusOutput {
		rule = p.ruleFocused
	}
	r := m.table.selected()
	if r == nil {
		title := "no unit selected"
		if !m.subscribed {
			title = "connecting…"
		}
		m.pane.SetSize(w, 0)
		return []string{ruleLine(rule, w, []segment{{title, p.dim}}, nil)}
	}
	if r.virtual {
		return m.renderGroup(r, rule, w, h, now)
	}
	in := &r.info
	glyph, words, tone := stateText(in, now)
	tty := m.ttyShown() != ""
	left := []segment{{r.label, p.title}}
	if title := m.ttyTitle(in); tty && title != "" {
		// The child's title, beside its name: never on the terminal's.
		left = append(left, segment{" “" + title + "”", p.info})
	}
	nameW := segWidth(left) // the name and the title
	left = append(left, segment{"  " + glyph + " " + words, p.rows[rowNormal].state[tone]})
	if note := unitNote(in, now); note != "" && in.State != procs.Waiting {
		// A waiting unit's reason has its own line below.
		left = append(left, segment{"  " + note, p.info})
	}
	left = append(left, segment{"  " + in.Command, p.dim})
	lines := make([]string, 0, h)
	// Render the body first: the title tells where it is.
	reasonText := shownReason(in)
	reason := reasonText != "" && h >= 4
	bodyH := h - 1
	if reason {
		bodyH--
	}
	view := m.shownView()
	body, where := m.renderBody(r, view, tty, w, bodyH, now)
	right := m.titleRight(view, in.Channel != "", where, w, nameW+2+width(glyph)+1+width(words))
	lines = append(lines, ruleLine(rule, w, left, append(right, segment{"──", rule})))
	if reason {
		rp := p.dim
		switch toneOf(in.State) {
		case toneCrashed:
			rp = p.crashed
		case toneStarting:
			rp = p.warn
		}
		lines = append(lines, rp.on(truncate("  "+reasonText, w)))
	}
	return append(lines, body...)
}

// renderBody is the selected unit's view, w x h, and where it is for the
// pane's title: its screen (a tty unit), its output, messages or stats.
func (m *Model) renderBody(r *unitRow, view detailView, tty bool, w, h int, now time.Time) ([]string, string) {
	p := m.pal
	b := m.logs.get(m.shown)
	switch {
	case tty:
		return m.renderTTY(w, h)
	case view == viewOutput:
		m.pane.SetSize(w, h)
		m.pane.View(p, b, "no output yet")
		return m.pane.rows, m.pane.position()
	case view == viewMessages:
		return m.renderMessages(b, &r.info, w, h)
	}
	m.stats.View(p, m.styles, r, chartSet{hist: r.hist, ticks: &m.ticks, now: now}, m.ticks.count, w, h)
	where := "waiting for samples"
	if n := min(r.hist.n, m.ticks.n); n >= 2 {
		where = "last " + compactDuration(m.ticks.fromEnd(0).Sub(m.ticks.fromEnd(n-1)))
	}
	return m.stats.rows, where
}

// titleRight is the right end of the pane's title: the views (the shown
// one in brackets) and where the view is. A narrow pane words it shorter,
// so that the unit's name and state (leftW cells) stay whole.
func (m *Model) titleRight(shown detailView, hasChannel bool, where string, w, leftW int) []segment {
	p := m.pal
	tabs := func(numbers bool, all bool) []segment {
		var out []segment
		for v := range viewCount {
			if v == viewMessages && !hasChannel || (!all && v != shown) {
				continue
			}
			label := v.String()
			if numbers {
				label = strconv.Itoa(int(v)+1) + " " + label
			}
			if v == shown {
				out = append(out, segment{" [" + label + "]", p.tabActive})
			} else {
				out = append(out, segment{" " + label, p.tab})
			}
		}
		return out
	}
	tail := segment{" · " + where + " ", p.dim}
	for _, cand := range [][]segment{
		append(tabs(true, true), tail),
		append(tabs(false, true), tail),
		append(tabs(false, false), tail),
		{{" " + where + " ", p.dim}},
	} {
		if segWidth(cand)+2+6+leftW <= w { // the name and state stay whole

			return cand
		}
	}
	return nil
}

// renderMessages is the Messages view's body: the traffic, and the
// composer under it while it is open. It returns the title's words too.
func (m *Model) renderMessages(b *logBuf, in *procs.Info, w, h int) ([]string, string) {
	p := m.pal
	c := &m.composer
	composerH := 0
	if c.open && c.target == in.Name && h >= 3 {
		composerH = 2
	}
	var mb *logBuf
	if b != nil {
		mb = b.messages()
	}
	m.msgPane.SetSize(w, h-composerH)
	m.msgPane.View(p, mb, "no messages yet · press m to send one")
	body := m.msgPane.rows
	if composerH > 0 {
		body = append(body[:len(body):len(body)], m.composerLines(w, safe(c.target))...)
	}
	where := safe(in.Channel)
	if in.Channel == procs.ChannelConnected {
		where = "● connected"
	} else if in.Channel == procs.ChannelDisconnected {
		where = "✖ disconnected"
	}
	n := 0
	if mb != nil {
		n = len(mb.lines)
	}
	return body, where + " · " + plural(n, "message") + " · " + m.msgPane.position()
}

// renderMerged is every unit's output in one stream.
func (m *Model) renderMerged(w, h int) []string {
	p := m.pal
	rule := p.rule
	if m.focus == focusOutput {
		rule = p.ruleFocused
	}
	v := &m.merged
	v.pane.SetSize(w, h-1)
	v.pane.View(p, v.buf, "no output yet")
	title := ruleLine(rule, w,
		[]segment{{"all units", p.title}, {"  merged output of " + plural(len(m.table.order), "unit"), p.dim}},
		[]segment{{" " + v.pane.position() + " ", p.dim}, {"──", rule}})
	return append([]string{title}, v.pane.rows...)
}

// splitLook binds the split view to what it draws from.
func (m *Model) splitLook() splitLook {
	return splitLook{
		pal:     m.pal,
		focused: m.focus == focusOutput,
		now:     m.now(),
		info: func(name string) *procs.Info {
			if r := m.table.byName[name]; r != nil {
				return &r.info
			}
			return nil
		},
		buf: m.logs.get,
	}
}

// composerLines are the composer's two lines: the message being typed, and
// whether it is one (and where enter sends it).
func (m *Model) composerLines(w int, to string) []string {
	p, c := m.pal, &m.composer
	c.SetSize(w, 1)
	vp := p.err
	switch {
	case c.ok:
		vp = p.success
	case strings.TrimSpace(c.input.Value()) == "":
		vp = p.dim
	}
	verdict := c.verdict
	if c.ok {
		verdict += " · enter sends to " + to
	}
	if c.sending {
		verdict = "sending…"
	}
	return []string{truncate(c.input.View(), w), vp.on(truncate(verdict, w))}
}
