package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// KeyMap holds every key binding of the screen, as the user configures it
// (Options.KeyMap). Each component takes its own part of it at New (the
// table its TableKeys, an output pane its OutputKeys, every scrolling one
// its MoveKeys...) and enables those bindings by its own state; the root
// keeps the rest (the unit's actions, the views, focus, help, quit) and,
// for the footer and the `?` screen, gathers the components' maps back
// into one (see Model.applyKeys). Bindings that do not apply right now are
// disabled, so the footer only ever lists keys that do something, and a
// key that means two things in two places (`/` filters the table and
// searches the output) is only ever one of them.
type KeyMap struct {
	// Moving: the selection in the table, the scrollback in the pane, the
	// cursor in a menu, the `?` screen.
	MoveKeys

	// Focus switches between the table and the pane (and the columns of a
	// split view).
	Focus key.Binding

	// The table: folding groups and process trees, filter, sort, marks.
	TableKeys

	// Acting on the selected unit.
	Start   key.Binding
	Stop    key.Binding
	Restart key.Binding
	Kill    key.Binding
	Signal  key.Binding

	// A group row, when the engine can (a cluster): one member more or
	// fewer, and a rolling reload.
	ScaleUp   key.Binding
	ScaleDown key.Binding
	Reload    key.Binding

	// The pane: the selected unit's views, or several units at once.
	ViewOutput   key.Binding
	ViewMessages key.Binding
	ViewStats    key.Binding
	Split        key.Binding
	Merged       key.Binding

	// Output (also in split and merged panes).
	OutputKeys

	// Messages.
	Compose key.Binding

	// Type enters typing mode on a tty unit's screen: every key then goes
	// to the child until ctrl+a (see typing.go).
	Type key.Binding

	// Clear backs out of what is on: a selection, a search, a filter, a
	// split or merged pane.
	Clear key.Binding

	// Inputs (filter, search, composer), the signal menu, questions.
	InputKeys
	HistoryKeys
	Yes key.Binding
	No  key.Binding

	// The terminal and leaving. Redraw (ctrl+l) and Suspend (ctrl+z) work
	// everywhere, inputs included: the screen handles them before the model
	// sees the key.
	Redraw    key.Binding
	Suspend   key.Binding
	Mouse     key.Binding
	Help      key.Binding
	CloseHelp key.Binding
	Quit      key.Binding
	// StopAll stops every unit and the kelpie an attached screen shows
	// (after a y); q only leaves such a screen.
	StopAll key.Binding

	// views is the footer's one entry for the view keys; it is never
	// matched, the ViewOutput/ViewMessages/ViewStats bindings are.
	views key.Binding
	st    keyState // set by apply: the footer differs per state
}

// MoveKeys move a cursor or a scrollback: every component that scrolls
// has its own copy, worded for it ("first unit", "follow", "extend").
type MoveKeys struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	HalfUp   key.Binding
	HalfDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
}

// TableKeys are the units table's own keys.
type TableKeys struct {
	Fold        key.Binding
	Expand      key.Binding
	Collapse    key.Binding
	Filter      key.Binding
	Sort        key.Binding
	SortReverse key.Binding
	Mark        key.Binding
}

// OutputKeys are an output pane's own keys (the Output view, a column of
// a split view, the merged stream).
type OutputKeys struct {
	Timestamps key.Binding
	Wrap       key.Binding
	Search     key.Binding
	NextMatch  key.Binding
	PrevMatch  key.Binding
	Select     key.Binding
	Copy       key.Binding
}

// InputKeys end an input (the filter, a search, the composer) or the
// signal menu.
type InputKeys struct {
	Submit key.Binding
	Cancel key.Binding
}

// HistoryKeys walk the composer's history of sent messages.
type HistoryKeys struct {
	HistoryPrev key.Binding
	HistoryNext key.Binding
}

// list is every moving binding.
func (k *MoveKeys) list() []*key.Binding {
	return []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.HalfUp, &k.HalfDown, &k.Top, &k.Bottom}
}

// enable switches every moving binding on or off.
func (k *MoveKeys) enable(on bool) {
	for _, b := range k.list() {
		b.SetEnabled(on)
	}
}

// distance turns a moving key into a distance for a view of height rows:
// a delta, or the top or the bottom.
func (k *MoveKeys) distance(msg tea.KeyMsg, height int) (delta int, top, bottom bool) {
	page := max(height, 1)
	switch {
	case key.Matches(msg, k.Up):
		return -1, false, false
	case key.Matches(msg, k.Down):
		return 1, false, false
	case key.Matches(msg, k.PageUp):
		return -page, false, false
	case key.Matches(msg, k.PageDown):
		return page, false, false
	case key.Matches(msg, k.HalfUp):
		return -max(page/2, 1), false, false
	case key.Matches(msg, k.HalfDown):
		return max(page/2, 1), false, false
	case key.Matches(msg, k.Top):
		return 0, true, false
	case key.Matches(msg, k.Bottom):
		return 0, false, true
	}
	return 0, false, false
}

