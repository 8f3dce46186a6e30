package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/kelpie-dev/kelpie/procs"
)

// KeyMap holds every key binding of the screen. Bindings that do not apply
// right now are disabled (see KeyMap.apply), so the footer only ever lists
// keys that do something, and a key that means two things in two places
// (`/` filters the table and searches the output) is only ever one of them.
type KeyMap struct {
	// Moving: the selection in the table, the scrollback in the pane, the
	// cursor in a menu, the `?` screen.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	HalfUp   key.Binding
	HalfDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// Focus switches between the table and the pane (and the columns of a
	// split view).
	Focus key.Binding

	// The table: folding groups and process trees, filter, sort, marks.
	Fold        key.Binding
	Expand      key.Binding
	Collapse    key.Binding
	Filter      key.Binding
	Sort        key.Binding
	SortReverse key.Binding
	Mark        key.Binding

	// Acting on the selected unit.
	Start   key.Binding
	Stop    key.Binding
	Restart key.Binding
	Kill    key.Binding
	Signal  key.Binding

	// The pane: the selected unit's views, or several units at once.
	ViewOutput   key.Binding
	ViewMessages key.Binding
	ViewStats    key.Binding
	Split        key.Binding
	Merged       key.Binding

	// Output (also in split and merged panes).
	Timestamps key.Binding
	Wrap       key.Binding
	Search     key.Binding
	NextMatch  key.Binding
	PrevMatch  key.Binding
	Select     key.Binding
	Copy       key.Binding

	// Messages.
	Compose key.Binding

	// Clear backs out of what is on: a selection, a search, a filter, a
	// split or merged pane.
	Clear key.Binding

	// Inputs (filter, search, composer), the signal menu, questions.
	Submit      key.Binding
	Cancel      key.Binding
	HistoryPrev key.Binding
	HistoryNext key.Binding
	Yes         key.Binding
	No          key.Binding

	// The terminal and leaving. Redraw (ctrl+l) and Suspend (ctrl+z) work
	// everywhere, inputs included: the screen handles them before the model
	// sees the key.
	Redraw    key.Binding
	Suspend   key.Binding
	Mouse     key.Binding
	Help      key.Binding
	CloseHelp key.Binding
	Quit      key.Binding

	// views is the footer's one entry for the view keys; it is never
	// matched, the ViewOutput/ViewMessages/ViewStats bindings are.
	views key.Binding
	st    keyState // set by apply: the footer differs per state
}

// DefaultKeyMap returns kelpie's key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		HalfUp:   key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		HalfDown: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "last")),

		Focus: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "output")),

		Fold:        key.NewBinding(key.WithKeys("enter", " "), key.WithHelp("enter", "unfold")),
		Expand:      key.NewBinding(key.WithKeys("l", "right"), key.WithHelp("l/→", "unfold")),
		Collapse:    key.NewBinding(key.WithKeys("h", "left"), key.WithHelp("h/←", "fold")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort")),
		SortReverse: key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "reverse")),
		Mark:        key.NewBinding(key.WithKeys("*"), key.WithHelp("*", "mark")),

		Start:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
		Stop:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop")),
		Restart: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")),
		Kill:    key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill")),
		Signal:  key.NewBinding(key.WithKeys("!"), key.WithHelp("!", "signal…")),

		ViewOutput:   key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "output")),
		ViewMessages: key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "messages")),
		ViewStats:    key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "stats")),
		Split:        key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "split")),
		Merged:       key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "merged")),

		Timestamps: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timestamps")),
		Wrap:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
		Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		NextMatch:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next")),
		PrevMatch:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous")),
		Select:     key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "select")),
		Copy:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy")),

		Compose: key.NewBinding(key.WithKeys("m", ":"), key.WithHelp("m", "message")),

		Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),

		Submit:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		HistoryPrev: key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "history")),
		HistoryNext: key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "newer")),
		Yes:         key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:          key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "no")),

		Redraw:    key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("ctrl+l", "redraw")),
		Suspend:   key.NewBinding(key.WithKeys("ctrl+z"), key.WithHelp("ctrl+z", "suspend")),
		Mouse:     key.NewBinding(key.WithKeys("@"), key.WithHelp("@", "mouse")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		CloseHelp: key.NewBinding(key.WithKeys("esc", "?"), key.WithHelp("?/esc", "close help"), key.WithDisabled()),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),

		views: key.NewBinding(key.WithKeys("1", "2", "3"), key.WithHelp("1-3", "views")),
	}
}

