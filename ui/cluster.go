package ui

import (
	"strconv"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kelpie-dev/kelpie/procs"
)

// Cluster hooks. A backend that can scale a group or reload it one member
// at a time (a cluster's engine) implements procs.Scaler too; the screen asks by
// type assertion, so any engine works and only those that can show the
// keys (+ and - scale, R reloads).

// canScale and canReload report what the backend can do.
func (m *Model) canScale() bool {
	_, ok := m.backend.(procs.Scaler)
	return ok
}

func (m *Model) canReload() bool {
	_, ok := m.backend.(procs.Scaler)
	return ok
}

// scale asks the backend for one member more (+1) or fewer (-1) in the
// selected group. The last member is not scaled away: stop stops it.
func (m *Model) scale(delta int) tea.Cmd {
	r := m.table.selected()
	sc, ok := m.backend.(procs.Scaler)
	if r == nil || !r.group || !ok {
		return nil
	}
	n := len(r.members) + delta
	if n < 1 {
		return m.setStatus(statusInfo, "scale "+r.label+": one member is the least (x stops it)")
	}
	name := r.info.Name
	return func() tea.Msg {
		return actionMsg{verb: "scale", name: name, to: n, err: sc.Scale(name, n)}
	}
}

// reload asks first, then asks the backend for a rolling reload of the
// selected group.
func (m *Model) reload() tea.Cmd {
	r := m.table.selected()
	rl, ok := m.backend.(procs.Scaler)
	if r == nil || !r.group || !ok {
		return nil
	}
	name := r.info.Name
	m.confirm = &confirmation{
		question: "reload " + r.label + ": restart its " + plural(len(r.members), "member") + " one at a time?",
		run: func() tea.Msg {
			return actionMsg{verb: "reload", name: name, err: rl.Reload(name)}
		},
	}
	return nil
}

// scaleText words a scale that went through.
func scaleText(msg actionMsg) string {
	return "scaling " + msg.name + " to " + strconv.Itoa(msg.to)
}
