package ui

import (
	"syscall"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// paste puts pasted text into the input that has the keyboard (the filter,
// the search, the composer), made safe and on one line. Anywhere else it is
// ignored: pasted text is never a run of key presses (a pasted `x` would
// stop a unit).
func (m *Model) paste(msg tea.KeyMsg) tea.Cmd {
	text := safe(string(msg.Runes))
	switch m.modal() {
	case modalFilter, modalSearch, modalCompose:
		if text == "" {
			return nil
		}
		msg.Runes = []rune(text)
		if m.modal() == modalCompose {
			return m.composer.Update(msg)
		}
		return lineEditor{m}.Update(msg)
	}
	return m.setStatus(statusInfo, "paste ignored: paste into the filter (/), a search or a message (m)")
}

// cycleFocus moves the keyboard between the table and the pane (each
// column of a split view in turn).
func (m *Model) cycleFocus(back bool) {
	stops := 2
	if m.mode == modeSplit {
		stops = 1 + len(m.split.names)
	}
	at := 0
	if m.focus == focusOutput {
		at = 1
		if m.mode == modeSplit {
			at = 1 + m.split.focus
		}
	}
	if back {
		at = (at + stops - 1) % stops
	} else {
		at = (at + 1) % stops
	}
	if at == 0 {
		m.focus = focusTable
		return
	}
	m.focus = focusOutput
	if m.mode == modeSplit {
		m.split.focus = at - 1
	}
}

// clearInnermost is esc: it backs out of the innermost thing that is on.
func (m *Model) clearInnermost() tea.Cmd {
	p, _ := m.activePane()
	switch {
	case p != nil && m.focus == focusOutput && p.clear():
	case m.table.filter != "" && m.focus == focusTable:
		m.table.setFilter("")
		return m.showSelected()
	case m.mode == modeSplit:
		return m.closeSplit()
	case m.mode == modeMerged:
		return m.toggleMerged()
	}
	return nil
}

// isTypeKey reports whether k starts typing mode where it is pressed: the
// root's i, or the tty pane's enter where the pane has the keyboard.
func (m *Model) isTypeKey(k string) bool {
	return has(m.keys.Type, k) || m.focus == focusOutput && has(m.tty.enter, k)
}

// explainDisabled answers an action key that does not apply to the selected
// unit with a word instead of silence.
func (m *Model) explainDisabled(msg tea.KeyMsg) tea.Cmd {
	k := msg.String()
	if name := m.ttyShown(); name != "" && m.isTypeKey(k) && !m.keys.Type.Enabled() && !m.shutting {
		if r := m.table.selected(); r != nil {
			return m.setStatus(statusInfo, "type into "+name+": it is "+string(r.info.State)+" (s starts it)")
		}
	}
	if has(m.keys.Compose, k) && m.mode == modeSingle {
		if r := m.table.selected(); r != nil && r.info.Channel == "" {
			return m.setStatus(statusInfo, r.info.Name+" has no message channel (ipc: true in its config)")
		}
	}
	if has(m.keys.Split, k) && m.mode == modeSingle {
		return m.setStatus(statusInfo, "mark units with * to split them with the selected one")
	}
	r := m.table.selected()
	if r == nil || m.shutting {
		return nil
	}
	if r.info.Kind == procs.KindWorker && !r.virtual && (has(m.keys.Kill, k) || has(m.keys.Signal, k)) {
		return m.setStatus(statusInfo, r.info.Name+" is a goroutine: no signals, no kill; "+workerNote(r.info.State))
	}
	for _, d := range disabledWhy {
		if has(*d.binding(&m.keys), k) {
			return m.setStatus(statusInfo, d.verb+" "+r.info.Name+": "+d.why(r.info.State))
		}
	}
	return nil
}

// disabledWhy says why a unit's action key is off for the selected unit.
var disabledWhy = [...]struct {
	binding func(k *KeyMap) *key.Binding
	verb    string
	why     func(s procs.State) string
}{
	{func(k *KeyMap) *key.Binding { return &k.Start }, "start", func(s procs.State) string { return "already " + string(s) }},
	{func(k *KeyMap) *key.Binding { return &k.Stop }, "stop", func(s procs.State) string {
		if s == procs.Stopping {
			return "already stopping"
		}
		return "not running"
	}},
	{func(k *KeyMap) *key.Binding { return &k.Kill }, "kill", func(procs.State) string { return "no process" }},
	{func(k *KeyMap) *key.Binding { return &k.Signal }, "signal", func(procs.State) string { return "no process" }},
}

func has(b key.Binding, k string) bool {
	for _, x := range b.Keys() {
		if x == k {
			return true
		}
	}
	return false
}

// keyAction is a binding of the root's key map and what it does. The
// root's keys are tables of these, matched in order; the first binding
// that matches (and is enabled) runs.
type keyAction struct {
	binding func(k *KeyMap) *key.Binding
	do      func(m *Model, msg tea.KeyMsg) tea.Cmd
}

// rootKeys are the keys the root answers when nothing modal has the
// keyboard: the unit's actions, the views, focus, help, quit, and the
// components' keys whose effect reaches beyond them (the filter and search
// lines, the status line, the terminal).
var rootKeys = [...]keyAction{
	{func(k *KeyMap) *key.Binding { return &k.Quit }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.quit() }},
	{func(k *KeyMap) *key.Binding { return &k.StopAll }, (*Model).confirmStopAll},
	{func(k *KeyMap) *key.Binding { return &k.Help }, (*Model).openHelp},
	{func(k *KeyMap) *key.Binding { return &k.Focus }, func(m *Model, msg tea.KeyMsg) tea.Cmd {
		m.cycleFocus(msg.String() == "shift+tab")
		return nil
	}},
	{func(k *KeyMap) *key.Binding { return &k.Clear }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.clearInnermost() }},
	{func(k *KeyMap) *key.Binding { return &k.Mouse }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.toggleMouse() }},
	{func(k *KeyMap) *key.Binding { return &k.ViewOutput }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.setView(viewOutput) }},
	{func(k *KeyMap) *key.Binding { return &k.ViewMessages }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.setView(viewMessages) }},
	{func(k *KeyMap) *key.Binding { return &k.ViewStats }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.setView(viewStats) }},
	{func(k *KeyMap) *key.Binding { return &k.Compose }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.openComposer() }},
	{func(k *KeyMap) *key.Binding { return &k.Type }, (*Model).startTyping},
	{func(k *KeyMap) *key.Binding { return &k.Split }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.toggleSplit() }},
	{func(k *KeyMap) *key.Binding { return &k.Merged }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.toggleMerged() }},
	{func(k *KeyMap) *key.Binding { return &k.Signal }, (*Model).openMenu},
	{func(k *KeyMap) *key.Binding { return &k.Start }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.act("start", m.backend.Start) }},
	{func(k *KeyMap) *key.Binding { return &k.Stop }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		return m.guard("stop", m.act("stop", m.backend.Stop))
	}},
	{func(k *KeyMap) *key.Binding { return &k.Restart }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		return m.guard("restart", m.act("restart", m.backend.Restart))
	}},
	{func(k *KeyMap) *key.Binding { return &k.Kill }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		return m.guard("kill", m.signal(syscall.SIGKILL))
	}},
	{func(k *KeyMap) *key.Binding { return &k.ScaleUp }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.scale(1) }},
	{func(k *KeyMap) *key.Binding { return &k.ScaleDown }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.scale(-1) }},
	{func(k *KeyMap) *key.Binding { return &k.Reload }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.reload() }},
	{func(k *KeyMap) *key.Binding { return &k.Filter }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		return m.startLine(modalFilter, m.table.filter)
	}},
	{func(k *KeyMap) *key.Binding { return &k.Search }, (*Model).openSearch},
	{func(k *KeyMap) *key.Binding { return &k.Select }, (*Model).startSelection},
	{func(k *KeyMap) *key.Binding { return &k.Copy }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.copySelection() }},
}