// all lists every binding, to switch them all off before apply turns on
// the ones that fit.
func (k *KeyMap) all() []*key.Binding {
	return []*key.Binding{
		&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.HalfUp, &k.HalfDown, &k.Top, &k.Bottom, &k.Focus,
		&k.Fold, &k.Expand, &k.Collapse, &k.Filter, &k.Sort, &k.SortReverse, &k.Mark,
		&k.Start, &k.Stop, &k.Restart, &k.Kill, &k.Signal,
		&k.ViewOutput, &k.ViewMessages, &k.ViewStats, &k.Split, &k.Merged,
		&k.Timestamps, &k.Wrap, &k.Search, &k.NextMatch, &k.PrevMatch, &k.Select, &k.Copy,
		&k.Compose, &k.Clear, &k.Submit, &k.Cancel, &k.HistoryPrev, &k.HistoryNext, &k.Yes, &k.No,
		&k.Redraw, &k.Suspend, &k.Mouse, &k.Help, &k.CloseHelp, &k.Quit, &k.views,
	}
}

// modal says what has the keyboard besides the screen itself.
type modal uint8

const (
	modalNone    modal = iota
	modalConfirm       // a y/n question in the status line
	modalMenu          // the signal menu
	modalFilter        // typing the table's filter
	modalSearch        // typing an output search
	modalCompose       // typing a message
)

// keyState is what decides which bindings apply.
type keyState struct {
	focus       focusArea
	mode        paneMode
	view        detailView // the view shown (messages only for units with a channel)
	lines       bool       // the pane shows lines that scroll and follow
	outputLike  bool       // ... and they are output: search, select, wrap, timestamps
	selected    *procs.Info
	procRow     bool // the cursor is on a process of a unit's tree
	member      bool // the cursor is on a member of a group
	expandable  bool
	open        bool
	marked      bool // the selected unit is marked
	canSplit    bool // the selected and marked units are at least two
	following   bool
	searching   bool // the pane has a search
	visual      bool
	filtering   bool // the table has a filter
	helpOpen    bool
	helpScrolls bool
	shutting    bool
	mouse       bool
	modal       modal
	nextSort    colID
	paneName    string // what tab goes to from the table: "output", "stats", "split"...
}

