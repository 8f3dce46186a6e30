package ui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// modal says what has the keyboard now.
func (m *Model) modal() modal {
	switch {
	case m.confirm != nil:
		return modalConfirm
	case m.menu.open:
		return modalMenu
	case m.lineFor != modalNone:
		return m.lineFor
	case m.composer.open:
		return modalCompose
	}
	return modalNone
}

// keyState is what the key map needs to know.
func (m *Model) keyState() keyState {
	st := keyState{
		focus: m.focus, mode: m.mode, view: m.shownView(), helpOpen: m.helpOpen, helpScrolls: m.helpScrolls, shutting: m.shutting,
		filtering: m.table.filter != "", mouse: m.mouse, modal: m.modal(),
		canScale: m.canScale(), canReload: m.canReload(), attached: m.opts.Attached != "" && !m.stopAll,
		tty: m.ttyShown() != "", typing: m.tty.typing.on, ttys: m.totals.ttys > 0,
	}
	if v, ok := m.table.selectedRow(); ok {
		st.selected = &v.u.info
		if v.u.virtual {
			st.group = &v.u.gcan
		}
		st.groupRow = v.u.group && v.proc < 0
		n := m.table.nMarked()
		if !v.u.marked {
			n++
		}
		st.canSplit = n >= 2
	}
	switch m.mode {
	case modeSplit:
		st.paneName = "split"
	case modeMerged:
		st.paneName = "merged"
	default:
		st.paneName = st.view.String()
		if st.group != nil {
			st.paneName = "group"
		}
	}
	if p, _ := m.activePane(); p != nil {
		st.searching = p.search.query != ""
		st.visual = p.visual.on
	}
	return st
}

// Update applies one message. The screen is drawn again (in Update, once:
// View only returns it) when the message changed anything.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, cmd
}

// update is Update in place. The screen's program holds the model behind
// a pointer and calls this: Update's value receiver and boxed result copy
// the whole model (tens of KiB) twice a message, garbage the GC then
// scans for (it was most of an idle tty pane's CPU).
func (m *Model) update(msg tea.Msg) tea.Cmd {
	cmd, changed, quit := m.apply(msg)
	if quit {
		return tea.Quit
	}
	typing := m.tty.typing.on
	cmd = tea.Batch(cmd, m.syncFollowers(), m.syncTTY())
	if !changed && typing == m.tty.typing.on { // typing mode ending changes the footer
		return cmd
	}
	m.render()
	// The frame sized the tty pane: the child may need the new size.
	return tea.Batch(cmd, m.resizeTTY(), m.armClock())
}

// apply applies msg: input goes to the key and mouse routing, the engine's
// messages and the screen's own to their handlers.
func (m *Model) apply(msg tea.Msg) (cmd tea.Cmd, changed, quit bool) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return nil, true, false
	case tea.KeyMsg:
		if cmd, ok, changed := m.typeKey(msg); ok {
			// Typing mode: the key is the child's, and the frame that
			// shows it is the screen's answer (no frame before it).
			return cmd, changed, false
		}
		return m.keyInput(msg), true, false
	case tea.MouseMsg:
		cmd, changed = m.handleMouse(msg)
		return cmd, changed, false
	case signalMsg:
		return m.quit(), true, false
	case shutdownDoneMsg:
		m.done, m.shutErr = true, msg.err
		if m.shutCancel != nil {
			m.shutCancel()
		}
		m.cancel()
		return nil, false, true
	}
	if cmd, changed, quit, ok := m.applyEngine(msg); ok {
		return cmd, changed && !quit, quit
	}
	return m.applyLocal(msg)
}

// applyEngine applies what the engine sent, and the outcome of what was
// asked of it; changed says the screen may look different. ok is false for
// any other message.
func (m *Model) applyEngine(msg tea.Msg) (cmd tea.Cmd, changed, quit, ok bool) {
	switch msg := msg.(type) {
	case subscribedMsg:
		m.sub, m.subscribed = msg.sub, true
		m.table.empty = "no units"
		m.table.reset(msg.infos)
		m.recount()
		return tea.Batch(m.showSelected(), m.next()), true, false, true
	case batchMsg:
		return tea.Batch(m.applyBatch(msg.batch), m.next()), batchShows(msg.batch), false, true
	case subEndMsg:
		quit = m.subEnd(msg.err)
		return nil, true, quit, true
	case followStartMsg:
		return m.applyFollowStart(msg), true, false, true
	case followMsg:
		return m.applyFollow(msg), true, false, true
	case msgsMsg:
		return m.applyMsgs(msg), true, false, true
	case detailsMsg:
		m.stats.apply(msg)
		return nil, true, false, true
	case sendMsg:
		return m.sendDone(msg), true, false, true
	case actionMsg:
		return m.actionDone(msg), true, false, true
	case ttyScreenMsg:
		cmd, changed = m.applyScreen(msg)
		return cmd, changed, false, true
	case ttyScrollbackMsg:
		cmd, changed = m.applyScrollback(msg)
		return cmd, changed, false, true
	case ttyKeysMsg:
		return m.applyKeysSent(msg), msg.err != nil, false, true
	case ttyResizedMsg:
		return m.applyResized(msg), msg.err != nil, false, true
	}
	return nil, false, false, false
}