// helpKeys answer on the `?` screen.
var helpKeys = [...]keyAction{
	{func(k *KeyMap) *key.Binding { return &k.Quit }, func(m *Model, _ tea.KeyMsg) tea.Cmd { return m.quit() }},
	{func(k *KeyMap) *key.Binding { return &k.CloseHelp }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		m.helpOpen = false
		return nil
	}},
}

// confirmKeys answer a question on the status line.
var confirmKeys = [...]keyAction{
	{func(k *KeyMap) *key.Binding { return &k.Quit }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		m.confirm = nil
		return m.quit()
	}},
	{func(k *KeyMap) *key.Binding { return &k.Yes }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		run := m.confirm.run
		m.confirm = nil
		return run
	}},
	{func(k *KeyMap) *key.Binding { return &k.No }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		m.confirm = nil
		return m.setStatus(statusInfo, "cancelled")
	}},
}

// menuKeys are the root's keys while the signal menu is open; the rest go
// to the menu.
var menuKeys = [...]keyAction{
	{func(k *KeyMap) *key.Binding { return &k.Quit }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		m.menu.open = false
		return m.quit()
	}},
	{func(k *KeyMap) *key.Binding { return &k.Submit }, (*Model).sendMenuSignal},
}

// composeKeys are the root's keys while the composer is open; the rest go
// to the composer.
var composeKeys = [...]keyAction{
	{func(k *KeyMap) *key.Binding { return &k.Quit }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		m.composer.close()
		return m.quit()
	}},
	{func(k *KeyMap) *key.Binding { return &k.Submit }, (*Model).sendComposed},
}

// lineKeys are the filter's and the search line's keys; the rest edit it.
var lineKeys = [...]keyAction{
	{func(k *KeyMap) *key.Binding { return &k.Quit }, func(m *Model, _ tea.KeyMsg) tea.Cmd {
		m.endLine()
		return m.quit()
	}},
	{func(k *KeyMap) *key.Binding { return &k.Cancel }, (*Model).cancelLine},
	{func(k *KeyMap) *key.Binding { return &k.Submit }, (*Model).submitLine},
}

