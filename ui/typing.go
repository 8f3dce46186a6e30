package ui

import (
	tea "github.com/charmbracelet/bubbletea"
	vt "github.com/kelpie-dev/kelpie/vterm"
)

// Typing mode: i (or enter on the pane) on a tty unit's screen hands the
// keyboard to the child. Every key then goes to it, as vterm.Keys the
// engine encodes in the mode the child set, and a paste as one Paste;
// ctrl+a leaves, and a ctrl+a right after it goes back in and sends a
// literal ctrl+a (so ctrl+a ctrl+a types one). The keys wait in a queue
// sent in order, one command at a time with all that queued meanwhile, so
// keys typed faster than they are sent are neither lost nor reordered, and
// Update never waits for the engine.

// typingMax caps the inputs waiting to be sent: a child far behind loses
// the newest, and the status line says so.
const typingMax = 4096

// typingState is typing mode's.
type typingState struct {
	on       bool
	name     string // the unit typed into
	justLeft bool   // ctrl+a left it with the last key: another ctrl+a goes back in
	queue    []ttyInput
	sending  bool // a command is sending the inputs taken from queue
	dropped  int  // inputs dropped since the last send (queue full)
}

// ttyInput is one input for the child: keys, or a paste.
type ttyInput struct {
	keys    []vt.Key
	paste   string
	isPaste bool
}

// ttyKeysMsg is a send's end.
type ttyKeysMsg struct {
	name string
	err  error
}

// startTyping enters typing mode on the shown tty unit.
func (m *Model) startTyping(tea.KeyMsg) tea.Cmd {
	name := m.ttyShown()
	if name == "" {
		return nil
	}
	t := &m.tty
	t.typing.on, t.typing.name, t.typing.justLeft = true, name, false
	t.back = false // typing answers what is live
	return nil
}

// stopTyping leaves typing mode, saying why on the status line when why is
// set. Keys already typed are still sent.
func (m *Model) stopTyping(why string) tea.Cmd {
	t := &m.tty.typing
	if !t.on {
		return nil
	}
	t.on = false
	if why == "" {
		return nil
	}
	return m.setStatus(statusInfo, "typing mode ended: "+why)
}

// typingEnds says why typing mode ends now that the pane shows shown (the
// tty unit on screen, or ""): the unit typed into is no longer shown, is
// gone, is no tty unit any more, or its child ended. "" keeps it on.
func (m *Model) typingEnds(shown string) string {
	t := &m.tty.typing
	if !t.on {
		return ""
	}
	name := safe(t.name)
	r := m.table.byName[t.name]
	switch {
	case r == nil:
		return name + " is gone"
	case !r.info.TTY:
		return name + " has no terminal any more"
	case !r.info.State.Live():
		return name + " is " + string(r.info.State)
	case t.name != shown:
		return name + " is no longer shown"
	}
	return ""
}

// typeKey applies a key in typing mode, or the ctrl+a just after leaving
// it; handled is false for a key that is not typing's, changed says the
// screen looks different (typing mode went on or off).
func (m *Model) typeKey(msg tea.KeyMsg) (cmd tea.Cmd, handled, changed bool) {
	t := &m.tty.typing
	ctrlA := !msg.Paste && msg.Type == tea.KeyCtrlA && !msg.Alt
	if !t.on {
		if t.justLeft && ctrlA && t.name == m.ttyShown() {
			t.on, t.justLeft = true, false
			return m.queueInput(ttyInput{keys: []vt.Key{{Code: vt.KeyRune, Rune: 'a', Ctrl: true}}}), true, true
		}
		t.justLeft = false
		return nil, false, false
	}
	switch {
	case ctrlA:
		t.on, t.justLeft = false, true
		return nil, true, true
	case msg.Paste:
		return m.queueInput(ttyInput{paste: string(msg.Runes), isPaste: true}), true, false
	}
	k, ok := vtKey(msg)
	if !ok {
		return nil, true, false
	}
	return tea.Batch(m.reclaim(t.name), m.queueInput(ttyInput{keys: []vt.Key{k}})), true, false
}

// queueInput queues an input for the child typed into and starts sending
// unless a send is running (its end sends what queued meanwhile).
func (m *Model) queueInput(in ttyInput) tea.Cmd {
	t := &m.tty.typing
	if n := len(t.queue); n > 0 && !in.isPaste && !t.queue[n-1].isPaste {
		t.queue[n-1].keys = append(t.queue[n-1].keys, in.keys...)
	} else if n < typingMax {
		t.queue = append(t.queue, in)
	} else {
		t.dropped++
	}
	if len(t.queue) > 0 && len(t.queue[len(t.queue)-1].keys) > typingMax {
		last := &t.queue[len(t.queue)-1]
		t.dropped += len(last.keys) - typingMax
		last.keys = last.keys[:typingMax]
	}
	return m.sendInputs()
}

