package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kelpie-dev/kelpie/procs"
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

// lineEditor is the filter or search line as the component that takes
// the keys the root leaves: it edits the line, which applies as typed.
type lineEditor struct{ m *Model }

// Update edits the line and applies it: the table's filter, or the active
// pane's search.
func (e lineEditor) Update(msg tea.Msg) tea.Cmd {
	m := e.m
	var cmd tea.Cmd
	m.line, cmd = m.line.Update(msg)
	if m.lineFor == modalFilter {
		m.table.setFilter(m.line.Value())
		return tea.Batch(cmd, m.showSelected())
	}
	m.applySearch(m.line.Value())
	return cmd
}

// cancelLine is esc on the filter or search line: it clears what it set.
func (m *Model) cancelLine(tea.KeyMsg) tea.Cmd {
	which := m.lineFor
	m.endLine()
	if which == modalFilter {
		m.table.setFilter("")
		return m.showSelected()
	}
	m.applySearch("")
	return nil
}

// submitLine is enter on the filter or search line: it keeps it, and says
// so when a search finds nothing.
func (m *Model) submitLine(tea.KeyMsg) tea.Cmd {
	which := m.lineFor
	m.endLine()
	if which == modalSearch {
		if p, _ := m.activePane(); p != nil && p.search.query != "" && len(p.search.matches) == 0 {
			return m.setStatus(statusInfo, "no match for “"+p.search.query+"”")
		}
	}
	return nil
}

// sendComposed sends the composer's message, unless it is not one.
func (m *Model) sendComposed(tea.KeyMsg) tea.Cmd {
	c := &m.composer
	if c.sending {
		return nil
	}
	if !c.ok {
		return m.setStatus(statusError, "not sent: "+strings.TrimPrefix(c.verdict, "✗ "))
	}
	c.sending = true
	if g := m.table.groups[c.target]; g != nil {
		return groupSend(m.backend, c.target, g.targets(func(in *procs.Info) bool { return in.Channel == procs.ChannelConnected }), c.message())
	}
	return sendCmd(m.backend, c.target, c.message())
}