// runKeys runs the first action in table whose binding matches msg.
func (m *Model) runKeys(msg tea.KeyMsg, table []keyAction) (tea.Cmd, bool) {
	for _, a := range table {
		if key.Matches(msg, *a.binding(&m.keys)) {
			return a.do(m, msg), true
		}
	}
	return nil, false
}

// handleKey applies a key press: it settles the bindings for the state
// once, then routes the key by modal state and focus.
func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	st := m.keyState() // an earlier key of the same message may have changed it
	m.applyKeys(st)
	if m.status.kind == statusInfo {
		// A hint answers the key before: after the next one (another
		// unit, another view) it may no longer be true, so it goes.
		// Outcomes and errors stay their time.
		m.status = status{}
	}
	switch st.modal {
	case modalConfirm:
		cmd, _ := m.runKeys(msg, confirmKeys[:])
		return cmd
	case modalMenu:
		return m.modalKey(msg, menuKeys[:], &m.menu)
	case modalFilter, modalSearch:
		return m.modalKey(msg, lineKeys[:], lineEditor{m})
	case modalCompose:
		return m.modalKey(msg, composeKeys[:], &m.composer)
	}
	if st.helpOpen {
		if cmd, ok := m.runKeys(msg, helpKeys[:]); ok {
			return cmd
		}
		m.scrollHelp(msg)
		return nil
	}
	if cmd, ok := m.runKeys(msg, rootKeys[:]); ok {
		return cmd
	}
	if cmd := m.explainDisabled(msg); cmd != nil {
		return cmd
	}
	return m.routeKey(msg)
}

// updater is what a modal component is to the root: it takes the keys
// the root's table leaves.
type updater interface{ Update(tea.Msg) tea.Cmd }

// modalKey runs the root's keys of a modal state, else gives the key to
// the component that has the keyboard.
func (m *Model) modalKey(msg tea.KeyMsg, table []keyAction, c updater) tea.Cmd {
	if cmd, ok := m.runKeys(msg, table); ok {
		return cmd
	}
	return c.Update(msg)
}

// routeKey gives a key to the component that owns it: the focused one
// first, then the pane on screen (t and w work from the table too).
func (m *Model) routeKey(msg tea.KeyMsg) tea.Cmd {
	if m.focus == focusTable && owns(m.table.bindings(), msg) {
		// The selection may have moved: the pane follows it.
		return tea.Batch(m.table.Update(msg), m.showSelected())
	}
	p, _ := m.activePane()
	switch {
	case p != nil && owns(p.bindings(), msg):
		return m.paneUpdater(p).Update(msg)
	case p == nil && m.focus == focusOutput && m.ttyShown() != "" && owns(m.tty.bindings(), msg):
		return m.ttyKey(msg)
	case p == nil && m.focus == focusOutput && owns(m.stats.bindings(), msg):
		return m.stats.Update(msg)
	}
	return nil
}

// paneUpdater is the component that shows p: a split view, the merged
// stream, or p itself.
func (m *Model) paneUpdater(p *outputPane) updater {
	switch m.mode {
	case modeSplit:
		return &m.split
	case modeMerged:
		return &m.merged
	}
	return p
}

// owns reports whether one of bs (enabled) matches msg.
func owns(bs []*key.Binding, msg tea.KeyMsg) bool {
	for _, b := range bs {
		if key.Matches(msg, *b) {
			return true
		}
	}
	return false
}

// scrollHelp moves the `?` screen.
func (m *Model) scrollHelp(msg tea.KeyMsg) {
	delta, top, bottom := m.keys.MoveKeys.distance(msg, m.height-3)
	switch {
	case top:
		m.helpOffset = 0
	case bottom:
		m.helpOffset = 1 << 30
	default:
		m.helpOffset = max(0, m.helpOffset+delta)
	}
}

func (m *Model) openHelp(tea.KeyMsg) tea.Cmd {
	m.helpOpen, m.helpOffset = true, 0
	return nil
}

// openMenu opens the signal menu for the selected unit.
func (m *Model) openMenu(tea.KeyMsg) tea.Cmd {
	if r := m.table.selected(); r != nil {
		m.menu.show(r.info.Name)
	}
	return nil
}

// sendMenuSignal sends the signal under the menu's cursor, asking first
// when it reaches a group.
func (m *Model) sendMenuSignal(tea.KeyMsg) tea.Cmd {
	s := &m.menu
	s.open = false
	sig := s.selected()
	if m.table.selectedName() != s.target {
		return nil // the unit went away meanwhile
	}
	cmd := m.signal(sig)
	if harmless(sig) {
		return cmd
	}
	return m.guard("send "+procs.SignalName(sig)+" to", cmd)
}

// openSearch opens the search line over the active pane.
func (m *Model) openSearch(tea.KeyMsg) tea.Cmd {
	p, _ := m.activePane()
	return m.startLine(modalSearch, p.search.query)
}

// startSelection starts selecting lines in the active pane.
func (m *Model) startSelection(tea.KeyMsg) tea.Cmd {
	if p, b := m.activePane(); p != nil && !p.startSelection(m.pal, b) {
		return m.setStatus(statusInfo, "nothing to select yet")
	}
	return nil
}