// sendInputs sends every queued input, in order, in one command.
func (m *Model) sendInputs() tea.Cmd {
	t := &m.tty.typing
	tm, ok := m.terms()
	if t.sending || len(t.queue) == 0 || !ok {
		return nil
	}
	t.sending = true
	ins, name := t.queue, t.name
	t.queue = nil
	var warn tea.Cmd
	if t.dropped > 0 {
		warn = m.setStatus(statusError, "typing into "+name+": "+plural(t.dropped, "key")+" dropped (the child is not reading)")
		t.dropped = 0
	}
	return tea.Batch(warn, func() tea.Msg {
		for _, in := range ins {
			var err error
			if in.isPaste {
				err = tm.Paste(name, in.paste)
			} else {
				err = tm.Keys(name, in.keys)
			}
			if err != nil {
				return ttyKeysMsg{name: name, err: err}
			}
		}
		return ttyKeysMsg{name: name}
	})
}

// applyKeysSent sends what queued meanwhile and looks at the screen for
// the child's answer.
func (m *Model) applyKeysSent(msg ttyKeysMsg) tea.Cmd {
	t := &m.tty.typing
	t.sending = false
	var cmds []tea.Cmd
	if msg.err != nil {
		cmds = append(cmds, m.setStatus(statusError, "typing into "+msg.name+": "+msg.err.Error()))
	}
	cmds = append(cmds, m.sendInputs())
	if msg.name == m.tty.name {
		cmds = append(cmds, m.ttyNow())
	}
	return tea.Batch(cmds...)
}

// vtKey maps a key press to the key the child gets; ok is false for one
// it has no use for.
func vtKey(msg tea.KeyMsg) (vt.Key, bool) {
	k := vt.Key{Alt: msg.Alt}
	switch msg.Type {
	case tea.KeyRunes:
		if len(msg.Runes) == 0 {
			return k, false
		}
		if len(msg.Runes) == 1 {
			k.Rune = msg.Runes[0]
		} else {
			k.Text = string(msg.Runes) // typed faster than read: text in one go
		}
		return k, true
	case tea.KeySpace:
		k.Code = vt.KeySpace
		return k, true
	case tea.KeyCtrlAt:
		k.Code, k.Ctrl = vt.KeySpace, true
		return k, true
	}
	if c, ok := namedKeyOf(msg.Type); ok {
		k.Code, k.Ctrl, k.Shift = c.code, c.ctrl, c.shift
		return k, true
	}
	if r, ok := ctrlRune(msg.Type); ok {
		k.Rune, k.Ctrl = r, true
		return k, true
	}
	return k, false
}

// ctrlRune is the letter or sign of a ctrl key (ctrl+a is 'a').
func ctrlRune(t tea.KeyType) (rune, bool) {
	switch {
	case t >= tea.KeyCtrlA && t <= tea.KeyCtrlZ:
		return rune('a' + t - tea.KeyCtrlA), true
	case t == tea.KeyCtrlBackslash:
		return '\\', true
	case t == tea.KeyCtrlCloseBracket:
		return ']', true
	case t == tea.KeyCtrlCaret:
		return '^', true
	case t == tea.KeyCtrlUnderscore:
		return '_', true
	}
	return 0, false
}

// namedKey is a special key as vterm names it, with its modifiers.
type namedKey struct {
	code        vt.KeyCode
	ctrl, shift bool
}

