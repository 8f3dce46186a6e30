package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// footerItem is an entry of the one-line help and how much it matters:
// a narrow terminal drops the lowest first.
type footerItem struct {
	b    key.Binding
	prio int
	pair bool // goes with its neighbour (up and down, next and previous)
}

// footer lists the one-line help in display order for the current state.
func (k KeyMap) footer() []footerItem {
	st := k.st
	var out []footerItem
	add := func(prio int, bs ...key.Binding) {
		for _, b := range bs {
			out = append(out, footerItem{b: b, prio: prio})
		}
	}
	// pair adds two entries that make sense only together.
	pair := func(prio int, a, b key.Binding) {
		out = append(out, footerItem{b: a, prio: prio, pair: true}, footerItem{b: b, prio: prio, pair: true})
	}
	switch {
	case st.modal == modalConfirm:
		add(9, k.Yes, k.No)
		return out
	case st.modal != modalNone:
		pair(5, k.Up, k.Down)
		add(9, k.Submit)
		add(6, k.HistoryPrev)
		add(8, k.Cancel)
		add(7, k.Quit)
		return out
	case st.helpOpen:
		add(5, k.Up, k.Down)
		add(9, k.CloseHelp, k.Quit)
		return out
	}
	// In the table the unit's actions matter most; in the pane, moving
	// through the lines and finding things in them.
	inTable := st.focus == focusTable
	act := 0
	switch {
	case st.visual:
		pair(7, k.Up, k.Down)
	case inTable:
		pair(5, k.Up, k.Down)
	default:
		pair(6, k.Up, k.Down)
		act = -1
	}
	if inTable {
		add(4, k.Fold)
		add(4, k.Filter)
		add(2, k.Sort)
		add(1, k.Mark)
	} else {
		add(7, k.Bottom) // "follow": the way back after scrolling
		if st.searching {
			add(3, k.Search)
		} else {
			add(5, k.Search)
		}
		pair(6, k.NextMatch, k.PrevMatch)
		add(3, k.Select)
		add(7, k.Copy)
		add(2, k.Wrap, k.Timestamps)
	}
	add(8, k.Clear)
	add(6, k.Compose)
	add(9, k.Type)
	add(7+act, k.Start, k.Stop)
	add(6+act, k.Restart)
	add(5+act, k.Kill)
	add(3, k.Signal)
	add(4, k.ScaleUp, k.ScaleDown, k.Reload)
	add(4, k.views)
	if st.mode != modeSingle {
		add(6, k.Split, k.Merged)
	} else {
		add(1, k.Split, k.Merged)
	}
	add(5, k.Focus)
	add(10, k.Help, k.Quit, k.StopAll)
	return out
}

// ShortHelp is the one-line footer, in display order; disabled bindings
// are skipped when it is drawn.
func (k KeyMap) ShortHelp() []key.Binding {
	items := k.footer()
	out := make([]key.Binding, len(items))
	for i, it := range items {
		out[i] = it.b
	}
	return out
}

// helpSection is one group of the `?` screen.
type helpSection struct {
	title   string
	entries []helpEntry
}

// helpEntry is one line of the `?` screen: keys, what they do, and whether
// they do it now (the others are drawn dim).
type helpEntry struct {
	keys, desc string
	on         bool
}

