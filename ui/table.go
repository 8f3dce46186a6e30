package ui

import (
	"slices"
	"strings"

	"github.com/kelpie-dev/kelpie/procs"
)

// focusArea is the part of the screen that takes the moving keys.
type focusArea uint8

const (
	focusTable focusArea = iota
	focusOutput
)

// unitRow is one unit of the table. Units form a shallow tree: a group row
// (a cluster, a worker group) with its member units under it; and any unit
// whose process has children can unfold them as process rows.
type unitRow struct {
	info    procs.Info
	order   int        // position in the engine's display order (the "unsorted" order)
	depth   int        // 0 at the top level, 1 under a group row
	group   bool       // member units sit under this one
	members []*unitRow // the group's members, in the table's sort order
	folded  bool       // a group row whose members are hidden
	last    bool       // the last member shown under its group

	// A virtual row is a group row the table made for a group that is no
	// unit of its own (see groups.go); its info is summarized from its
	// members, never the engine's.
	virtual bool
	gstats  procs.GroupStats // the group's aggregate at the last tick
	gwords  string           // its STATE cell's words ("3/4 running")
	gcan    groupAbilities   // the actions that reach a member
	gstale  bool             // a member changed: summarizeOf summarizes it again

	// tree is the unit's processes at the last stats tick, its main process
	// first, then depth-first (the sampler's order). A unit with more than
	// one process can unfold them; they are folded by default so a
	// thousand units stay a thousand rows.
	tree       []procs.ProcSample
	treeOpen   bool
	treePrefix []string // the ├─ drawing of each process row, while open

	hist       *series // CPU and memory per stats tick
	spark      string  // the sparkline cell, drawn when first shown after a tick
	sparkStale bool

	marked   bool   // chosen for the split view
	haystack string // lower-cased name, state and command, for the filter
	label    string // the name as shown: info.Name made safe (the name stays the key)
}

// expandable reports whether the row has something to fold.
func (r *unitRow) expandable() bool { return r.group || len(r.tree) > 1 }

// open reports whether the row's members or processes are shown.
func (r *unitRow) open() bool {
	if r.group {
		return !r.folded
	}
	return r.treeOpen
}

// setInfo stores a new snapshot and what the filter searches.
func (r *unitRow) setInfo(in procs.Info) {
	// What comes from the config or the engine's words is outside text: a
	// name, a command or a reason can hold anything YAML allows. The shown
	// copies are made safe here, once per change, not per frame.
	in.Command, in.Reason, in.Dir = safe(in.Command), safe(in.Reason), safe(in.Dir)
	in.Status = safe(in.Status) // the unit's own sd_notify words
	in.Schedule, in.Listen = safe(in.Schedule), safe(in.Listen)
	in.Kind = procs.Kind(safe(string(in.Kind)))
	stateChanged := r.info.State != in.State || r.info.Name != in.Name || r.info.Command != in.Command
	if r.label == "" || r.info.Name != in.Name {
		r.label = safe(in.Name)
	}
	r.info = in
	if stateChanged || r.haystack == "" {
		r.haystack = strings.ToLower(safe(in.Name) + "\x00" + string(in.State) + "\x00" + in.Command)
	}
	if !in.State.Live() {
		r.tree, r.treePrefix = nil, nil
	}
}

// viewRow is one line of the table: a unit, or one process of a unit's tree.
type viewRow struct {
	u    *unitRow
	proc int // index in u.tree for a process row; -1 for the unit's own row
}

// rowKey names a table line across rebuilds: a unit, or a process of it.
type rowKey struct {
	name string
	pid  int // 0 for the unit's own row
}

func (v viewRow) key() rowKey {
	if v.proc < 0 || v.proc >= len(v.u.tree) {
		return rowKey{name: v.u.info.Name}
	}
	return rowKey{name: v.u.info.Name, pid: v.u.tree[v.proc].PID}
}

// colID names a table column.
type colID uint8