// apply enables the bindings that do something in st and words their help
// for it, so the footer and the `?` screen are always true.
func (k *KeyMap) apply(st keyState) {
	k.st = st
	for _, b := range k.all() {
		b.SetEnabled(false)
	}
	k.Redraw.SetEnabled(true)
	k.Suspend.SetEnabled(true)
	k.Quit.SetKeys("q", "ctrl+c")
	k.Quit.SetHelp("q", "quit")
	if st.shutting {
		k.Quit.SetHelp("q", "kill all now")
	}
	if st.modal != modalNone {
		// Typing goes to the input: only ctrl+c still leaves.
		k.Quit.SetKeys("ctrl+c")
		k.Quit.SetHelp("ctrl+c", "quit")
		k.Quit.SetEnabled(true)
		k.applyModal(st)
		return
	}
	k.Quit.SetEnabled(true)
	moving := []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.HalfUp, &k.HalfDown, &k.Top, &k.Bottom}
	k.applyUnit(st)
	if st.helpOpen {
		for _, b := range []*key.Binding{&k.Start, &k.Stop, &k.Restart, &k.Kill, &k.Signal, &k.Compose} {
			b.SetEnabled(false)
		}
		for _, b := range moving {
			b.SetEnabled(st.helpScrolls)
		}
		k.Up.SetHelp("↑↓/jk", "scroll")
		k.Down.SetHelp("", "") // one footer entry for both
		k.CloseHelp.SetEnabled(true)
		return
	}
	for _, b := range moving {
		b.SetEnabled(true)
	}
	k.Focus.SetEnabled(true)
	k.Help.SetEnabled(true)
	k.Mouse.SetEnabled(true)
	if st.mouse {
		k.Mouse.SetHelp("@", "mouse off")
	} else {
		k.Mouse.SetHelp("@", "mouse on")
	}

	k.applyPane(st)

	inTable := st.focus == focusTable
	k.Up.SetHelp("↑/k", "up")
	k.Down.SetHelp("↓/j", "down")
	if inTable {
		k.Top.SetHelp("g/home", "first unit")
		k.Bottom.SetHelp("G/end", "last unit")
		k.Focus.SetHelp("tab", st.paneName)
		k.applyTable(st)
	} else {
		k.Top.SetHelp("g/home", "top")
		k.Bottom.SetHelp("G/end", "follow")
		k.Focus.SetHelp("tab", "units")
		if st.mode == modeSplit {
			k.Focus.SetHelp("tab", "next")
		}
		// G/end in a pane of lines is "follow": only useful when not following.
		k.Bottom.SetEnabled(!st.lines || !st.following)
		if !st.lines {
			k.Bottom.SetHelp("G/end", "bottom")
		}
	}
	if st.outputLike && !inTable {
		k.Search.SetEnabled(true)
		k.NextMatch.SetEnabled(st.searching)
		k.PrevMatch.SetEnabled(st.searching)
		k.Select.SetEnabled(!st.visual)
		k.Copy.SetEnabled(st.visual)
		if st.visual {
			k.Up.SetHelp("↑/k", "extend")
			k.Down.SetHelp("↓/j", "extend")
		}
	}
	if st.outputLike {
		k.Timestamps.SetEnabled(true)
		k.Wrap.SetEnabled(true)
	}

	// esc backs out of the innermost thing that is on.
	switch {
	case st.visual && !inTable:
		k.Clear.SetHelp("esc", "cancel selection")
	case st.searching && !inTable:
		k.Clear.SetHelp("esc", "clear search")
	case st.filtering && inTable:
		k.Clear.SetHelp("esc", "clear filter")
	case st.mode != modeSingle:
		k.Clear.SetHelp("", "") // S or M says it in the footer
	default:
		return
	}
	k.Clear.SetEnabled(true)
}

func (k *KeyMap) applyModal(st keyState) {
	switch st.modal {
	case modalConfirm:
		k.Yes.SetEnabled(true)
		k.No.SetEnabled(true)
	case modalMenu:
		for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom} {
			b.SetEnabled(true)
		}
		k.Top.SetHelp("g/home", "first")
		k.Bottom.SetHelp("G/end", "last")
		k.Submit.SetEnabled(true)
		k.Submit.SetHelp("enter", "send")
		k.Cancel.SetEnabled(true)
		k.Cancel.SetHelp("esc", "close")
	case modalFilter:
		k.Submit.SetEnabled(true)
		k.Submit.SetHelp("enter", "keep filter")
		k.Cancel.SetEnabled(true)
		k.Cancel.SetHelp("esc", "clear filter")
	case modalSearch:
		k.Submit.SetEnabled(true)
		k.Submit.SetHelp("enter", "search")
		k.Cancel.SetEnabled(true)
		k.Cancel.SetHelp("esc", "cancel")
	case modalCompose:
		k.Submit.SetEnabled(true)
		k.Submit.SetHelp("enter", "send")
		k.HistoryPrev.SetEnabled(true)
		k.HistoryNext.SetEnabled(true)
		k.Cancel.SetEnabled(true)
		k.Cancel.SetHelp("esc", "close")
	}
}

// applyUnit enables the actions that make sense for the selected unit.
func (k *KeyMap) applyUnit(st keyState) {
	unit := st.selected != nil && !st.shutting
	var state procs.State
	pid := 0
	if st.selected != nil {
		state, pid = st.selected.State, st.selected.PID
	}
	k.Start.SetEnabled(unit && !state.Live())
	k.Stop.SetEnabled(unit && (state == procs.Starting || state == procs.Running || state == procs.Paused || state == procs.Backoff))
	k.Restart.SetEnabled(unit)
	k.Kill.SetEnabled(unit && pid != 0)
	k.Signal.SetEnabled(unit && pid != 0)
	if state == procs.Backoff {
		k.Start.SetHelp("s", "start now")
		k.Stop.SetHelp("x", "cancel restart")
	} else {
		k.Start.SetHelp("s", "start")
		k.Stop.SetHelp("x", "stop")
	}
	k.Compose.SetEnabled(unit && st.selected.Channel != "" && st.mode == modeSingle)
}

