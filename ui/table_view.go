package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// treePrefixes draws the branches in front of each process of r's tree
// (index 0, the unit's own process, gets none): "├─ " for a process with a
// later sibling, "└─ " for the last one, and "│  " where an ancestor's
// branch goes on below.
func treePrefixes(dst []string, r *unitRow) []string {
	tree := r.tree
	lead := ""
	if r.depth > 0 {
		lead = " │ "
		if r.last {
			lead = "   "
		}
	}
	dst = append(dst, "")
	// hasNext(i): a later process at i's depth before the tree climbs above it.
	hasNext := func(i int) bool {
		d := tree[i].Depth
		for j := i + 1; j < len(tree); j++ {
			switch {
			case tree[j].Depth == d:
				return true
			case tree[j].Depth < d:
				return false
			}
		}
		return false
	}
	// open[l]: the branch at depth l continues below the current line.
	var open []bool
	var b strings.Builder
	for i := 1; i < len(tree); i++ {
		d := max(tree[i].Depth, 1)
		for len(open) < d {
			open = append(open, false)
		}
		b.Reset()
		b.WriteString(lead)
		for l := 1; l < d; l++ {
			if open[l-1] {
				b.WriteString("│  ")
			} else {
				b.WriteString("   ")
			}
		}
		next := hasNext(i)
		if next {
			b.WriteString("├─ ")
		} else {
			b.WriteString("└─ ")
		}
		open[d-1] = next
		dst = append(dst, b.String())
	}
	return dst
}

// pageRows is how many unit rows fit on screen.
func (t *unitTable) pageRows() int { return max(t.height-1, 1) }

// layout picks the columns that fit the width: NAME flexes between its
// bounds, narrow tables drop the less important columns, and a wide one
// gives what is left to COMMAND.
func (t *unitTable) layout() {
	dropped := 0
	kind := true
	for {
		fixed := gutterW
		t.cols = t.cols[:0]
		t.cols = append(t.cols, column{id: colName, title: "NAME"})
		for _, c := range fixedColumns {
			if isDropped(c.id, dropped) || c.id == colKind && !kind {
				continue
			}
			t.cols = append(t.cols, c)
			fixed += colGap + c.width
		}
		avail := t.width - fixed
		want := max(minNameW, min(t.longest+1, maxNameW))
		// Too narrow: give up columns. The sparkline also gives way to a
		// name that would be cut, since a row must say what it is first.
		if dropped < len(columnDropOrder) && (avail < minNameW || (avail < want && columnDropOrder[dropped] == colSpark)) {
			dropped++
			continue
		}
		// KIND gives way to COMMAND where that makes room for it.
		if kind && !isDropped(colKind, dropped) && avail-want < colGap+minCommand && avail-want+colGap+kindW >= colGap+minCommand {
			kind = false
			continue
		}
		nameW := max(avail, 1)
		if rest := avail - want; rest >= colGap+minCommand {
			nameW = want
			t.cols = append(t.cols, column{id: colCommand, title: "COMMAND", width: rest - colGap})
		}
		t.cols[0].width = nameW
		return
	}
}

// widthWithCommand is the narrowest table that shows every column and a
// COMMAND column beside the names.
func (t *unitTable) widthWithCommand() int {
	w := gutterW
	for _, c := range fixedColumns {
		if c.id != colKind { // it gives way to COMMAND
			w += colGap + c.width
		}
	}
	return w + max(minNameW, min(t.longest+1, maxNameW)) + colGap + minCommand
}

func isDropped(id colID, n int) bool {
	for _, d := range columnDropOrder[:n] {
		if d == id {
			return true
		}
	}
	return false
}

