package ui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// Groups. The engine names a group's members GROUP/INDEX and says the
// group in Info.Group, but a group is not a unit of its own: the table
// makes its row (a virtual row) from its members, and the stats tick's
// Stats.Groups gives it the group's aggregate and shared counters. The
// same row serves any kind of member: worker goroutines today, cluster
// workers (processes) next. Where the engine does have a unit named like
// the group (a cluster's own row), that unit is the group row instead.

// groupAbilities says which actions reach at least one member of a
// virtual group row, for the key map.
type groupAbilities struct {
	start, stop, kill, signal, send bool
}

// groupRow returns the row members of group g sit under: a unit named g,
// or the table's virtual row for g (made on first use).
func (t *unitTable) groupRow(g string) *unitRow {
	if r, ok := t.byName[g]; ok {
		return r
	}
	r := t.groups[g]
	if r == nil {
		// A group folds by default: a thousand workers stay one row
		// until asked.
		r = &unitRow{virtual: true, folded: true, hist: newSeries(shortHistory), label: safe(g)}
		r.info.Name = g
		t.groups[g] = r
	}
	return r
}

// dropEmptyGroups forgets virtual rows whose members are all gone.
func (t *unitTable) dropEmptyGroups() {
	for g, r := range t.groups {
		if len(r.members) == 0 {
			delete(t.groups, g)
		}
	}
}

// summarize makes a virtual group row's snapshot from its members and the
// group's aggregate at the last tick: the most pressing state, the live
// figures, the restarts and the shared counters.
func (r *unitRow) summarize() {
	in := procs.Info{Name: r.info.Name, Counters: r.gstats.Counters}
	if len(r.members) > 0 {
		in.Kind = r.members[0].info.Kind
	}
	var counts stateCounts
	live, ready := 0, 0
	var can groupAbilities
	for _, m := range r.members {
		mi := &m.info
		counts.add(mi.State)
		in.Restarts += mi.Restarts
		if in.Counters == nil && len(mi.Counters) > 0 {
			in.Counters = mi.Counters
		}
		switch {
		case mi.State == procs.Backoff || mi.State == procs.Waiting:
			can.start, can.stop = true, true
			continue
		case !mi.State.Live():
			can.start = true
			continue
		}
		live++
		if mi.Ready && mi.State == procs.Running {
			ready++
		}
		addLive(&in, &can, mi)
	}
	if r.gstats.Members > 0 && live > 0 {
		in.CPU = r.gstats.CPU // the tick's own sum, taken at one instant
	}
	in.State = counts.state()
	in.Command = groupCommand(in.Kind, len(r.members), in.Counters)
	r.gwords = counts.words(live, len(r.members))
	if ready > 0 && in.State == procs.Running {
		r.gwords = readyWords(ready, counts[procs.Running], len(r.members))
	}
	r.gcan = can
	r.info = in
	r.haystack = strings.ToLower(r.label + "\x00" + string(in.State) + "\x00" + in.Command)
}

// addLive adds a live member to its group's sums and what the group's
// actions can do.
func addLive(in *procs.Info, can *groupAbilities, mi *procs.Info) {
	in.CPU += mi.CPU
	if mi.Kind != procs.KindWorker {
		in.RSS += mi.RSS // a worker's memory is kelpie's, shared: not summed
	}
	if in.StartedAt.IsZero() || mi.StartedAt.Before(in.StartedAt) {
		in.StartedAt = mi.StartedAt
	}
	can.stop = can.stop || mi.State != procs.Stopping && mi.State != procs.Stuck
	can.kill = true
	can.signal = can.signal || mi.PID != 0
	can.send = can.send || mi.Channel == procs.ChannelConnected
}

// stateCounts counts a group's members per state.
type stateCounts map[procs.State]int

func (c *stateCounts) add(s procs.State) {
	if *c == nil {
		*c = make(stateCounts, 4)
	}
	(*c)[s]++
}

// pressing are the states a group row names first, most pressing first:
// what needs the user's eye beats what is fine.
var pressing = [...]procs.State{procs.Stuck, procs.Crashed, procs.Backoff, procs.Paused, procs.Stopping, procs.Waiting, procs.Starting}

// state is the group's state as one: the most pressing state of a member,
// else running if any runs, else exited if all exited, else stopped.
func (c stateCounts) state() procs.State {
	for _, s := range pressing {
		if c[s] > 0 {
			return s
		}
	}
	switch {
	case c[procs.Running] > 0:
		return procs.Running
	case c[procs.Exited] > 0 && c[procs.Stopped] == 0:
		return procs.Exited
	}
	return procs.Stopped
}

// words says the group's state for its STATE cell: how many members are
// in the pressing state, and how many of all run ("1 stuck · 3/4 up",
// "4/4 running", "stopped").
func (c stateCounts) words(live, n int) string {
	s := c.state()
	switch {
	case s == procs.Running:
		return strconv.Itoa(c[procs.Running]) + "/" + strconv.Itoa(n) + " running"
	case len(c) == 1: // every member stopped, or exited
		return string(s)
	}
	return strconv.Itoa(c[s]) + " " + string(s) + " · " + strconv.Itoa(live) + "/" + strconv.Itoa(n) + " up"
}

// readyWords are a running group's state words when members signal
// readiness (a cluster's listen, probes, {"ready":true}), short enough for
// the STATE cell: "2/2 up ✓ ready" when every running member is ready,
// else how many are ("2/2 up · 1 ready").
func readyWords(ready, running, n int) string {
	up := strconv.Itoa(running) + "/" + strconv.Itoa(n) + " up"
	if ready == running {
		return up + " ✓ ready"
	}
	return up + " · " + strconv.Itoa(ready) + " ready"
}