// sections is the `?` screen: every key, grouped by where it works. k is
// the key map as it applies behind the `?` screen (see Model.renderHelp),
// so each entry knows whether it applies now. The unit's actions come
// first, worded for the selected unit, since that is the question `?` most
// often answers.
func (k KeyMap) sections() []helpSection {
	e := func(b key.Binding, keys, desc string) helpEntry {
		return helpEntry{keys: keys, desc: desc, on: b.Enabled()}
	}
	unit := func(b key.Binding, keys string) helpEntry {
		return helpEntry{keys: keys, desc: b.Help().Desc, on: b.Enabled()}
	}
	clear := k.Clear.Help().Desc
	clearOn := func(descs ...string) bool {
		for _, d := range descs {
			if k.Clear.Enabled() && clear == d {
				return true
			}
		}
		return false
	}
	selected := []helpEntry{unit(k.Start, "s"), unit(k.Stop, "x"), unit(k.Restart, "r"), unit(k.Kill, "K"), unit(k.Signal, "!")}
	// Only where the engine can: most never will.
	if k.st.canScale {
		selected = append(selected, e(k.ScaleUp, "+/-", "scale group"))
	}
	if k.st.canReload {
		selected = append(selected, unit(k.Reload, "R"))
	}
	pane := []helpEntry{
		e(k.ViewOutput, "1", "output"), e(k.ViewMessages, "2", "messages"), e(k.ViewStats, "3", "stats"),
		e(k.Split, "S", "split marked"), e(k.Merged, "M", "merged: all units"), {"esc", "close split/merged", clearOn("")},
	}
	if k.st.ttys {
		// Only where there is a tty unit; ctrl+a is for typing mode,
		// where this screen cannot be open.
		pane = append(pane, e(k.Type, "i/enter", "type into tty"), helpEntry{"ctrl+a", "stop typing", false})
	}
	secs := []helpSection{
		{"selected unit", selected},
		// Words kept short: three columns fit 80 cells, and all of it 80x24.
		{"move", []helpEntry{
			e(k.Up, "↑↓/kj", "up/down"),
			e(k.PageUp, "pgup/ctrl+b", "page up"), e(k.PageDown, "pgdn/ctrl+f", "page down"),
			e(k.HalfUp, "ctrl+u/d", "half a page"),
			e(k.Top, "g/home", "first/top"), e(k.Bottom, "G/end", "last/follow"),
			e(k.Focus, "tab", "switch pane"), e(k.Focus, "shift+tab", "switch back"),
		}},
		{"units table", []helpEntry{
			e(k.Fold, "enter/spc", "fold/unfold"), e(k.Expand, "l/→", "unfold"), e(k.Collapse, "h/←", "fold"),
			e(k.Filter, "/", "filter"), e(k.Sort, "o", "cycle sort"), e(k.SortReverse, "O", "reverse sort"),
			e(k.Mark, "*", "mark to split"), {"esc", "clear filter", clearOn("clear filter")},
		}},
		{"pane", pane},
		{"output", []helpEntry{
			e(k.Search, "/", "search"), e(k.NextMatch, "n/N", "next/prev match"),
			e(k.Select, "v", "select lines"), e(k.Copy, "y", "copy (OSC 52)"),
			e(k.Wrap, "w", "wrap on/off"), e(k.Timestamps, "t", "timestamps"),
			{"esc", "clear search", clearOn("clear search", "cancel selection")},
		}},
		{"messages", []helpEntry{
			e(k.Compose, "m/:", "write message"), e(k.Submit, "enter/esc", "send/close"),
			e(k.HistoryPrev, "↑/↓", "history"),
		}},
		{"general", []helpEntry{
			e(k.Yes, "y/n", "yes/no"), e(k.Redraw, "ctrl+l/z", "redraw/suspend"),
			e(k.Mouse, "@", "mouse on/off"), e(k.Help, "?", "this help"),
			e(k.Quit, "q/ctrl+c", "quit"),
		}},
	}
	if k.st.attached { // only where there is something to stop besides the screen
		g := &secs[len(secs)-1]
		g.entries[len(g.entries)-1].desc = "leave (kelpie keeps running)"
		g.entries = append(g.entries, e(k.StopAll, "Q", "stop every unit and kelpie"))
	}
	return secs
}

// FullHelp is every key, one group per section (help.KeyMap); those that
// do not apply now are disabled.
func (k KeyMap) FullHelp() [][]key.Binding {
	var out [][]key.Binding
	for _, s := range k.sections() {
		var group []key.Binding
		for _, e := range s.entries {
			b := key.NewBinding(key.WithKeys(e.keys), key.WithHelp(e.keys, e.desc))
			b.SetEnabled(e.on)
			group = append(group, b)
		}
		out = append(out, group)
	}
	return out
}

// renderFooter is the one-line help: the keys that apply now, the less
// important ones left out when the line is too narrow.
func (m *Model) renderFooter() string {
	if m.tty.typing.on {
		return m.typingFooter()
	}
	items := m.keys.footer()
	on := make([]bool, len(items))
	for i, it := range items {
		on[i] = it.b.Enabled() && it.b.Help().Key != ""
	}
	// The least important entry goes first; of equals, the rightmost.
	for footerWidth(items, on) > m.width {
		if !dropLeast(items, on) {
			break
		}
	}
	const sep = " • "
	var b strings.Builder
	used, first := 0, true
	for i, it := range items {
		if !on[i] {
			continue
		}
		w := itemWidth(it.b)
		if !first {
			w += 3
		}
		if used+w > m.width {
			break
		}
		if !first {
			m.pal.helpSep.write(&b, sep)
		}
		m.pal.helpKey.write(&b, it.b.Help().Key)
		b.WriteByte(' ')
		m.pal.helpDesc.write(&b, it.b.Help().Desc)
		used += w
		first = false
	}
	return b.String()
}

