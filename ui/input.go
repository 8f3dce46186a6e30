package ui

import (
	"slices"
	"strings"

	"github.com/aymanbagabas/go-osc52/v2"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// startLine opens the filter or search line with text to edit.
func (m *Model) startLine(which modal, text string) tea.Cmd {
	m.lineFor = which
	m.line.SetValue(text)
	m.line.CursorEnd()
	if which == modalFilter {
		m.line.Placeholder = "name, state or command"
	} else {
		m.line.Placeholder = "text to find"
	}
	return m.line.Focus()
}

func (m *Model) endLine() {
	m.lineFor = modalNone
	m.line.Blur()
}

// lineKey edits the filter or search line; both apply as the user types.
func (m *Model) lineKey(msg tea.KeyMsg) tea.Cmd {
	k, which := &m.keys, m.lineFor
	switch {
	case key.Matches(msg, k.Quit):
		m.endLine()
		return m.quit()
	case key.Matches(msg, k.Cancel):
		m.endLine()
		if which == modalFilter {
			m.table.setFilter("")
			return m.showSelected()
		}
		m.applySearch("")
		return nil
	case key.Matches(msg, k.Submit):
		m.endLine()
		if which == modalSearch {
			if p, _ := m.activePane(); p != nil && p.search.query != "" && len(p.search.matches) == 0 {
				return m.setStatus(statusInfo, "no match for “"+p.search.query+"”")
			}
		}
		return nil
	}
	var cmd tea.Cmd
	m.line, cmd = m.line.Update(msg)
	if which == modalFilter {
		m.table.setFilter(m.line.Value())
		return tea.Batch(cmd, m.showSelected())
	}
	m.applySearch(m.line.Value())
	return cmd
}

// applySearch searches the active pane for q and shows the newest match.
func (m *Model) applySearch(q string) {
	p, b := m.activePane()
	if p == nil {
		return
	}
	p.search.set(q, b)
	p.rekey()
	if n, ok := p.search.step(-1); ok {
		p.revealMatch(m.pal, b, n)
	}
}

// stepMatch moves to the next (dir 1) or previous (-1) match.
func (m *Model) stepMatch(dir int) {
	p, b := m.activePane()
	if p == nil {
		return
	}
	p.search.sync(b)
	if n, ok := p.search.step(dir); ok {
		p.revealMatch(m.pal, b, n)
	}
}

// openComposer shows the selected unit's messages with the composer open.
func (m *Model) openComposer() tea.Cmd {
	r := m.table.selected()
	if r == nil || r.info.Channel == "" {
		return nil
	}
	m.view, m.focus = viewMessages, focusOutput
	return tea.Batch(m.composer.start(r.info.Name), m.showSelected())
}

func (m *Model) composeKey(msg tea.KeyMsg) tea.Cmd {
	k, c := &m.keys, &m.composer
	switch {
	case key.Matches(msg, k.Quit):
		c.close()
		return m.quit()
	case key.Matches(msg, k.Cancel):
		c.close()
	case key.Matches(msg, k.Submit):
		if c.sending {
			return nil
		}
		if !c.ok {
			return m.setStatus(statusError, "not sent: "+strings.TrimPrefix(c.verdict, "✗ "))
		}
		c.sending = true
		return sendCmd(m.backend, c.target, c.message())
	case key.Matches(msg, k.HistoryPrev):
		c.walk(-1)
	case key.Matches(msg, k.HistoryNext):
		c.walk(1)
	default:
		return c.update(msg)
	}
	return nil
}

// sendDone reports a Send: an error stays in the composer for fixing; a
// message that went out joins the history and clears the line.
func (m *Model) sendDone(msg sendMsg) tea.Cmd {
	c := &m.composer
	c.sending = false
	if msg.err != nil {
		return m.setStatus(statusError, "send to "+msg.name+": "+trimErr(msg.err, "send to", msg.name))
	}
	if c.target == msg.name && string(c.message()) == msg.text {
		c.sent(msg.text)
	}
	return m.setStatus(statusOK, "sent to "+msg.name)
}

// copySelection copies the selected lines and ends the selection. The
// copy is an OSC 52 sequence, which the terminal (or tmux with
// set-clipboard on) puts on the clipboard; it works over ssh, where no
// clipboard tool could. The screen writes it between two frames.
func (m *Model) copySelection() tea.Cmd {
	p, b := m.activePane()
	if p == nil || !p.visual.on || b == nil {
		return nil
	}
	text, n := p.selectionText(b)
	p.visual.on = false
	return tea.Batch(writeRaw(osc52.New(text).String()),
		m.setStatus(statusOK, "copied "+plural(n, "line")+" to the clipboard"))
}

// toggleSplit shows the selected and marked units side by side, or goes
// back to the selected unit's views.
func (m *Model) toggleSplit() tea.Cmd {
	if m.mode == modeSplit {
		return m.closeSplit()
	}
	var names []string
	if r := m.table.selected(); r != nil {
		names = append(names, r.info.Name)
	}
	for _, n := range m.table.marked() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) < 2 {
		return m.setStatus(statusInfo, "mark units with * to split them with the selected one")
	}
	var cmds []tea.Cmd
	if len(names) > maxSplit {
		cmds = append(cmds, m.setStatus(statusInfo, "the split shows "+plural(maxSplit, "unit")+": the selected one and the first marked"))
		names = names[:maxSplit]
	}
	m.mode = modeSplit
	m.split.start(names)
	m.logs.pin(names)
	for _, n := range names {
		if r := m.table.byName[n]; r != nil {
			m.logs.open(n, r.info.LastSeq)
		}
	}
	m.focus = focusOutput
	return tea.Batch(append(cmds, m.fetchShown())...)
}

// closeSplit goes back to the selected unit, whose buffer may be behind:
// it was not read while out of sight.
func (m *Model) closeSplit() tea.Cmd {
	m.mode = modeSingle
	m.logs.pin(nil)
	return m.showSelected()
}

// toggleMerged shows every unit's output in one stream, or goes back.
func (m *Model) toggleMerged() tea.Cmd {
	if m.mode == modeMerged {
		m.mode = modeSingle
		return m.showSelected() // its buffer was not read meanwhile
	}
	if m.mode == modeSplit {
		m.closeSplit()
	}
	m.mode = modeMerged
	m.merged.start(m.table.order)
	return m.merged.fetch(m.backend, m.table.order, m.opts.KeepLines)
}

// toggleMouse turns mouse reporting on or off. Off is the default: while
// it is on, the terminal's own text selection needs shift held.
func (m *Model) toggleMouse() tea.Cmd {
	m.mouse = !m.mouse
	if m.mouse {
		return tea.Batch(setMouse(true),
			m.setStatus(statusInfo, "mouse on: the wheel scrolls, a click selects; shift+drag selects text"))
	}
	return tea.Batch(setMouse(false), m.setStatus(statusInfo, "mouse off: the terminal selects text again"))
}

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
