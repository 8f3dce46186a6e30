package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// act runs an action on the selected unit in a command; on a group row,
// on each of its members the action applies to (see groupAct).
func (m *Model) act(verb string, f func(string) error) tea.Cmd {
	r := m.table.selected()
	if r == nil {
		return nil
	}
	name := r.info.Name
	if r.virtual {
		return groupAct(verb, "", name, r.targets(applies(verb)), f)
	}
	return func() tea.Msg { return actionMsg{verb: verb, name: name, err: f(name)} }
}

// signal sends sig to the selected unit (each member of a group row) in a
// command. Killing a worker cannot work (a goroutine cannot be killed):
// the engine's refusal is shown, and the worker is stopped instead.
func (m *Model) signal(sig syscall.Signal) tea.Cmd {
	r := m.table.selected()
	if r == nil {
		return nil
	}
	name, be := r.info.Name, m.backend
	verb := "signal"
	if sig == syscall.SIGKILL {
		verb = "kill"
	}
	send := func(n string) error { return be.Signal(n, sig) }
	if sig == syscall.SIGKILL {
		send = func(n string) error { return killOrStop(be, n) }
	}
	if r.virtual {
		return groupAct(verb, procs.SignalName(sig), name, r.targets(applies(verb)), send)
	}
	return func() tea.Msg {
		return actionMsg{verb: verb, name: name, sig: procs.SignalName(sig), err: send(name)}
	}
}

// guard asks first when an action reaches a group (a group row's members,
// or a unit's child processes): y runs cmd.
func (m *Model) guard(verb string, cmd tea.Cmd) tea.Cmd {
	r := m.table.selected()
	if r == nil || cmd == nil {
		return cmd
	}
	n, what := groupSize(r)
	if n == 0 {
		return cmd
	}
	q := verb + " " + r.label + " and its " + plural(n, what) + "?"
	if r.virtual { // the group is its members
		q = verb + " the " + plural(n, what) + " of " + r.label + "?"
	}
	m.confirm = &confirmation{question: q, run: cmd}
	return nil
}

func (m *Model) actionDone(msg actionMsg) tea.Cmd {
	if msg.group {
		return m.groupDone(msg)
	}
	if msg.err != nil {
		return m.setStatus(statusError, msg.verb+" "+msg.name+": "+trimErr(msg.err, msg.verb, msg.name))
	}
	var text string
	switch msg.verb {
	case "start":
		text = "started " + msg.name
	case "stop":
		text = "stopping " + msg.name
	case "restart":
		text = "restarting " + msg.name
	case "scale":
		text = scaleText(msg)
	case "reload":
		text = "reloading " + msg.name + ", one member at a time"
	case "kill", "signal":
		text = "sent " + msg.sig + " to " + msg.name
	default:
		text = msg.verb + " " + msg.name
	}
	return m.setStatus(statusOK, text)
}

// trimErr drops the `verb "name": ` the engine puts in front of its errors,
// since the status line says it already.
func trimErr(err error, verb, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, verb+" "+strconv.Quote(name)+": ")
	s = strings.TrimPrefix(s, "signal "+strconv.Quote(name)+": ")
	return s
}

// setStatus shows a message that clears itself.
func (m *Model) setStatus(kind statusKind, text string) tea.Cmd {
	m.statusTag++
	// Texts quote outside input: names, errors naming files or quoting
	// a unit's output.
	m.status = status{kind: kind, text: safe(text)}
	d := m.opts.StatusTimeout
	if kind == statusError {
		d *= 2
	}
	return m.after(d, statusClearMsg{tag: m.statusTag})
}

// quit starts the shutdown; the second time it cancels it, which kills
// whatever is still running.
func (m *Model) quit() tea.Cmd {
	switch {
	case m.opts.Attached != "" && !m.stopAll:
		return tea.Quit // leave the kelpie running
	case m.done:
		return tea.Quit
	case m.shutting:
		if !m.killing {
			m.killing = true
			m.shutCancel()
		}
		return nil
	}
	m.shutting = true
	m.helpOpen = false
	m.menu.open = false
	m.confirm = nil
	m.composer.close()
	m.lineFor = modalNone
	ctx, cancel := context.WithCancel(context.Background())
	m.shutCancel = cancel
	be := m.backend
	return func() tea.Msg { return shutdownDoneMsg{err: be.Shutdown(ctx)} }
}

// setView switches the pane to one of the selected unit's views.
func (m *Model) setView(v detailView) tea.Cmd {
	m.view = v
	cmd := m.showSelected()
	if v == viewStats && m.shown != "" {
		// Opening the view reads the details afresh, even for the unit
		// they were last read for.
		cmd = tea.Batch(cmd, m.stats.fetchDetails(m.backend, m.shown))
	}
	return cmd
}

// openComposer shows the selected unit's messages with the composer open.
func (m *Model) openComposer() tea.Cmd {
	r := m.table.selected()
	if r != nil && r.virtual && r.gcan.send {
		// A group's message goes to each member; its pane shows the composer.
		return m.composer.start(r.info.Name)
	}
	if r == nil || r.info.Channel == "" {
		return nil
	}
	m.view, m.focus = viewMessages, focusOutput
	return tea.Batch(m.composer.start(r.info.Name), m.showSelected())
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
	if msg.members > 0 {
		return m.setStatus(statusOK, "sent to "+plural(msg.members, "member")+" of "+msg.name)
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
	if r := m.table.selected(); r != nil && !r.virtual { // a group row has no output of its own
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
		if m.table.byName[n] != nil {
			m.logs.open(n) // Update's syncFollowers follows it
		}
	}
	m.focus = focusOutput
	return tea.Batch(cmds...)
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
	m.restartMerged()
	return nil
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