const (
	colName colID = iota
	colKind
	colState
	colPID
	colSpark
	colCPU
	colMem
	colRestarts
	colUptime
	colCommand
	colNone // sort only: the engine's order
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
	{id: colKind, title: "KIND", width: kindW},
	{id: colState, title: "STATE", width: 18},
	{id: colPID, title: "PID", width: 7, right: true},
	{id: colSpark, title: "CPU 60s", width: sparkW},
	{id: colCPU, title: "CPU%", width: 5, right: true},
	{id: colMem, title: "MEM", width: 6, right: true},
	{id: colRestarts, title: "RESTARTS", width: 8, right: true},
	{id: colUptime, title: "UPTIME", width: 6, right: true},
}

// columnDropOrder: the columns a narrow table gives up, first to last.
var columnDropOrder = []colID{colSpark, colKind, colPID, colRestarts, colUptime, colMem, colCPU}

// sortCycle is the order `o` walks the sort columns in: the useful ones first.
var sortCycle = []colID{colNone, colCPU, colMem, colName, colState, colRestarts, colUptime, colPID}

func (c colID) String() string {
	switch c {
	case colName:
		return "name"
	case colKind:
		return "kind"
	case colState:
		return "state"
	case colPID:
		return "pid"
	case colCPU:
		return "cpu"
	case colMem:
		return "memory"
	case colRestarts:
		return "restarts"
	case colUptime:
		return "uptime"
	}
	return "engine order"
}

// cursorMark is the selection cursor in the table's gutter and in menus.
const cursorMark = "▌"

const (
	gutterW    = 2 // the cursor marker and the split mark
	colGap     = 2
	minNameW   = 10
	maxNameW   = 32
	minCommand = 12
	sparkW     = 12
	kindW      = 7 // "process", "cluster"
)

// unitTable is the list of units: their tree, the visible lines (sorted,
// filtered, folded), the cursor, and the rendered lines of what is on screen.
type unitTable struct {
	order   []string // unit names in the engine's display order
	byName  map[string]*unitRow
	groups  map[string]*unitRow // virtual group rows, by group name
	tops    []*unitRow          // top-level rows, in sort order
	visible []viewRow           // lines not folded or filtered away
	cursor  int                 // index in visible
	offset  int                 // first visible line on screen

	sortBy   colID
	sortDesc bool
	filter   string // lower-cased; "" shows every unit
	ticks    int    // stats ticks seen: where the sparklines' buckets start

	width, height int // height counts the column header line
	focused       bool
	cols          []column // NAME first, then the fixed columns that fit, maybe COMMAND
	longest       int      // widest name cell wanted, tree prefix included

	empty string   // what an empty table says
	lines []string // exactly height lines, each exactly width cells

	// Its keys, enabled by updateKeys for the table's state.
	keys  TableKeys
	moves MoveKeys
}

func newUnitTable() unitTable {
	return unitTable{byName: make(map[string]*unitRow), groups: make(map[string]*unitRow), empty: "connecting…", sortBy: colNone}
}

// reset replaces every unit (a fresh snapshot).
func (t *unitTable) reset(infos []procs.Info) {
	keep := t.selectedKey()
	t.order = t.order[:0]
	old := t.byName
	t.byName = make(map[string]*unitRow, len(infos))
	for _, in := range infos {
		if _, dup := t.byName[in.Name]; dup {
			continue
		}
		t.order = append(t.order, in.Name)
		r := old[in.Name]
		if r == nil {
			r = &unitRow{hist: newSeries(shortHistory)}
		}
		r.setInfo(in)
		t.byName[in.Name] = r
	}
	t.rebuild(keep)
}