// namedKeys maps Bubble Tea's special keys (those with their modifiers in
// the type) to vterm's. Tab, enter, backspace and esc share their byte with
// ctrl+i, ctrl+m, ctrl+? and ctrl+[ and are looked up first.
var namedKeys = [...]struct {
	t tea.KeyType
	k namedKey
}{
	{tea.KeyEnter, namedKey{code: vt.KeyEnter}},
	{tea.KeyTab, namedKey{code: vt.KeyTab}},
	{tea.KeyShiftTab, namedKey{code: vt.KeyTab, shift: true}},
	{tea.KeyBackspace, namedKey{code: vt.KeyBackspace}},
	{tea.KeyEsc, namedKey{code: vt.KeyEsc}},
	{tea.KeyDelete, namedKey{code: vt.KeyDelete}},
	{tea.KeyInsert, namedKey{code: vt.KeyInsert}},
	{tea.KeyUp, namedKey{code: vt.KeyUp}},
	{tea.KeyDown, namedKey{code: vt.KeyDown}},
	{tea.KeyRight, namedKey{code: vt.KeyRight}},
	{tea.KeyLeft, namedKey{code: vt.KeyLeft}},
	{tea.KeyHome, namedKey{code: vt.KeyHome}},
	{tea.KeyEnd, namedKey{code: vt.KeyEnd}},
	{tea.KeyPgUp, namedKey{code: vt.KeyPageUp}},
	{tea.KeyPgDown, namedKey{code: vt.KeyPageDown}},
	{tea.KeyCtrlUp, namedKey{code: vt.KeyUp, ctrl: true}},
	{tea.KeyCtrlDown, namedKey{code: vt.KeyDown, ctrl: true}},
	{tea.KeyCtrlRight, namedKey{code: vt.KeyRight, ctrl: true}},
	{tea.KeyCtrlLeft, namedKey{code: vt.KeyLeft, ctrl: true}},
	{tea.KeyCtrlHome, namedKey{code: vt.KeyHome, ctrl: true}},
	{tea.KeyCtrlEnd, namedKey{code: vt.KeyEnd, ctrl: true}},
	{tea.KeyCtrlPgUp, namedKey{code: vt.KeyPageUp, ctrl: true}},
	{tea.KeyCtrlPgDown, namedKey{code: vt.KeyPageDown, ctrl: true}},
	{tea.KeyShiftUp, namedKey{code: vt.KeyUp, shift: true}},
	{tea.KeyShiftDown, namedKey{code: vt.KeyDown, shift: true}},
	{tea.KeyShiftRight, namedKey{code: vt.KeyRight, shift: true}},
	{tea.KeyShiftLeft, namedKey{code: vt.KeyLeft, shift: true}},
	{tea.KeyShiftHome, namedKey{code: vt.KeyHome, shift: true}},
	{tea.KeyShiftEnd, namedKey{code: vt.KeyEnd, shift: true}},
	{tea.KeyCtrlShiftUp, namedKey{code: vt.KeyUp, ctrl: true, shift: true}},
	{tea.KeyCtrlShiftDown, namedKey{code: vt.KeyDown, ctrl: true, shift: true}},
	{tea.KeyCtrlShiftLeft, namedKey{code: vt.KeyLeft, ctrl: true, shift: true}},
	{tea.KeyCtrlShiftRight, namedKey{code: vt.KeyRight, ctrl: true, shift: true}},
	{tea.KeyCtrlShiftHome, namedKey{code: vt.KeyHome, ctrl: true, shift: true}},
	{tea.KeyCtrlShiftEnd, namedKey{code: vt.KeyEnd, ctrl: true, shift: true}},
	{tea.KeyF1, namedKey{code: vt.KeyF1}},
	{tea.KeyF2, namedKey{code: vt.KeyF2}},
	{tea.KeyF3, namedKey{code: vt.KeyF3}},
	{tea.KeyF4, namedKey{code: vt.KeyF4}},
	{tea.KeyF5, namedKey{code: vt.KeyF5}},
	{tea.KeyF6, namedKey{code: vt.KeyF6}},
	{tea.KeyF7, namedKey{code: vt.KeyF7}},
	{tea.KeyF8, namedKey{code: vt.KeyF8}},
	{tea.KeyF9, namedKey{code: vt.KeyF9}},
	{tea.KeyF10, namedKey{code: vt.KeyF10}},
	{tea.KeyF11, namedKey{code: vt.KeyF11}},
	{tea.KeyF12, namedKey{code: vt.KeyF12}},
	{tea.KeyF13, namedKey{code: vt.KeyF1, shift: true}},
	{tea.KeyF14, namedKey{code: vt.KeyF2, shift: true}},
	{tea.KeyF15, namedKey{code: vt.KeyF3, shift: true}},
	{tea.KeyF16, namedKey{code: vt.KeyF4, shift: true}},
	{tea.KeyF17, namedKey{code: vt.KeyF5, shift: true}},
	{tea.KeyF18, namedKey{code: vt.KeyF6, shift: true}},
	{tea.KeyF19, namedKey{code: vt.KeyF7, shift: true}},
	{tea.KeyF20, namedKey{code: vt.KeyF8, shift: true}},
}

// namedKeyOf looks a special key up in namedKeys.
func namedKeyOf(t tea.KeyType) (namedKey, bool) {
	for _, e := range namedKeys {
		if e.t == t {
			return e.k, true
		}
	}
	return namedKey{}, false
}

// typingFooter is the footer while typing mode is on: plainly that it is,
// and the way out.
func (m *Model) typingFooter() string {
	p := m.pal
	name := safe(m.tty.typing.name)
	line := p.warn.on("typing into "+name) + p.helpDesc.on(" — ") + p.helpKey.on("ctrl+a") + p.helpDesc.on(" to leave")
	if width(line) <= m.width {
		if more := " • ctrl+a ctrl+a sends ctrl+a"; width(line)+width(more) <= m.width {
			line += p.helpSep.on(" • ") + p.helpDesc.on("ctrl+a ctrl+a sends ctrl+a")
		}
		return line
	}
	return truncate(p.warn.on("typing · ctrl+a leaves"), m.width)
}
