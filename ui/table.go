package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// focusArea is the part of the screen that takes the moving keys.
type focusArea uint8

const (
	focusTable focusArea = iota
	focusOutput
)

// unitRow is one row of the table. Rows form a shallow tree: a group row (a
// cluster, a process tree, a worker group) with its members under it.
type unitRow struct {
	info   procs.Info
	depth  int  // 0 at the top level, 1 under a group row
	group  bool // other rows sit under this one
	folded bool // its members are hidden
	last   bool // the last member of its group
}

// colID names a table column.
type colID uint8

const (
	colName colID = iota
	colState
	colPID
	colCPU
	colMem
	colRestarts
	colUptime
	colCommand
)

type column struct {
	id    colID
	title string
	width int
	right bool
}

// fixedColumns are the columns with a fixed width, in display order. NAME
// comes before them and COMMAND after them; both flex.
var fixedColumns = []column{
	{id: colState, title: "STATE", width: 18},
	{id: colPID, title: "PID", width: 7, right: true},
	{id: colCPU, title: "CPU%", width: 5, right: true},
	{id: colMem, title: "MEM", width: 6, right: true},
	{id: colRestarts, title: "RESTARTS", width: 8, right: true},
	{id: colUptime, title: "UPTIME", width: 6, right: true},
}

// columnDropOrder: the columns a narrow table gives up, first to last.
var columnDropOrder = []colID{colPID, colRestarts, colUptime, colMem, colCPU}

const (
	gutterW    = 2 // the cursor marker
	colGap     = 2
	minNameW   = 10
	maxNameW   = 32
	minCommand = 12
)

// unitTable is the list of units: rows in tree order, the visible subset,
// the cursor, and the rendered lines of what is on screen.
type unitTable struct {
	order   []string // unit names in the engine's display order
	byName  map[string]*unitRow
	rows    []*unitRow // tree order
	visible []*unitRow // rows not folded away
	cursor  int        // index in visible
	offset  int        // first visible row on screen

	width, height int // height counts the column header line
	focused       bool
	cols          []column // NAME first, then the fixed columns that fit, maybe COMMAND
	longest       int      // widest name cell wanted, tree prefix included

	empty string   // what an empty table says
	lines []string // exactly height lines, each exactly width cells
}

func newUnitTable() unitTable {
	return unitTable{byName: make(map[string]*unitRow), empty: "connecting…"}
}

// reset replaces every unit (a fresh snapshot).
func (t *unitTable) reset(infos []procs.Info) {
	keep := t.selectedName()
	t.order = t.order[:0]
	clear(t.byName)
	for _, in := range infos {
		if _, dup := t.byName[in.Name]; dup {
			continue
		}
		t.order = append(t.order, in.Name)
		t.byName[in.Name] = &unitRow{info: in}
	}
	t.rebuild(keep)
}

// upsert applies a unit's new snapshot; it reports whether the tree changed.
func (t *unitTable) upsert(in procs.Info) (structural bool) {
	if r, ok := t.byName[in.Name]; ok {
		structural = r.info.Group != in.Group
		r.info = in
		return structural
	}
	t.order = append(t.order, in.Name)
	t.byName[in.Name] = &unitRow{info: in}
	return true
}

// remove drops a unit; it reports whether it was there.
func (t *unitTable) remove(name string) bool {
	if _, ok := t.byName[name]; !ok {
		return false
	}
	delete(t.byName, name)
	for i, n := range t.order {
		if n == name {
			t.order = append(t.order[:i], t.order[i+1:]...)
			break
		}
	}
	return true
}

// rebuild lays the rows out as a tree (members right under their group row,
// in display order) and keeps the cursor on the unit named keep when it is
// still there.
func (t *unitTable) rebuild(keep string) {
	members := make(map[string][]*unitRow)
	t.rows = t.rows[:0]
	for _, name := range t.order {
		r := t.byName[name]
		r.depth, r.group, r.last = 0, false, false
		if g := r.info.Group; g != "" && g != name {
			if _, ok := t.byName[g]; ok {
				members[g] = append(members[g], r)
			}
		}
	}
	t.longest = 0
	for _, name := range t.order {
		r := t.byName[name]
		if g := r.info.Group; g != "" && g != name {
			if _, ok := t.byName[g]; ok {
				continue // placed under its group
			}
		}
		t.rows = append(t.rows, r)
		ms := members[name]
		r.group = len(ms) > 0
		t.longest = max(t.longest, nameCellWidth(r))
		if r.group {
			for i, m := range ms {
				m.depth = 1
				m.last = i == len(ms)-1
				t.rows = append(t.rows, m)
				t.longest = max(t.longest, nameCellWidth(m))
			}
		}
	}
	t.visible = t.visible[:0]
	hidden := false
	for _, r := range t.rows {
		if r.depth == 0 {
			hidden = r.group && r.folded
		} else if hidden {
			continue
		}
		t.visible = append(t.visible, r)
	}
	t.cursor = min(t.cursor, max(len(t.visible)-1, 0))
	if keep != "" {
		for i, r := range t.visible {
			if r.info.Name == keep {
				t.cursor = i
				break
			}
		}
	}
	t.layout()
	t.clampOffset()
}

