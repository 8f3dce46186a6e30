package ui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/kelpie-dev/kelpie/procs"
)

// KeyMap holds every key binding of the screen. Bindings that do not apply
// right now are disabled (see KeyMap.apply), so help only ever lists keys
// that do something.
type KeyMap struct {
	// Moving: the selection in the table, the scrollback in the output pane.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	HalfUp   key.Binding
	HalfDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// Focus switches between the table and the output pane.
	Focus key.Binding

	// Acting on the selected unit.
	Start   key.Binding
	Stop    key.Binding
	Restart key.Binding
	Kill    key.Binding

	// The output pane.
	Timestamps key.Binding

	// Help and leaving.
	Help      key.Binding
	CloseHelp key.Binding
	Quit      key.Binding

	focus focusArea // set by apply: the footer differs per pane
}

// DefaultKeyMap returns kelpie's key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		HalfUp:   key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		HalfDown: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "last")),

		Focus: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "output")),

		Start:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
		Stop:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop")),
		Restart: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restart")),
		Kill:    key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill")),

		Timestamps: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "timestamps")),

		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		CloseHelp: key.NewBinding(key.WithKeys("esc", "?"), key.WithHelp("?/esc", "close help"), key.WithDisabled()),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the one-line footer, in display order; disabled bindings are
// skipped when it is drawn.
func (k KeyMap) ShortHelp() []key.Binding {
	out := []key.Binding{k.Up, k.Down}
	if k.focus == focusOutput {
		out = append(out, k.Bottom)
	}
	out = append(out, k.Start, k.Stop, k.Restart, k.Kill)
	if k.focus == focusOutput {
		out = append(out, k.Timestamps)
	}
	return append(out, k.Focus, k.Help, k.CloseHelp, k.Quit)
}

// shortHelpDropOrder says which footer entries give way first on a narrow
// terminal: what matters least in the focused pane first, help and quit last.
func (k KeyMap) shortHelpDropOrder() []key.Binding {
	if k.focus == focusOutput {
		return []key.Binding{k.Kill, k.Restart, k.Stop, k.Start, k.Timestamps, k.Focus, k.Down, k.Up, k.Bottom, k.CloseHelp, k.Help, k.Quit}
	}
	return []key.Binding{k.Kill, k.Focus, k.Restart, k.Down, k.Up, k.Start, k.Stop, k.CloseHelp, k.Help, k.Quit}
}

// FullHelp is the `?` screen, one column per group.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom},
		{k.Start, k.Stop, k.Restart, k.Kill},
		{k.Focus, k.Timestamps},
		{k.Help, k.CloseHelp, k.Quit},
	}
}

// keyState is what decides which bindings apply.
type keyState struct {
	focus     focusArea
	selected  *procs.Info // nil when there is no unit
	following bool
	helpOpen  bool
	shutting  bool
}

// apply enables the bindings that do something in st and words their help
// for it, so the footer and the `?` screen are always true.
func (k *KeyMap) apply(st keyState) {
	unit := st.selected != nil && !st.shutting
	var state procs.State
	pid := 0
	if st.selected != nil {
		state, pid = st.selected.State, st.selected.PID
	}
	k.Start.SetEnabled(unit && !state.Live())
	k.Stop.SetEnabled(unit && (state == procs.Starting || state == procs.Running || state == procs.Backoff))
	k.Restart.SetEnabled(unit)
	k.Kill.SetEnabled(unit && pid != 0)
	if state == procs.Backoff {
		k.Start.SetHelp("s", "start now")
		k.Stop.SetHelp("x", "cancel restart")
	} else {
		k.Start.SetHelp("s", "start")
		k.Stop.SetHelp("x", "stop")
	}

	k.focus = st.focus
	inTable := st.focus == focusTable
	if inTable {
		k.Up.SetHelp("↑/k", "up")
		k.Down.SetHelp("↓/j", "down")
		k.Top.SetHelp("g/home", "first unit")
		k.Bottom.SetHelp("G/end", "last unit")
		k.Focus.SetHelp("tab", "output")
	} else {
		k.Up.SetHelp("↑/k", "up")
		k.Down.SetHelp("↓/j", "down")
		k.Top.SetHelp("g/home", "top")
		k.Bottom.SetHelp("G/end", "follow")
		k.Focus.SetHelp("tab", "units")
	}
	// The moving keys work with the help open too: it covers only the pane.
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.HalfUp, &k.HalfDown, &k.Top} {
		b.SetEnabled(true)
	}
	// G/end in the output pane is "follow": only useful when not following.
	k.Bottom.SetEnabled(inTable || !st.following)
	k.Focus.SetEnabled(true)
	k.Timestamps.SetEnabled(true)

	k.Help.SetEnabled(!st.helpOpen)
	k.CloseHelp.SetEnabled(st.helpOpen)
	if st.shutting {
		k.Quit.SetHelp("q", "kill all now")
	} else {
		k.Quit.SetHelp("q", "quit")
	}
}
