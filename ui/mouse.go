package ui

import tea "github.com/charmbracelet/bubbletea"

// handleMouse scrolls what is under the pointer with the wheel and moves
// the selection or focus with a click. It reports whether anything changed.
func (m *Model) handleMouse(msg tea.MouseMsg) (tea.Cmd, bool) {
	ev := tea.MouseEvent(msg)
	if !m.mouse || m.lay.small || m.helpOpen || m.modal() != modalNone || ev.Action != tea.MouseActionPress {
		return nil, false
	}
	wheel, ok := wheelOf(ev.Button)
	if !ok {
		return nil, false
	}
	l := &m.lay
	switch {
	case ev.Y >= 1 && ev.Y < 1+l.tableH && ev.X < l.tableW:
		return m.tableMouse(ev, wheel), true
	case (box{l.paneX, l.paneY, l.paneW, l.paneH}).has(ev.X, ev.Y):
		return m.paneMouse(ev.X-l.paneX, ev.Y-l.paneY, wheel), true
	}
	return nil, false
}

// wheelOf is the wheel's direction (0 for a left click); ok is false for
// the buttons the screen does not use.
func wheelOf(b tea.MouseButton) (wheel int, ok bool) {
	switch b {
	case tea.MouseButtonWheelUp:
		return -1, true
	case tea.MouseButtonWheelDown:
		return 1, true
	case tea.MouseButtonLeft:
		return 0, true
	}
	return 0, false
}

// tableMouse scrolls the table or selects the row clicked.
func (m *Model) tableMouse(ev tea.MouseEvent, wheel int) tea.Cmd {
	t := &m.table
	if wheel != 0 {
		t.move(3 * wheel)
		return m.showSelected()
	}
	m.focus = focusTable
	if row := t.offset + ev.Y - 2; ev.Y >= 2 && row < len(t.visible) {
		t.moveTo(row)
		return m.showSelected()
	}
	return nil
}

// paneMouse focuses the pane (the column clicked in a split view) or
// scrolls it; x and y are relative to the pane.
func (m *Model) paneMouse(x, y, wheel int) tea.Cmd {
	if m.mode == modeSplit {
		for i, bx := range m.split.boxes {
			if bx.has(x, y) {
				m.split.focus = i
			}
		}
	}
	if wheel == 0 {
		m.focus = focusOutput
		return nil
	}
	p, b := m.activePane()
	switch {
	case p != nil:
		p.scroll(m.pal, b, 3*wheel)
	case m.ttyShown() != "":
		return m.scrollTTY(3*wheel, false, false)
	default:
		m.stats.scroll(3 * wheel)
	}
	return nil
}
