package ui

import tea "github.com/charmbracelet/bubbletea"

// handleMouse scrolls what is under the pointer with the wheel and moves
// the selection or focus with a click. It reports whether anything changed.
func (m *Model) handleMouse(msg tea.MouseMsg) (tea.Cmd, bool) {
	ev := tea.MouseEvent(msg)
	if !m.mouse || m.lay.small || m.helpOpen || m.modal() != modalNone || ev.Action != tea.MouseActionPress {
		return nil, false
	}
	wheel := 0
	switch ev.Button {
	case tea.MouseButtonWheelUp:
		wheel = -1
	case tea.MouseButtonWheelDown:
		wheel = 1
	case tea.MouseButtonLeft:
	default:
		return nil, false
	}
	l := &m.lay
	switch {
	case ev.Y >= 1 && ev.Y < 1+l.tableH && ev.X < l.tableW:
		t := &m.table
		if wheel != 0 {
			t.move(3 * wheel)
			return m.showSelected(), true
		}
		m.focus = focusTable
		if row := t.offset + ev.Y - 2; ev.Y >= 2 && row < len(t.visible) {
			t.moveTo(row)
			return m.showSelected(), true
		}
		return nil, true
	case ev.Y >= l.paneY && ev.Y < l.paneY+l.paneH && ev.X >= l.paneX && ev.X < l.paneX+l.paneW:
		x, y := ev.X-l.paneX, ev.Y-l.paneY
		if m.mode == modeSplit {
			for i, bx := range m.split.boxes {
				if bx.has(x, y) {
					m.split.focus = i
				}
			}
		}
		if wheel == 0 {
			m.focus = focusOutput
			return nil, true
		}
		if p, b := m.activePane(); p != nil {
			p.scroll(m.pal, b, 3*wheel)
		} else {
			m.stats.scroll(3 * wheel)
		}
		return nil, true
	}
	return nil, false
}