// itemWidth is a footer entry's width: "key desc".
func itemWidth(b key.Binding) int { return width(b.Help().Key) + 1 + width(b.Help().Desc) }

// footerWidth is the width of the entries on, " • " between them.
func footerWidth(items []footerItem, on []bool) int {
	n, first := 0, true
	for i, it := range items {
		if !on[i] {
			continue
		}
		if !first {
			n += 3 // " • " is 3 cells
		}
		n += itemWidth(it.b)
		first = false
	}
	return n
}

// dropLeast turns off the least important entry that is on (of equals,
// the rightmost) and its partner; it reports whether there was one.
func dropLeast(items []footerItem, on []bool) bool {
	drop := -1
	for i, it := range items {
		if on[i] && (drop < 0 || it.prio <= items[drop].prio) {
			drop = i
		}
	}
	if drop < 0 {
		return false
	}
	on[drop] = false
	if items[drop].pair { // its partner goes too: the one before or after
		for _, j := range []int{drop - 1, drop + 1} {
			if j >= 0 && j < len(items) && items[j].pair && items[j].prio == items[drop].prio {
				on[j] = false
			}
		}
	}
	return true
}

// renderHelp is the `?` screen in the place of the table and the pane:
// every key in sections, as many columns as fit, scrolled by the moving
// keys when it is still too long.
func (m *Model) renderHelp(w, h int) []string {
	p := m.pal
	type block struct {
		lines []string
		w     int
	}
	var blocks []block
	colW := 0
	// Every key is listed; those that do nothing now are dim. What applies
	// is what would apply with the `?` screen closed.
	st := m.keyState()
	st.helpOpen = false
	m.applyKeys(st) // render applies them again for the `?` screen
	now := m.keys
	for _, s := range now.sections() {
		bl := block{lines: []string{p.title.on(s.title)}, w: width(s.title)}
		keyW := 0
		for _, e := range s.entries {
			keyW = max(keyW, width(e.keys))
		}
		for _, e := range s.entries {
			kp, dp := p.helpKey, p.helpDesc
			if !e.on {
				kp, dp = p.helpOff, p.helpOff
			}
			bl.lines = append(bl.lines, " "+kp.on(e.keys)+spaces(keyW-width(e.keys)+1)+dp.on(e.desc))
			bl.w = max(bl.w, 1+keyW+1+width(e.desc))
		}
		blocks = append(blocks, bl)
		colW = max(colW, bl.w)
	}
	const gap = 3
	ncols := max(1, min(len(blocks), (w+gap)/(colW+gap)))
	total := 0
	for _, bl := range blocks {
		total += len(bl.lines) + 1
	}
	target := (total + ncols - 1) / ncols
	var cols [][]string
	var col []string
	for _, bl := range blocks {
		if len(col) > 0 && len(col)+len(bl.lines) > target && len(cols) < ncols-1 {
			cols = append(cols, col)
			col = nil
		}
		if len(col) > 0 {
			col = append(col, "")
		}
		col = append(col, bl.lines...)
	}
	cols = append(cols, col)
	rows := 0
	for _, c := range cols {
		rows = max(rows, len(c))
	}
	var body []string
	for i := range rows {
		var b strings.Builder
		for j, c := range cols {
			cell := ""
			if i < len(c) {
				cell = c[i]
			}
			if j < len(cols)-1 {
				cell = fit(cell, colW, false) + spaces(gap)
			}
			b.WriteString(cell)
		}
		body = append(body, truncate(" "+b.String(), w))
	}
	m.helpOffset = max(0, min(m.helpOffset, len(body)-(h-1)))
	m.helpScrolls = len(body) > h-1
	more := ""
	if m.helpScrolls {
		more = " ↑↓ scroll ·"
	}
	lines := []string{ruleLine(p.ruleFocused, w,
		[]segment{{"keys", p.title}},
		[]segment{{more + " ?/esc close ", p.dim}, {"──", p.ruleFocused}})}
	for i := m.helpOffset; i < len(body) && len(lines) < h; i++ {
		lines = append(lines, body[i])
	}
	return lines
}