// matches reports whether msg is one of the moving keys (enabled).
func (k *MoveKeys) matches(msg tea.KeyMsg) bool {
	return key.Matches(msg, k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom)
}

// DefaultKeyMap returns kelpie's key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		MoveKeys: MoveKeys{
			Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
			Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
			PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
			PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
			HalfUp:   key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
			HalfDown: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
			Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "first")),
			Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "last")),
		},

		Focus: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "output")),

		TableKeys: TableKeys{
			Fold:        key.NewBinding(key.WithKeys("enter", " "), key.WithHelp("enter", "unfold")),
			Expand:      key.NewBinding(key.WithKeys("l", "right"), key.WithHelp("l/→", "unfold")),
			Collapse:    key.NewBinding(key.WithKeys("h", "left"), key.WithHelp("h/←", "fold")),
			Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
			Sort:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort")),
			SortReverse: key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "reverse")),
			Mark:        key.NewBinding(key.WithKeys("*"), key.WithHelp("*", "mark")),
		},

		Start:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
		Stop:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop")),
		Restart: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")),
		Kill:    key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill")),
		Signal:  key.NewBinding(key.WithKeys("!"), key.WithHelp("!", "signal…")),

		ScaleUp:   key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "scale up")),
		ScaleDown: key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "scale down")),
		Reload:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "reload")),

		ViewOutput:   key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "output")),
		ViewMessages: key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "messages")),
		ViewStats:    key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "stats")),
		Split:        key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "split")),
		Merged:       key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "merged")),

		OutputKeys: OutputKeys{
			Timestamps: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timestamps")),
			Wrap:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
			Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
			NextMatch:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next")),
			PrevMatch:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous")),
			Select:     key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "select")),
			Copy:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy")),
		},

		Compose: key.NewBinding(key.WithKeys("m", ":"), key.WithHelp("m", "message")),
		Type:    key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "type")),

		Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),

		InputKeys: InputKeys{
			Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
			Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		},
		HistoryKeys: HistoryKeys{
			HistoryPrev: key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "history")),
			HistoryNext: key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "newer")),
		},
		Yes: key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:  key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "no")),

		Redraw:    key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("ctrl+l", "redraw")),
		Suspend:   key.NewBinding(key.WithKeys("ctrl+z"), key.WithHelp("ctrl+z", "suspend")),
		Mouse:     key.NewBinding(key.WithKeys("@"), key.WithHelp("@", "mouse")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		CloseHelp: key.NewBinding(key.WithKeys("esc", "?"), key.WithHelp("?/esc", "close help"), key.WithDisabled()),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		StopAll:   key.NewBinding(key.WithKeys("Q"), key.WithHelp("Q", "stop all"), key.WithDisabled()),

		views: key.NewBinding(key.WithKeys("1", "2", "3"), key.WithHelp("1-3", "views")),
	}
}