// View prepares and returns the lines on screen: the column header and the visible
// rows from offset, padded to exactly height lines of exactly width cells.
func (t *unitTable) View(pal *palette, now time.Time) []string {
	t.lines = t.lines[:0]
	if t.height <= 0 || t.width <= 0 {
		return t.lines
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
		empty := t.empty
		if t.filter != "" && len(t.order) > 0 {
			empty = "no unit matches “" + t.filter + "” (esc clears the filter)"
		}
		t.lines = append(t.lines, pal.dim.on(fit("  "+empty, t.width, false)))
	}
	for len(t.lines) < t.height {
		t.lines = append(t.lines, spaces(t.width))
	}
	return t.lines
}

func (t *unitTable) headerLine(pal *palette) string {
	p := pal.colHead
	if t.focused {
		p = pal.colHeadFocused
	}
	var b strings.Builder
	b.WriteString(spaces(gutterW))
	used := gutterW
	arrow := "▲"
	if t.sortDesc {
		arrow = "▼"
	}
	for i, c := range t.cols {
		cell := fit(c.title, c.width, c.right)
		gap := spaces(colGap)
		switch {
		case c.id != t.sortBy:
		case !c.right:
			cell = fit(c.title+arrow, c.width, false)
		case width(c.title) < c.width:
			cell = fit(arrow+c.title, c.width, true)
		default:
			gap = spaces(colGap-1) + arrow // a full title's arrow goes in the gap
		}
		if i > 0 {
			p.write(&b, gap)
			used += colGap
		}
		p.write(&b, cell)
		used += c.width
	}
	b.WriteString(spaces(t.width - used))
	return b.String()
}

// renderRow writes one line of exactly t.width cells.
func (t *unitTable) renderRow(b *strings.Builder, pal *palette, v viewRow, variant int, now time.Time) {
	rp := &pal.rows[variant]
	r := v.u
	if variant == rowNormal {
		b.WriteByte(' ')
	} else {
		// A bar, not the ▸ that marks a folded tree in the name.
		rp.mark.write(b, cursorMark)
	}
	if r.marked && v.proc < 0 {
		rp.mark.write(b, "•")
	} else {
		rp.base.write(b, " ")
	}
	if v.proc >= 0 && v.proc < len(r.tree) {
		t.renderProcRow(b, rp, r, v.proc)
		return
	}
	used := gutterW
	for i, c := range t.cols {
		if i > 0 {
			rp.base.write(b, spaces(colGap))
			used += colGap
		}
		used += c.width
		t.writeCell(b, rp, r, c, now)
	}
	if pad := t.width - used; pad > 0 {
		rp.base.write(b, spaces(pad))
	}
}

// writeCell writes a unit's cell of column c, exactly c.width cells.
func (t *unitTable) writeCell(b *strings.Builder, rp *rowPaints, r *unitRow, c column, now time.Time) {
	in := &r.info
	live := in.State.Live() || r.virtual && r.gcan.kill
	switch c.id {
	case colName:
		rp.base.write(b, fit(unitNameCell(r), c.width, false))
	case colKind:
		rp.dim.write(b, fit(kindCell(r), c.width, false))
	case colState:
		glyph, words, tone := stateText(in, now)
		if r.virtual {
			words = r.gwords
		}
		rp.state[tone].write(b, fit(glyph+" "+words, c.width, false))
	case colPID:
		pidCell(b, rp, r, c.width)
	case colCPU:
		numCell(b, rp, live, func() string { return percent(in.CPU) }, c.width)
	case colSpark:
		if r.sparkStale || width(r.spark) != c.width {
			r.spark = sparkline(r.hist, c.width, sparkPer, t.ticks%sparkPer)
			r.sparkStale = false
		}
		rp.spark.write(b, r.spark)
	case colMem:
		memCell(b, rp, in, live, c.width)
	case colRestarts:
		if in.Restarts == 0 {
			rp.dim.write(b, fit("0", c.width, true))
		} else {
			rp.restarts.write(b, fit("↺ "+strconv.Itoa(in.Restarts), c.width, true))
		}
	case colUptime:
		numCell(b, rp, live && !in.StartedAt.IsZero(), func() string { return compactDuration(in.Uptime(now)) }, c.width)
	case colCommand:
		commandCell(b, rp, in, c.width, now)
	}
}

