package ui

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// The units table as a component: its keys (TableKeys and its own
// MoveKeys), enabled by its own state, and Update, which applies the keys
// that change only the table. The root owns what reaches further: `/`
// opens the filter line, and a new selection points the pane at it.

// tableAction is one of the table's bindings and what it does.
type tableAction struct {
	binding func(k *TableKeys) *key.Binding
	do      func(t *unitTable)
}

// tableActions are the table's own keys; Filter is the root's (it opens
// the line input).
var tableActions = [...]tableAction{
	{func(k *TableKeys) *key.Binding { return &k.Fold }, func(t *unitTable) { t.toggleFold() }},
	{func(k *TableKeys) *key.Binding { return &k.Expand }, func(t *unitTable) { t.setFold(true) }},
	{func(k *TableKeys) *key.Binding { return &k.Collapse }, func(t *unitTable) { t.setFold(false) }},
	{func(k *TableKeys) *key.Binding { return &k.Sort }, (*unitTable).cycleSort},
	{func(k *TableKeys) *key.Binding { return &k.SortReverse }, (*unitTable).reverseSort},
	{func(k *TableKeys) *key.Binding { return &k.Mark }, (*unitTable).toggleMark},
}

// Update applies a key meant for the table.
func (t *unitTable) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	for _, a := range tableActions {
		if key.Matches(km, *a.binding(&t.keys)) {
			a.do(t)
			return nil
		}
	}
	if t.moves.matches(km) {
		delta, top, bottom := t.moves.distance(km, t.pageRows())
		switch {
		case top:
			t.moveTo(0)
		case bottom:
			t.moveTo(len(t.visible) - 1)
		default:
			t.move(delta)
		}
	}
	return nil
}

// bindings are the table's keys, for routing (Filter is the root's).
func (t *unitTable) bindings() []*key.Binding {
	k := &t.keys
	return append(t.moves.list(), &k.Fold, &k.Expand, &k.Collapse, &k.Sort, &k.SortReverse, &k.Mark)
}

// toggleMark marks or unmarks the selected unit (for a split view) and
// moves on to the next row.
func (t *unitTable) toggleMark() {
	if r := t.selected(); r != nil {
		r.marked = !r.marked
		t.move(1)
	}
}

// nextSort is the column `o` sorts by next.
func (t *unitTable) nextSort() colID {
	return sortCycle[(slices.Index(sortCycle, t.sortBy)+1)%len(sortCycle)]
}

// updateKeys enables the table's keys for its state; active says that the
// table has the keyboard (nothing modal, no `?` screen, the focus).
func (t *unitTable) updateKeys(active bool) {
	k, mv := &t.keys, &t.moves
	for _, b := range []*key.Binding{&k.Fold, &k.Expand, &k.Collapse, &k.Filter, &k.Sort, &k.SortReverse, &k.Mark} {
		b.SetEnabled(false)
	}
	mv.enable(active)
	if !active {
		return
	}
	mv.Up.SetHelp("↑/k", "up")
	mv.Down.SetHelp("↓/j", "down")
	mv.Top.SetHelp("g/home", "first unit")
	mv.Bottom.SetHelp("G/end", "last unit")
	k.Filter.SetEnabled(true)
	k.Sort.SetEnabled(true)
	k.Sort.SetHelp("o", "sort: "+t.nextSort().String())
	k.SortReverse.SetEnabled(true)
	v, ok := t.selectedRow()
	if !ok {
		return
	}
	procRow := v.proc >= 0
	k.Mark.SetEnabled(!procRow && !v.u.virtual)
	if v.u.marked {
		k.Mark.SetHelp("*", "unmark")
	} else {
		k.Mark.SetHelp("*", "mark")
	}
	switch {
	case procRow:
		k.Fold.SetEnabled(true)
		k.Fold.SetHelp("enter", "fold")
		k.Collapse.SetEnabled(true)
	case v.u.expandable():
		open := v.u.open()
		k.Fold.SetEnabled(true)
		if open {
			k.Fold.SetHelp("enter", "fold")
		} else {
			k.Fold.SetHelp("enter", "unfold")
		}
		k.Expand.SetEnabled(!open)
		k.Collapse.SetEnabled(open)
	case v.u.depth > 0:
		k.Collapse.SetEnabled(true)
	}
}