// batchShows reports whether a batch of the engine's events can change the
// screen: states and stats do (the table shows them); log announcements
// alone do not, since the lines reach the panes through their cursors
// (follow.go), in messages of their own.
// A batch that changes nothing visible builds no frame.
func batchShows(b procs.Batch) bool {
	return len(b.States) > 0 || len(b.Removed) > 0 || b.Stats != nil
}

// subEnd notes that the engine's events ended; it reports whether the
// screen has nothing left to show.
func (m *Model) subEnd(err error) (quit bool) {
	m.subEnded = true
	if m.opts.Attached != "" && !m.shutting && !errors.Is(err, context.Canceled) {
		return true // the kelpie went away: Run says so
	}
	if !m.shutting && errors.Is(err, procs.ErrClosed) {
		// The engine was shut down from outside (`kelpie down`, a signal
		// to the process): every unit has stopped.
		return true
	}
	if !m.shutting && !errors.Is(err, context.Canceled) {
		text := "lost the engine's events: " + err.Error()
		if errors.Is(err, procs.ErrClosed) {
			text = "the engine has shut down"
		}
		m.status = status{kind: statusError, text: safe(text)}
		m.statusTag++ // stays: nothing will update the screen again
	}
	return false
}

// applyLocal applies the screen's own messages: timers and the terminal's
// answers. A stale timer changes nothing.
func (m *Model) applyLocal(msg tea.Msg) (cmd tea.Cmd, changed, quit bool) {
	switch msg := msg.(type) {
	case backgroundMsg:
		if msg.dark == !m.light {
			return nil, false, false
		}
		return m.retheme(!msg.dark), true, false
	case stopAllMsg:
		m.stopAll = true
		return m.quit(), true, false
	case statusClearMsg:
		if msg.tag != m.statusTag || m.status.text == "" {
			return nil, false, false
		}
		m.status = status{}
		return nil, true, false
	case clockMsg:
		if msg.tag != m.clockTag {
			return nil, false, false
		}
		m.clockArmed = false
		return nil, true, false
	case ttyTickMsg:
		return m.tickTTY(msg), false, false
	case ttyResizeMsg:
		return m.applyResizeTimer(msg), false, false
	}
	return nil, false, false
}

// keyInput applies a key message: a paste, or one key press per rune.
func (m *Model) keyInput(msg tea.KeyMsg) tea.Cmd {
	if msg.Paste {
		return m.paste(msg)
	}
	if msg.Type != tea.KeyRunes {
		return m.handleKey(msg)
	}
	// Typed text goes into inputs that are shown: no control character
	// rides along.
	if s := string(msg.Runes); !isPlainASCII(s) {
		msg.Runes = []rune(safe(s))
	}
	if len(msg.Runes) <= 1 {
		return m.handleKey(msg)
	}
	// Keys typed faster than the terminal is read arrive as one message
	// ("jjj"): they are still separate key presses.
	cmds := make([]tea.Cmd, 0, len(msg.Runes))
	for _, r := range msg.Runes {
		k := msg
		k.Runes = []rune{r}
		if cmd, ok, _ := m.typeKey(k); ok {
			// "iq": i started typing mode, so q is the child's.
			cmds = append(cmds, cmd)
			continue
		}
		cmds = append(cmds, m.handleKey(k))
	}
	return tea.Batch(cmds...)
}

// applyKeys settles every binding for st: the root's own (KeyMap.apply),
// then each component's by its own state; then it gathers the components'
// maps into the root's, which the footer, the `?` screen and the root's
// key tables read.
func (m *Model) applyKeys(st keyState) {
	k := &m.keys
	k.apply(st)
	free := st.modal == modalNone && !st.helpOpen
	m.table.updateKeys(free && st.focus == focusTable)
	p, _ := m.activePane()
	if p != nil {
		p.updateKeys(free, free && st.focus == focusOutput)
		k.OutputKeys = p.keys
	}
	tty := st.tty && p == nil
	m.tty.updateKeys(free && tty && st.focus == focusOutput, k.Type.Enabled())
	m.stats.updateKeys(free && p == nil && !tty && st.focus == focusOutput)
	m.menu.updateKeys()
	m.composer.updateKeys()
	k.TableKeys = m.table.keys
	switch {
	case st.modal == modalMenu:
		k.MoveKeys, k.InputKeys = m.menu.moves, m.menu.keys
	case st.modal == modalCompose:
		k.InputKeys, k.HistoryKeys = m.composer.keys, m.composer.walkKeys
	case !free:
		// The `?` screen and the line inputs: the root's own (apply).
	case st.focus == focusTable:
		k.MoveKeys = m.table.moves
	case p != nil:
		k.MoveKeys = p.moves
	case tty:
		k.MoveKeys = m.tty.moves
	default:
		k.MoveKeys = m.stats.moves
	}
}