func nameCellWidth(r *unitRow) int {
	return width(r.info.Name) + 3*r.depth + boolInt(r.group)*2
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// selected is the cursor's row, or nil when there are none.
func (t *unitTable) selected() *unitRow {
	if t.cursor < 0 || t.cursor >= len(t.visible) {
		return nil
	}
	return t.visible[t.cursor]
}

func (t *unitTable) selectedName() string {
	if r := t.selected(); r != nil {
		return r.info.Name
	}
	return ""
}

// pageRows is how many unit rows fit on screen.
func (t *unitTable) pageRows() int { return max(t.height-1, 1) }

// moveTo puts the cursor on visible row i (clamped).
func (t *unitTable) moveTo(i int) {
	t.cursor = max(0, min(i, len(t.visible)-1))
	t.clampOffset()
}

func (t *unitTable) move(delta int) { t.moveTo(t.cursor + delta) }

func (t *unitTable) clampOffset() {
	page := t.pageRows()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+page {
		t.offset = t.cursor - page + 1
	}
	t.offset = max(0, min(t.offset, len(t.visible)-page))
}

func (t *unitTable) setSize(w, h int) {
	t.width, t.height = w, h
	t.layout()
	t.clampOffset()
}

// layout picks the columns that fit the width: NAME flexes between its
// bounds, narrow tables drop the less important columns, and a wide one
// gives what is left to COMMAND.
func (t *unitTable) layout() {
	dropped := 0
	for {
		fixed := gutterW
		t.cols = t.cols[:0]
		t.cols = append(t.cols, column{id: colName, title: "NAME"})
		for _, c := range fixedColumns {
			if isDropped(c.id, dropped) {
				continue
			}
			t.cols = append(t.cols, c)
			fixed += colGap + c.width
		}
		avail := t.width - fixed
		if avail < minNameW && dropped < len(columnDropOrder) {
			dropped++
			continue
		}
		want := max(minNameW, min(t.longest+1, maxNameW))
		nameW := max(avail, 1)
		if rest := avail - want; rest >= colGap+minCommand {
			nameW = want
			t.cols = append(t.cols, column{id: colCommand, title: "COMMAND", width: rest - colGap})
		}
		t.cols[0].width = nameW
		return
	}
}

func isDropped(id colID, n int) bool {
	for _, d := range columnDropOrder[:n] {
		if d == id {
			return true
		}
	}
	return false
}

// render prepares the lines on screen: the column header and the visible
// rows from offset, padded to exactly height lines of exactly width cells.
func (t *unitTable) render(pal *palette, now time.Time) {
	t.lines = t.lines[:0]
	if t.height <= 0 || t.width <= 0 {
		return
	}
	t.lines = append(t.lines, t.headerLine(pal))
	page := t.height - 1
	var b strings.Builder
	for i := t.offset; i < len(t.visible) && i < t.offset+page; i++ {
		variant := rowNormal
		if i == t.cursor {
			variant = rowSelected
			if !t.focused {
				variant = rowSelectedBlurred
			}
		}
		b.Reset()
		t.renderRow(&b, pal, t.visible[i], variant, now)
		t.lines = append(t.lines, b.String())
	}
	if len(t.visible) == 0 && page > 0 {
		t.lines = append(t.lines, pal.dim.on(fit("  "+t.empty, t.width, false)))
	}
	for len(t.lines) < t.height {
		t.lines = append(t.lines, spaces(t.width))
	}
}

func (t *unitTable) headerLine(pal *palette) string {
	p := pal.colHead
	if t.focused {
		p = pal.colHeadFocused
	}
	var b strings.Builder
	b.WriteString(spaces(gutterW))
	used := gutterW
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(spaces(colGap))
			used += colGap
		}
		p.write(&b, fit(c.title, c.width, c.right))
		used += c.width
	}
	b.WriteString(spaces(t.width - used))
	return b.String()
}

// renderRow writes one row of exactly t.width cells.
func (t *unitTable) renderRow(b *strings.Builder, pal *palette, r *unitRow, variant int, now time.Time) {
	rp := &pal.rows[variant]
	in := &r.info
	if variant == rowNormal {
		b.WriteString(spaces(gutterW))
	} else {
		rp.base.write(b, "▸ ")
	}
	used := gutterW
	live := in.State.Live()
	for i, c := range t.cols {
		if i > 0 {
			rp.base.write(b, spaces(colGap))
			used += colGap
		}
		used += c.width
		switch c.id {
		case colName:
			rp.base.write(b, fit(nameCell(r), c.width, false))
		case colState:
			glyph, words, tone := stateText(in, now)
			rp.state[tone].write(b, fit(glyph+" "+words, c.width, false))
		case colPID:
			if in.PID == 0 {
				rp.dim.write(b, fit("—", c.width, true))
			} else {
				rp.base.write(b, fit(strconv.Itoa(in.PID), c.width, true))
			}
		case colCPU:
			if !live {
				rp.dim.write(b, fit("—", c.width, true))
			} else {
				rp.base.write(b, fit(percent(in.CPU), c.width, true))
			}
		case colMem:
			if !live || in.RSS == 0 {
				rp.dim.write(b, fit("—", c.width, true))
			} else {
				rp.base.write(b, fit(humanBytes(in.RSS), c.width, true))
			}
		case colRestarts:
			if in.Restarts == 0 {
				rp.dim.write(b, fit("0", c.width, true))
			} else {
				rp.restarts.write(b, fit("↺ "+strconv.Itoa(in.Restarts), c.width, true))
			}
		case colUptime:
			if !live || in.StartedAt.IsZero() {
				rp.dim.write(b, fit("—", c.width, true))
			} else {
				rp.base.write(b, fit(compactDuration(in.Uptime(now)), c.width, true))
			}
		case colCommand:
			rp.dim.write(b, fit(in.Command, c.width, false))
		}
	}
	if pad := t.width - used; pad > 0 {
		rp.base.write(b, spaces(pad))
	}
}

// nameCell is the name with its place in the tree.
func nameCell(r *unitRow) string {
	switch {
	case r.depth > 0 && r.last:
		return " └─" + r.info.Name
	case r.depth > 0:
		return " ├─" + r.info.Name
	case r.group && r.folded:
		return "▸ " + r.info.Name
	case r.group:
		return "▾ " + r.info.Name
	}
	return r.info.Name
}