// groupCommand is a group row's COMMAND cell: the live values of its
// shared counters first, sorted by name and short (the cell is narrow and
// they are what moves), then its members ("checked=45.7k found=123 · 4
// workers").
func groupCommand(kind procs.Kind, n int, counters map[string]int64) string {
	what := "member"
	switch kind {
	case procs.KindWorker:
		what = "worker"
	case procs.KindProcess, procs.KindFork:
		what = "process"
	}
	if len(counters) == 0 {
		return plural(n, what)
	}
	return counterText(counters, true) + " · " + plural(n, what)
}

// counterText is "name=value" for each counter, sorted by name, the values
// in full or short (12.3k, 4.57M); the names are outside text (a worker may
// add to any counter it names).
func counterText(counters map[string]int64, short bool) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(counters)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := strconv.FormatInt(counters[k], 10)
		if short {
			v = shortCount(counters[k])
		}
		b.WriteString(safe(k) + "=" + v)
	}
	return b.String()
}

// shortCount writes a count in at most five characters or so: 999,
// 12.3k, 4.57M, 1.20G.
func shortCount(n int64) string {
	a := n
	if a < 0 {
		a = -a
	}
	if a < 10000 {
		return strconv.FormatInt(n, 10)
	}
	v, unit := float64(n), ""
	for _, u := range []string{"k", "M", "G", "T", "P"} {
		v, unit = v/1000, u
		if v < 1000 && v > -1000 {
			break
		}
	}
	prec := 2
	if v >= 100 || v <= -100 {
		prec = 0
	} else if v >= 10 || v <= -10 {
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + unit
}

// renderGroup is the pane of a group row: the group summed up (its state,
// shared counters, aggregate CPU and restarts) and a line per member. Its
// members' own views are a row away (enter or → shows them).
func (m *Model) renderGroup(r *unitRow, rule paint, w, h int, now time.Time) []string {
	p := m.pal
	in := &r.info
	glyph, _, tone := stateText(in, now)
	title := ruleLine(rule, w, []segment{
		{r.label, p.title},
		{"  " + glyph + " " + r.gwords, p.rows[rowNormal].state[tone]},
		{"  group of " + groupCommand(in.Kind, len(r.members), nil), p.dim},
	}, []segment{{"──", rule}})
	lines := []string{title}
	put := func(label, value string) {
		if len(lines) < h {
			lines = append(lines, p.label.on(fit("  "+label, 12, false))+truncate(value, max(w-12, 1)))
		}
	}
	if len(in.Counters) > 0 {
		put("counters", counterText(in.Counters, false))
	}
	put("cpu", percent(in.CPU)+"% (its members' sum)")
	switch {
	case in.Kind == procs.KindWorker:
		put("memory", "kelpie's own, shared by its workers (goroutines): "+humanBytes(m.self.RSS))
	case in.RSS > 0:
		put("memory", humanBytes(in.RSS)+" (its members' sum)")
	}
	put("restarts", strconv.Itoa(in.Restarts))
	if addr, served := clusterOf(r.members); addr != "" {
		// A cluster: one listening socket its members share (curl it).
		text := addr    // made safe in setInfo
		if served > 0 { // fds mode: the kernel hands them out, uncounted
			text += " · " + strconv.FormatUint(served, 10) + " connections handed out"
		}
		put("listen", text)
	}
	put("members", "")
	for i, mr := range r.members {
		if len(lines) >= h-2 && i < len(r.members)-1 { // the pane is full: draw no more
			put("", "… "+plural(len(r.members)-i, "more member")+" (unfold the group to see them)")
			break
		}
		put("", memberLine(mr, now))
	}
	if c := &m.composer; c.open && c.target == in.Name && h >= 4 {
		// The message goes to every member with a channel.
		lines = append(lines[:min(len(lines), h-2)], m.composerLines(w, "each member of "+r.label)...)
	} else if len(lines) < h {
		lines = append(lines, p.dim.on(truncate("  enter folds or unfolds its members · s, x, r, K, !, m act on each of them", w)))
	}
	return lines
}

// clusterOf returns the address a cluster's members listen on (empty for
// any other group) and the connections kelpie handed their current runs.
func clusterOf(members []*unitRow) (addr string, served uint64) {
	for _, mr := range members {
		if mr.info.Listen != "" {
			addr = mr.info.Listen
		}
		served += mr.info.Served
	}
	return addr, served
}

// memberLine is one member in its group's pane: name, state, CPU, and its
// process or (a worker) its thread.
func memberLine(mr *unitRow, now time.Time) string {
	in := &mr.info
	glyph, words, _ := stateText(in, now)
	s := fit(mr.label, 14, false) + " " + fit(glyph+" "+words, 18, false)
	if in.State.Live() {
		s += " cpu " + fit(percent(in.CPU)+"%", 6, true)
	}
	switch {
	case in.PID != 0:
		s += "  pid " + strconv.Itoa(in.PID)
	case in.TID != 0:
		s += "  thread " + strconv.Itoa(in.TID)
	}
	if in.Restarts > 0 {
		s += "  ↺ " + strconv.Itoa(in.Restarts)
	}
	if in.Listen != "" && in.State.Live() {
		if !in.Ready { // a ready one says so in its state words
			s += "  not ready"
		}
		if in.Served > 0 {
			s += "  served " + strconv.FormatUint(in.Served, 10)
		}
	}
	return s
}
