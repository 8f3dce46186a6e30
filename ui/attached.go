package ui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// The screen attached to a kelpie elsewhere (Options.Attached): q leaves,
// Q stops it all, and the kelpie going away ends the screen.

// stopAllMsg is Q's question answered yes: the shutdown begins.
type stopAllMsg struct{}

// confirmStopAll asks before Q stops every unit and the kelpie itself.
func (m *Model) confirmStopAll(tea.KeyMsg) tea.Cmd {
	m.confirm = &confirmation{
		question: "stop every unit and the kelpie at " + safe(m.opts.Attached) + "?", // a path: outside text
		run:      func() tea.Msg { return stopAllMsg{} },
	}
	return nil
}

// GoneError is what Run returns when the kelpie an attached screen showed
// went away (shut down from elsewhere, killed, or the connection to it
// lost).
type GoneError struct {
	Where string // Options.Attached
}

func (e *GoneError) Error() string { return "kelpie at " + e.Where + " has gone away" }