// all lists every binding, to switch them all off before apply turns on
// the ones that fit.
func (k *KeyMap) all() []*key.Binding {
	return []*key.Binding{
		&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.HalfUp, &k.HalfDown, &k.Top, &k.Bottom, &k.Focus,
		&k.Fold, &k.Expand, &k.Collapse, &k.Filter, &k.Sort, &k.SortReverse, &k.Mark,
		&k.Start, &k.Stop, &k.Restart, &k.Kill, &k.Signal, &k.ScaleUp, &k.ScaleDown, &k.Reload,
		&k.ViewOutput, &k.ViewMessages, &k.ViewStats, &k.Split, &k.Merged,
		&k.Timestamps, &k.Wrap, &k.Search, &k.NextMatch, &k.PrevMatch, &k.Select, &k.Copy,
		&k.Compose, &k.Type, &k.Clear, &k.Submit, &k.Cancel, &k.HistoryPrev, &k.HistoryNext, &k.Yes, &k.No,
		&k.Redraw, &k.Suspend, &k.Mouse, &k.Help, &k.CloseHelp, &k.Quit, &k.StopAll, &k.views,
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
	selected    *procs.Info
	group       *groupAbilities // the selected row is a group the table made: what reaches a member
	groupRow    bool            // the selected row is a group row (made or the engine's)
	canScale    bool            // the backend scales groups (see cluster.go)
	canReload   bool            // ... reloads them
	canSplit    bool            // the selected and marked units are at least two
	searching   bool            // the pane has a search
	visual      bool
	filtering   bool // the table has a filter
	helpOpen    bool
	helpScrolls bool
	shutting    bool
	mouse       bool
	attached    bool // q leaves an attached screen; StopAll stops the kelpie
	modal       modal
	paneName    string // what tab goes to from the table: "output", "stats", "split"...
	tty         bool   // the pane shows a tty unit's screen
	ttys        bool   // some unit is a tty unit
	typing      bool   // typing mode is on: every key goes to the child
}

// apply enables the root's own bindings that do something in st and words
// their help for it, so the footer and the `?` screen are always true. It
// switches every component's binding off in the root's map: each component
// enables its own (see Model.applyKeys).
func (k *KeyMap) apply(st keyState) {
	k.st = st
	for _, b := range k.all() {
		b.SetEnabled(false)
	}
	if st.typing {
		// Every key goes to the child, ctrl+c, ctrl+l and ctrl+z too:
		// ctrl+a leaves (typing.go), the footer says so.
		return
	}
	k.Redraw.SetEnabled(true)
	k.Suspend.SetEnabled(true)
	k.Quit.SetEnabled(true)
	k.Quit.SetKeys("q", "ctrl+c")
	k.Quit.SetHelp("q", "quit")
	if st.shutting {
		k.Quit.SetHelp("q", "kill all now")
	}
	if st.attached {
		k.Quit.SetHelp("q", "leave")
		k.StopAll.SetEnabled(st.modal == modalNone && !st.helpOpen)
	}
	if st.modal != modalNone {
		// Typing goes to the input: only ctrl+c still leaves.
		k.Quit.SetKeys("ctrl+c")
		k.Quit.SetHelp("ctrl+c", "quit")
		k.applyModal(st)
		return
	}
	if st.helpOpen {
		k.MoveKeys.enable(st.helpScrolls)
		k.Up.SetHelp("↑↓/jk", "scroll")
		k.Down.SetHelp("", "") // one footer entry for both
		k.CloseHelp.SetEnabled(true)
		return
	}
	k.applyUnit(st)
	k.Focus.SetEnabled(true)
	k.Help.SetEnabled(true)
	k.Mouse.SetEnabled(true)
	if st.mouse {
		k.Mouse.SetHelp("@", "mouse off")
	} else {
		k.Mouse.SetHelp("@", "mouse on")
	}
	k.applyPane(st)
	k.applyClear(st)
}

// applyClear words esc for the innermost thing that is on.
func (k *KeyMap) applyClear(st keyState) {
	inTable := st.focus == focusTable
	switch {
	case inTable:
		k.Focus.SetHelp("tab", st.paneName)
	case st.mode == modeSplit:
		k.Focus.SetHelp("tab", "next")
	default:
		k.Focus.SetHelp("tab", "units")
	}
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

// applyModal enables the keys of the root's own modal states: a question,
// and the filter and search lines. The signal menu and the composer enable
// theirs.
func (k *KeyMap) applyModal(st keyState) {
	switch st.modal {
	case modalConfirm:
		k.Yes.SetEnabled(true)
		k.No.SetEnabled(true)
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
	}
}

// canStop says whether a unit in state s can be asked to stop: it runs or
// is about to (starting, waiting for its dependencies, backing off). One
// rule for a unit's key, a group's key and whom a group's stop reaches.
func canStop(s procs.State) bool {
	switch s {
	case procs.Starting, procs.Running, procs.Paused, procs.Backoff, procs.Waiting:
		return true
	}
	return false
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
	k.Stop.SetEnabled(unit && canStop(state))
	k.Restart.SetEnabled(unit)
	k.Kill.SetEnabled(unit && (pid != 0 || workerKillable(st.selected)))
	k.Signal.SetEnabled(unit && pid != 0)
	if state == procs.Backoff && st.group == nil {
		k.Start.SetHelp("s", "start now")
		k.Stop.SetHelp("x", "cancel restart")
	} else {
		k.Start.SetHelp("s", "start")
		k.Stop.SetHelp("x", "stop")
	}
	k.Compose.SetEnabled(unit && st.selected.Channel != "" && st.mode == modeSingle)
	// i types into a tty unit's screen; so does enter where the pane has
	// the keyboard, but that is the tty pane's own key (ttyPane.enter: in
	// the table enter folds). The footer's word names both there.
	k.Type.SetEnabled(unit && st.tty && state == procs.Running)
	if st.focus == focusOutput {
		k.Type.SetHelp("i/enter", "type")
	} else {
		k.Type.SetHelp("i", "type")
	}
	if unit {
		k.applyGroup(st)
	}
}

// workerKillable: K on a live worker is answered, since a goroutine cannot
// be killed: it is stopped instead (see killOrStop). A stuck one has been.
func workerKillable(in *procs.Info) bool {
	return in != nil && in.Kind == procs.KindWorker && in.State.Live() && in.State != procs.Stuck
}

// applyGroup enables a group row's actions: those that reach a member of
// a group the table made, and the cluster keys where the backend has them.
func (k *KeyMap) applyGroup(st keyState) {
	if g := st.group; g != nil {
		k.Start.SetEnabled(g.start)
		k.Stop.SetEnabled(g.stop)
		k.Kill.SetEnabled(g.kill)
		k.Signal.SetEnabled(g.signal)
		k.Compose.SetEnabled(g.send && st.mode == modeSingle)
	}
	k.ScaleUp.SetEnabled(st.groupRow && st.canScale)
	k.ScaleDown.SetEnabled(st.groupRow && st.canScale)
	k.Reload.SetEnabled(st.groupRow && st.canReload)
}

// applyPane enables the view and pane keys.
func (k *KeyMap) applyPane(st keyState) {
	// A group row's pane is the group's summary: it has no views.
	single := st.mode == modeSingle && st.selected != nil && st.group == nil
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