// commandCell writes the command, after the unit's note (what it waits
// for, its status, its next run) where it has one: the note is news, the
// command is not.
func commandCell(b *strings.Builder, rp *rowPaints, in *procs.Info, w int, now time.Time) {
	note := unitNote(in, now)
	if note == "" {
		rp.dim.write(b, fit(in.Command, w, false))
		return
	}
	note = truncate(note, w)
	rp.base.write(b, note)
	if rest := w - width(note); rest > 0 {
		rp.dim.write(b, fit("  "+in.Command, rest, false))
	}
}

// pidCell writes the PID; a worker has no process, so its OS thread stands
// in its place, dim.
func pidCell(b *strings.Builder, rp *rowPaints, r *unitRow, w int) {
	in := &r.info
	if in.Kind == procs.KindWorker && in.TID != 0 && !r.virtual {
		rp.dim.write(b, fit(strconv.Itoa(in.TID), w, true))
		return
	}
	numCell(b, rp, in.PID != 0, func() string { return strconv.Itoa(in.PID) }, w)
}

// memCell writes the memory. A worker's is kelpie's own, shared by every
// worker: not the worker's, and not to be summed, so it says "shared".
func memCell(b *strings.Builder, rp *rowPaints, in *procs.Info, live bool, w int) {
	if live && in.Kind == procs.KindWorker {
		rp.dim.write(b, fit("shared", w, true))
		return
	}
	numCell(b, rp, live && in.RSS != 0, func() string { return humanBytes(in.RSS) }, w)
}

// numCell writes a right-aligned figure, or a dim dash where there is none.
func numCell(b *strings.Builder, rp *rowPaints, ok bool, text func() string, w int) {
	if !ok {
		rp.dim.write(b, fit("—", w, true))
		return
	}
	rp.base.write(b, fit(text(), w, true))
}

// renderProcRow writes a process line of a unit's tree: its branch and
// command name, PID, CPU and memory; the unit's columns stay blank.
func (t *unitTable) renderProcRow(b *strings.Builder, rp *rowPaints, r *unitRow, i int) {
	p := &r.tree[i]
	used := gutterW
	for j, c := range t.cols {
		if j > 0 {
			rp.base.write(b, spaces(colGap))
			used += colGap
		}
		used += c.width
		switch c.id {
		case colName:
			prefix := ""
			if i < len(r.treePrefix) {
				prefix = r.treePrefix[i]
			}
			if pw := width(prefix); pw < c.width {
				rp.dim.write(b, prefix)
				rp.base.write(b, fit(safe(p.Name), c.width-pw, false))
			} else {
				rp.dim.write(b, fit(prefix, c.width, false))
			}
		case colPID:
			rp.base.write(b, fit(strconv.Itoa(p.PID), c.width, true))
		case colCPU:
			rp.base.write(b, fit(percent(p.CPU), c.width, true))
		case colMem:
			if p.RSS == 0 {
				rp.dim.write(b, fit("—", c.width, true))
			} else {
				rp.base.write(b, fit(humanBytes(p.RSS), c.width, true))
			}
		default:
			rp.base.write(b, spaces(c.width))
		}
	}
	if pad := t.width - used; pad > 0 {
		rp.base.write(b, spaces(pad))
	}
}

// unitNameCell is the name with its place in the tree and its fold marker.
func unitNameCell(r *unitRow) string {
	marker := ""
	if r.expandable() {
		if r.open() {
			marker = "▾ "
		} else {
			marker = "▸ "
		}
	}
	switch {
	case r.depth > 0 && r.last:
		return " └─" + marker + r.label
	case r.depth > 0:
		return " ├─" + marker + r.label
	}
	return marker + r.label
}

// kindCell is the KIND cell: the unit's kind, or "group" for a group row
// the table made.
func kindCell(r *unitRow) string {
	if r.virtual {
		return "group"
	}
	return string(r.info.Kind) // made safe in setInfo
}
