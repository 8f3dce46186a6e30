package ui

import (
	"strconv"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// Each component's own Update, without the root: its keys, enabled by its
// own state, do what they say; keys it does not own, or that are off, do
// nothing.

func testKeys() KeyMap { return DefaultKeyMap() }

func TestTableUpdate(t *testing.T) {
	km := testKeys()
	tb := newUnitTable()
	tb.keys, tb.moves = km.TableKeys, km.MoveKeys
	tb.reset(fixture())
	tb.SetSize(100, 6) // a header and 5 rows
	press := func(k string) {
		t.Helper()
		tb.updateKeys(true)
		tb.Update(keyMsg(k))
	}
	first := tb.selectedName()
	press("j")
	if tb.cursor != 1 {
		t.Fatalf("j: cursor %d", tb.cursor)
	}
	press("G")
	if tb.cursor != len(tb.visible)-1 {
		t.Fatalf("G: cursor %d of %d", tb.cursor, len(tb.visible))
	}
	press("g")
	if tb.selectedName() != first {
		t.Fatalf("g: %q selected, want %q", tb.selectedName(), first)
	}
	press("*")
	if r := tb.byName[first]; !r.marked || tb.cursor != 1 {
		t.Fatalf("*: marked %v, cursor %d", r.marked, tb.cursor)
	}
	sortBy := tb.sortBy
	press("o")
	if tb.sortBy == sortBy {
		t.Fatal("o did not change the sort")
	}
	// Off: the table does not have the keyboard.
	tb.updateKeys(false)
	at := tb.cursor
	tb.Update(keyMsg("j"))
	if tb.cursor != at {
		t.Fatal("a disabled table moved")
	}
	// Not its key: nothing.
	tb.updateKeys(true)
	tb.Update(keyMsg("x"))
	if tb.cursor != at {
		t.Fatal("x moved the table")
	}
	if tb.Update(tea.WindowSizeMsg{Width: 1, Height: 1}) != nil {
		t.Fatal("a non-key message made a command")
	}
}

// paneWithLines is an output pane over a buffer of n short lines.
func paneWithLines(n, h int) (*outputPane, *palette) {
	km := testKeys()
	st := DefaultStyles()
	pal := st.compile()
	b := &logBuf{name: "u", loaded: true}
	for i := range n {
		b.lines = append(b.lines, outLine{seq: uint64(i + 1), stream: procs.Stdout, text: "line " + strconv.Itoa(i)})
	}
	p := &outputPane{}
	p.reset()
	p.keys, p.moves = km.OutputKeys, km.MoveKeys
	p.SetSize(40, h)
	p.bind(&pal, b)
	p.View(&pal, b, "")
	return p, &pal
}

func TestOutputPaneUpdate(t *testing.T) {
	p, pal := paneWithLines(50, 5)
	press := func(k string) {
		t.Helper()
		p.updateKeys(true, true)
		p.Update(keyMsg(k))
		p.View(pal, p.buf, "")
	}
	p.updateKeys(true, true)
	if p.moves.Bottom.Enabled() {
		t.Fatal("G/end offered while following")
	}
	press("k")
	if p.follow {
		t.Fatal("k did not pause the pane")
	}
	press("G")
	if !p.follow {
		t.Fatal("G did not follow")
	}
	press("t")
	if !p.timestamps {
		t.Fatal("t did not turn timestamps on")
	}
	press("w")
	if !p.nowrap {
		t.Fatal("w did not turn wrapping off")
	}
	// n is off without a search; with one, it moves between matches.
	press("n")
	if p.search.cur != -1 {
		t.Fatal("n without a search did something")
	}
	p.search.set("line 4", p.buf) // line 4, line 40..49
	press("N")
	first := p.search.cur
	press("N")
	if p.search.cur == first {
		t.Fatalf("N: stayed on match %d", first)
	}
	// Shown but not focused: t and w still work, moving does not.
	p.updateKeys(true, false)
	p.follow = true
	p.Update(keyMsg("k"))
	if !p.follow {
		t.Fatal("an unfocused pane scrolled")
	}
	p.Update(keyMsg("t"))
	if p.timestamps {
		t.Fatal("t did not work from the table")
	}
}

func TestStatsPaneUpdate(t *testing.T) {
	km := testKeys()
	s := &statsPane{moves: km.MoveKeys}
	s.SetSize(40, 10)
	s.updateKeys(true)
	s.Update(keyMsg("j"))
	s.Update(keyMsg("ctrl+d"))
	if s.offset != 1+5 {
		t.Fatalf("j and ctrl+d: offset %d, want 6", s.offset)
	}
	s.Update(keyMsg("g"))
	if s.offset != 0 {
		t.Fatalf("g: offset %d", s.offset)
	}
	s.updateKeys(false)
	s.Update(keyMsg("j"))
	if s.offset != 0 {
		t.Fatal("an unfocused Stats view scrolled")
	}
}

func TestSignalMenuUpdate(t *testing.T) {
	km := testKeys()
	s := &signalMenu{moves: km.MoveKeys, keys: km.InputKeys}
	s.SetSize(40, 6)
	s.show("api")
	s.updateKeys()
	if !s.keys.Submit.Enabled() || s.keys.Submit.Help().Desc != "send" {
		t.Fatalf("enter in an open menu: %v %q", s.keys.Submit.Enabled(), s.keys.Submit.Help().Desc)
	}
	s.Update(keyMsg("j"))
	if s.cursor != 1 {
		t.Fatalf("j: cursor %d", s.cursor)
	}
	s.Update(keyMsg("G"))
	if s.cursor != len(s.sigs)-1 {
		t.Fatalf("G: cursor %d of %d", s.cursor, len(s.sigs))
	}
	s.Update(keyMsg("pgup"))
	if want := len(s.sigs) - 1 - 5; s.cursor != want {
		t.Fatalf("pgup: cursor %d, want %d (a page of 5 signals)", s.cursor, want)
	}
	s.Update(keyMsg("esc"))
	if s.open {
		t.Fatal("esc left the menu open")
	}
	s.updateKeys()
	if s.keys.Submit.Enabled() || s.moves.Down.Enabled() {
		t.Fatal("a closed menu offers keys")
	}
	s.show("web")
	if s.height != 5 || s.moves.Up.Keys() == nil {
		t.Fatal("show forgot the menu's size or keys")
	}
}

func TestComposerUpdate(t *testing.T) {
	km := testKeys()
	st := DefaultStyles()
	c := newComposer(&st)
	c.keys, c.walkKeys = km.InputKeys, km.HistoryKeys
	c.start("api")
	c.updateKeys()
	for _, r := range `{"a":1}` {
		c.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if got := c.input.Value(); got != `{"a":1}` || !c.ok {
		t.Fatalf("typed %q, ok %v", got, c.ok)
	}
	c.sent(c.input.Value())
	c.Update(keyMsg("up"))
	if got := c.input.Value(); got != `{"a":1}` {
		t.Fatalf("up: %q, want the message sent", got)
	}
	c.Update(keyMsg("esc"))
	if c.open {
		t.Fatal("esc left the composer open")
	}
	c.updateKeys()
	if c.keys.Submit.Enabled() || c.walkKeys.HistoryPrev.Enabled() {
		t.Fatal("a closed composer offers keys")
	}
}

func TestSplitAndMergedUpdate(t *testing.T) {
	km := testKeys()
	st := DefaultStyles()
	pal := st.compile()
	sv := &splitView{keys: km.OutputKeys, moves: km.MoveKeys}
	sv.start([]string{"a", "b"})
	sv.focus = 1
	for i := range sv.panes {
		sv.panes[i].bind(&pal, nil)
		sv.panes[i].updateKeys(true, i == sv.focus)
	}
	sv.Update(keyMsg("t"))
	if sv.panes[0].timestamps || !sv.panes[1].timestamps {
		t.Fatalf("t reached the wrong column: %v %v", sv.panes[0].timestamps, sv.panes[1].timestamps)
	}
	if sv.panes[0].moves.Up.Keys() == nil {
		t.Fatal("a column's pane has no keys")
	}

	mv := &mergedView{}
	mv.pane.keys, mv.pane.moves = km.OutputKeys, km.MoveKeys
	mv.start([]string{"a", "b"})
	mv.pane.bind(&pal, mv.buf)
	mv.pane.updateKeys(true, true)
	mv.Update(keyMsg("w"))
	if !mv.pane.nowrap {
		t.Fatal("w did not reach the merged stream's pane")
	}
}
