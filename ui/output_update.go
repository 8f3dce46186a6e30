package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// An output pane as a component (the Output and Messages views, each
// column of a split view, the merged stream): its keys (OutputKeys and its
// own MoveKeys), enabled by its own state, and Update, which applies the
// keys that change only the pane. The root owns what reaches further: `/`
// opens the search line, `v` may answer on the status line, `y` writes to
// the terminal.

// outputAction is one of the pane's bindings and what it does.
type outputAction struct {
	binding func(k *OutputKeys) *key.Binding
	do      func(p *outputPane)
}

var outputActions = [...]outputAction{
	{func(k *OutputKeys) *key.Binding { return &k.Timestamps }, (*outputPane).toggleTimestamps},
	{func(k *OutputKeys) *key.Binding { return &k.Wrap }, func(p *outputPane) {
		p.toggleWrap()
		p.topSub = 0 // the line on top keeps its place; its rows change
	}},
	{func(k *OutputKeys) *key.Binding { return &k.NextMatch }, func(p *outputPane) { p.stepMatch(1) }},
	{func(k *OutputKeys) *key.Binding { return &k.PrevMatch }, func(p *outputPane) { p.stepMatch(-1) }},
}

// bind points the pane at the palette and the buffer it draws from.
func (p *outputPane) bind(pal *palette, b *logBuf) { p.pal, p.buf = pal, b }

// bindings are the pane's keys, for routing.
func (p *outputPane) bindings() []*key.Binding {
	k := &p.keys
	return append(p.moves.list(), &k.Timestamps, &k.Wrap, &k.NextMatch, &k.PrevMatch)
}

// Update applies a key meant for the pane.
func (p *outputPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	for _, a := range outputActions {
		if key.Matches(km, *a.binding(&p.keys)) {
			a.do(p)
			return nil
		}
	}
	if p.moves.matches(km) {
		p.scrollKey(km)
	}
	return nil
}

// scrollKey scrolls the pane by a moving key, or moves its selection.
func (p *outputPane) scrollKey(km tea.KeyMsg) {
	delta, top, bottom := p.moves.distance(km, p.height)
	if p.visual.on {
		// The selection moves by lines; a page of rows is a page of lines
		// or more, which is near enough.
		switch {
		case top:
			delta = -(1 << 30)
		case bottom:
			delta = 1 << 30
		}
		p.moveSelection(p.pal, p.buf, delta)
		return
	}
	switch {
	case top:
		p.home(p.pal, p.buf)
	case bottom:
		p.end()
	default:
		p.scroll(p.pal, p.buf, delta)
	}
}

// clear ends what esc ends in the pane, innermost first: the line
// selection, else the search. It reports whether there was one.
func (p *outputPane) clear() bool {
	switch {
	case p.visual.on:
		p.visual.on = false
	case p.search.query != "":
		p.search.set("", nil)
		p.rekey()
	default:
		return false
	}
	return true
}

// stepMatch moves to the next (dir 1) or previous (-1) match.
func (p *outputPane) stepMatch(dir int) {
	p.search.sync(p.buf)
	if n, ok := p.search.step(dir); ok {
		p.revealMatch(p.pal, p.buf, n)
	}
}

// updateKeys enables the pane's keys for its state: shown says the pane is
// on screen with nothing modal over it, focused that it has the keyboard.
func (p *outputPane) updateKeys(shown, focused bool) {
	k, mv := &p.keys, &p.moves
	for _, b := range []*key.Binding{&k.Timestamps, &k.Wrap, &k.Search, &k.NextMatch, &k.PrevMatch, &k.Select, &k.Copy} {
		b.SetEnabled(false)
	}
	mv.enable(focused)
	// The Messages view scrolls and follows, but has no search, selection,
	// wrap or timestamps toggles.
	outputLike := !p.messages
	k.Timestamps.SetEnabled(shown && outputLike)
	k.Wrap.SetEnabled(shown && outputLike)
	if !focused {
		return
	}
	mv.Up.SetHelp("↑/k", "up")
	mv.Down.SetHelp("↓/j", "down")
	mv.Top.SetHelp("g/home", "top")
	mv.Bottom.SetHelp("G/end", "follow")
	// G/end is "follow": only useful when not following.
	mv.Bottom.SetEnabled(!p.follow)
	if !outputLike {
		return
	}
	searching := p.search.query != ""
	k.Search.SetEnabled(true)
	k.NextMatch.SetEnabled(searching)
	k.PrevMatch.SetEnabled(searching)
	k.Select.SetEnabled(!p.visual.on)
	k.Copy.SetEnabled(p.visual.on)
	if p.visual.on {
		mv.Up.SetHelp("↑/k", "extend")
		mv.Down.SetHelp("↓/j", "extend")
	}
}