// upsert applies a unit's new snapshot; it reports whether the tree changed.
func (t *unitTable) upsert(in procs.Info) (structural bool) {
	if r, ok := t.byName[in.Name]; ok {
		structural = r.info.Group != in.Group
		r.setInfo(in)
		return structural
	}
	t.order = append(t.order, in.Name)
	r := &unitRow{hist: newSeries(shortHistory)}
	r.setInfo(in)
	t.byName[in.Name] = r
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

// rebuild works out the tree of units (members under their group row) and
// then the visible lines, keeping the cursor on keep when it is still there.
func (t *unitTable) rebuild(keep rowKey) {
	t.tops = t.tops[:0]
	for i, name := range t.order {
		r := t.byName[name]
		r.order, r.depth, r.group, r.members = i, 0, false, r.members[:0]
	}
	for _, gr := range t.groups {
		gr.members = gr.members[:0]
	}
	for _, name := range t.order {
		r := t.byName[name]
		if g := r.info.Group; g != "" && g != name {
			gr := t.groupRow(g)
			if gr.virtual && len(gr.members) == 0 {
				gr.order, gr.group = r.order, true // where its first member was
				t.tops = append(t.tops, gr)
			}
			r.depth = 1
			gr.group = true
			gr.members = append(gr.members, r)
			continue
		}
		t.tops = append(t.tops, r)
	}
	t.dropEmptyGroups()
	for _, gr := range t.groups {
		gr.summarize()
	}
	t.arrange(keep)
}

// arrange sorts, filters and unfolds the rows into the visible lines. It
// runs on every stats tick (the sort values and process trees change), so
// it does no more than walk the rows once. The group rows were summarized
// where their members changed (rebuild, summarizeOf, applyStats): a fold,
// a filter or a sort changes no member.
func (t *unitTable) arrange(keep rowKey) {
	before := t.cursor
	less := t.comparer()
	slices.SortStableFunc(t.tops, less)
	t.visible = t.visible[:0]
	t.longest = 0
	for _, r := range t.tops {
		show := t.matches(r)
		shown := 0
		if r.group {
			slices.SortStableFunc(r.members, less)
			for _, m := range r.members {
				if show || t.matches(m) {
					shown++
				}
			}
		}
		if !show && shown == 0 {
			continue
		}
		t.addUnit(r)
		if !r.group || r.folded {
			continue
		}
		n := 0
		for _, m := range r.members {
			if show || t.matches(m) {
				n++
				m.last = n == shown
				t.addUnit(m)
			}
		}
	}
	t.cursor = min(before, max(len(t.visible)-1, 0))
	if keep.name != "" {
		unitAt := -1
		for i, v := range t.visible {
			if v.u.info.Name != keep.name {
				continue
			}
			if v.proc < 0 {
				unitAt = i
			}
			if v.key() == keep {
				unitAt = i
				break
			}
		}
		if unitAt >= 0 {
			t.cursor = unitAt
		}
	}
	t.layout()
	t.clampOffset()
}

// addUnit appends a unit's line and, when unfolded, its process lines.
func (t *unitTable) addUnit(r *unitRow) {
	t.visible = append(t.visible, viewRow{u: r, proc: -1})
	t.longest = max(t.longest, width(unitNameCell(r)))
	if r.group || !r.treeOpen || len(r.tree) < 2 {
		r.treePrefix = r.treePrefix[:0]
		return
	}
	r.treePrefix = treePrefixes(r.treePrefix[:0], r)
	for i := 1; i < len(r.tree); i++ {
		t.visible = append(t.visible, viewRow{u: r, proc: i})
		t.longest = max(t.longest, width(r.treePrefix[i])+width(safe(r.tree[i].Name)))
	}
}

// matches reports whether a unit passes the filter.
func (t *unitTable) matches(r *unitRow) bool {
	return t.filter == "" || strings.Contains(r.haystack, t.filter)
}

// summarizeOf summarizes again the virtual group rows of the units in
// states, whose members' info changed: each once, however many of its
// members a batch brings.
func (t *unitTable) summarizeOf(states []procs.Info) {
	n := 0
	for i := range states {
		if gr := t.groups[states[i].Group]; gr != nil && !gr.gstale {
			gr.gstale = true
			n++
		}
	}
	for _, gr := range t.groups {
		if n == 0 {
			return
		}
		if gr.gstale {
			gr.gstale = false
			gr.summarize()
			n--
		}
	}
}

// setFilter shows only the units whose name, state or command contain q.
func (t *unitTable) setFilter(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == t.filter {
		return
	}
	t.filter = q
	t.arrange(t.selectedKey())
}

// shownUnits counts the unit lines passing the filter.
func (t *unitTable) shownUnits() int {
	n := 0
	for _, v := range t.visible {
		if v.proc < 0 && !v.u.virtual { // a group row the table made is no unit
			n++
		}
	}
	return n
}

// setFold opens (true), closes (false) the selected row's members or
// processes; on a process or member line, closing closes its parent and
// moves the cursor there, the way a file tree does.
func (t *unitTable) setFold(open bool) bool {
	v, ok := t.selectedRow()
	if !ok {
		return false
	}
	r := v.u
	if v.proc >= 0 {
		if open {
			return false
		}
		r.treeOpen = false
		t.arrange(rowKey{name: r.info.Name})
		return true
	}
	if !r.expandable() {
		if !open && r.depth > 0 {
			// The group's row: a unit of that name, or (most often) the
			// table's virtual row, which byName does not hold.
			if g := t.groupRow(r.info.Group); g.group {
				g.folded = true
				t.arrange(rowKey{name: g.info.Name})
				return true
			}
		}
		return false
	}
	if r.open() == open {
		return false
	}
	if r.group {
		r.folded = !open
	} else {
		r.treeOpen = open
	}
	t.arrange(rowKey{name: r.info.Name})
	return true
}

// toggleFold flips the selected row's fold.
func (t *unitTable) toggleFold() bool {
	v, ok := t.selectedRow()
	if !ok {
		return false
	}
	if v.proc >= 0 {
		return t.setFold(false)
	}
	return t.setFold(!v.u.open())
}

// applyStats stores a tick's figures: the numbers, the process tree, and
// one history sample for every unit (a gap for those without a process).
func (t *unitTable) applyStats(st *procs.Stats) {
	t.ticks++
	for _, r := range t.byName {
		us, ok := st.Units[r.info.Name]
		if ok && r.info.State.Live() {
			r.info.CPU, r.info.RSS, r.info.Procs = us.CPU, us.RSS, us.Procs
			r.tree = us.Tree
			r.hist.push(sample{cpu: float32(us.CPU), rss: us.RSS})
		} else {
			r.tree = nil
			r.hist.push(noSample)
		}
		r.sparkStale = true
	}
	for g, r := range t.groups {
		r.gstats = st.Groups[g]
		r.summarize() // the members' figures and the group's sums moved
		r.sparkStale = true
		if r.gstats.Live > 0 {
			r.hist.push(sample{cpu: float32(r.gstats.CPU)})
		} else {
			r.hist.push(noSample)
		}
	}
	t.arrange(t.selectedKey())
}

// selected is the unit of the cursor's line, or nil when there are none.
func (t *unitTable) selected() *unitRow {
	if v, ok := t.selectedRow(); ok {
		return v.u
	}
	return nil
}

// selectedRow is the cursor's line.
func (t *unitTable) selectedRow() (viewRow, bool) {
	if t.cursor < 0 || t.cursor >= len(t.visible) {
		return viewRow{}, false
	}
	return t.visible[t.cursor], true
}

func (t *unitTable) selectedName() string {
	if r := t.selected(); r != nil {
		return r.info.Name
	}
	return ""
}

func (t *unitTable) selectedKey() rowKey {
	if v, ok := t.selectedRow(); ok {
		return v.key()
	}
	return rowKey{}
}

// nMarked counts the marked units (what marked returns, without a slice:
// the key map asks on every key and frame).
func (t *unitTable) nMarked() int {
	n := 0
	for _, r := range t.byName {
		if r.marked {
			n++
		}
	}
	return n
}

// marked lists the marked units in table order.
func (t *unitTable) marked() []string {
	var out []string
	for _, v := range t.visible {
		if v.proc < 0 && v.u.marked {
			out = append(out, v.u.info.Name)
		}
	}
	for _, name := range t.order { // marked but filtered or folded away
		if r := t.byName[name]; r.marked && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

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

// SetSize gives the table w columns and h lines (its column header included).
func (t *unitTable) SetSize(w, h int) {
	t.width, t.height = w, h
	t.layout()
	t.clampOffset()
}
