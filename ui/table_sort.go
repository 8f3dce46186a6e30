package ui

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/kelpie-dev/kelpie/procs"
)

// sortsDown says which columns sort biggest first by default.
func sortsDown(c colID) bool {
	return c == colCPU || c == colMem || c == colRestarts || c == colUptime
}

// comparer orders rows by the sort column, then by the engine's order.
func (t *unitTable) comparer() func(a, b *unitRow) int {
	col, desc := t.sortBy, t.sortDesc
	figures := col == colCPU || col == colMem || col == colUptime
	return func(a, b *unitRow) int {
		// Figures only mean something while a unit runs: the others go
		// last whichever the direction.
		if al, bl := a.info.State.Live(), b.info.State.Live(); figures && al != bl {
			if al {
				return -1
			}
			return 1
		}
		c := 0
		switch col {
		case colName:
			c = strings.Compare(a.info.Name, b.info.Name)
		case colKind:
			c = strings.Compare(kindCell(a), kindCell(b))
		case colState:
			c = cmp.Compare(stateRank(a.info.State), stateRank(b.info.State))
		case colPID:
			c = cmp.Compare(a.info.PID, b.info.PID)
		case colCPU:
			c = cmp.Compare(a.info.CPU, b.info.CPU)
		case colMem:
			c = cmp.Compare(a.info.RSS, b.info.RSS)
		case colRestarts:
			c = cmp.Compare(a.info.Restarts, b.info.Restarts)
		case colUptime:
			c = cmp.Compare(startedValue(a), startedValue(b))
		}
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.order, b.order)
		}
		return c
	}
}

// startedValue sorts by uptime without a clock: started earlier is up longer.
func startedValue(r *unitRow) float64 {
	if r.info.StartedAt.IsZero() {
		return math.Inf(-1)
	}
	return -float64(r.info.StartedAt.UnixNano())
}

// stateRank sorts the states needing attention first.
func stateRank(s procs.State) int {
	switch s {
	case procs.Crashed, procs.Stuck:
		return 0
	case procs.Backoff:
		return 1
	case procs.Paused:
		return 2
	case procs.Starting:
		return 2
	case procs.Stopping:
		return 3
	case procs.Running:
		return 4
	case procs.Exited:
		return 5
	}
	return 6
}

// cycleSort moves to the next sort column, in its natural direction.
func (t *unitTable) cycleSort() {
	i := slices.Index(sortCycle, t.sortBy)
	t.sortBy = sortCycle[(i+1)%len(sortCycle)]
	t.sortDesc = sortsDown(t.sortBy)
	t.arrange(t.selectedKey())
}

// reverseSort flips the direction (from the engine's order: to the name).
func (t *unitTable) reverseSort() {
	if t.sortBy == colNone {
		t.sortBy = colName
	}
	t.sortDesc = !t.sortDesc
	t.arrange(t.selectedKey())
}