// applyPane enables the view and pane keys.
func (k *KeyMap) applyPane(st keyState) {
	single := st.mode == modeSingle && st.selected != nil
	hasChannel := st.selected != nil && st.selected.Channel != ""
	k.ViewOutput.SetEnabled(single && st.view != viewOutput)
	k.ViewMessages.SetEnabled(single && hasChannel && st.view != viewMessages)
	k.ViewStats.SetEnabled(single && st.view != viewStats)
	var on []key.Binding
	for _, b := range []key.Binding{k.ViewOutput, k.ViewMessages, k.ViewStats} {
		if b.Enabled() {
			on = append(on, b)
		}
	}
	switch len(on) {
	case 0:
	case 1:
		k.views.SetEnabled(true)
		k.views.SetHelp(on[0].Help().Key, on[0].Help().Desc)
	default:
		k.views.SetEnabled(true)
		label := on[0].Help().Key
		for _, b := range on[1:] {
			label += "/" + b.Help().Key
		}
		k.views.SetHelp(label, "views")
	}
	switch st.mode {
	case modeSplit:
		k.Split.SetEnabled(true)
		k.Split.SetHelp("S", "close split")
	case modeMerged:
		k.Merged.SetEnabled(true)
		k.Merged.SetHelp("M", "close merged")
	default:
		k.Split.SetEnabled(st.canSplit)
		k.Split.SetHelp("S", "split marked")
		k.Merged.SetEnabled(st.selected != nil)
		k.Merged.SetHelp("M", "merged")
	}
}

// applyTable enables the table's own keys.
func (k *KeyMap) applyTable(st keyState) {
	k.Filter.SetEnabled(true)
	k.Sort.SetEnabled(true)
	k.Sort.SetHelp("o", "sort: "+st.nextSort.String())
	k.SortReverse.SetEnabled(true)
	if st.selected == nil {
		return
	}
	k.Mark.SetEnabled(!st.procRow)
	if st.marked {
		k.Mark.SetHelp("*", "unmark")
	} else {
		k.Mark.SetHelp("*", "mark")
	}
	switch {
	case st.procRow:
		k.Fold.SetEnabled(true)
		k.Fold.SetHelp("enter", "fold")
		k.Collapse.SetEnabled(true)
	case st.expandable:
		k.Fold.SetEnabled(true)
		if st.open {
			k.Fold.SetHelp("enter", "fold")
		} else {
			k.Fold.SetHelp("enter", "unfold")
		}
		k.Expand.SetEnabled(!st.open)
		k.Collapse.SetEnabled(st.open)
	case st.member:
		k.Collapse.SetEnabled(true)
	}
}

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
	add(7+act, k.Start, k.Stop)
	add(6+act, k.Restart)
	add(5+act, k.Kill)
	add(3, k.Signal)
	add(4, k.views)
	if st.mode != modeSingle {
		add(6, k.Split, k.Merged)
	} else {
		add(1, k.Split, k.Merged)
	}
	add(5, k.Focus)
	add(10, k.Help, k.Quit)
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
	return []helpSection{
		{"selected unit", []helpEntry{
			unit(k.Start, "s"), unit(k.Stop, "x"), unit(k.Restart, "r"), unit(k.Kill, "K"), unit(k.Signal, "!"),
		}},
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
		{"pane", []helpEntry{
			e(k.ViewOutput, "1", "output"), e(k.ViewMessages, "2", "messages"), e(k.ViewStats, "3", "stats"),
			e(k.Split, "S", "split marked"), e(k.Merged, "M", "merged: all units"), {"esc", "close split/merged", clearOn("")},
		}},
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
