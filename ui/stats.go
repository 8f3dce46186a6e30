package ui

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/linechart"
	tslc "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// detailsMsg carries a unit's process details.
type detailsMsg struct {
	name string
	d    procs.Details
	err  error
}

// statsPane is the Stats view: CPU and memory charts over the samples kept
// for the unit, and its process details (fetched in a command when the
// view opens, and again on each stats tick while it stays open).
type statsPane struct {
	name     string // the unit the details belong to
	details  *procs.Details
	threads  []string // details' thread rows, built once per fetch (threadRows)
	err      error
	fetching bool
	offset   int // first body row shown (j/k scroll)

	// The charts are drawn by ntcharts once per tick and size, not per frame.
	chartKey   chartKey
	chartLines []string

	rows []string // the body as rendered

	moves  MoveKeys // its keys, enabled by updateKeys
	height int      // body rows, from SetSize
}

type chartKey struct {
	name          string
	ticks         uint64
	width, height int
}

// fetchDetails asks for the unit's details unless a request is in flight.
func (s *statsPane) fetchDetails(be Backend, name string) tea.Cmd {
	if s.name != name {
		s.name, s.details, s.threads, s.err, s.offset, s.fetching = name, nil, nil, nil, 0, false
	}
	if s.fetching {
		return nil
	}
	s.fetching = true
	return func() tea.Msg {
		d, err := be.Details(name)
		return detailsMsg{name: name, d: d, err: err}
	}
}

func (s *statsPane) apply(msg detailsMsg) {
	if msg.name != s.name {
		return
	}
	s.fetching = false
	s.err = msg.err
	if msg.err == nil {
		d := msg.d
		// Busiest thread first, sorted here once per fetch, not per frame.
		d.ThreadList = slices.Clone(d.ThreadList)
		slices.SortStableFunc(d.ThreadList, func(a, b procs.ThreadInfo) int {
			if c := cmp.Compare(b.CPU, a.CPU); c != 0 {
				return c
			}
			return cmp.Compare(a.TID, b.TID)
		})
		s.details = &d
		s.threads = threadRows(s.threads[:0], d.ThreadList)
	}
}

// chartSet is what the charts are drawn from.
type chartSet struct {
	hist  *series
	ticks *tickRing
	now   time.Time
}

// points returns the samples the history holds with their tick times,
// oldest first; missing samples (no process) are left out.
func (c chartSet) points() (cpu, mem []tslc.TimePoint, peakCPU float64, peakMem uint64) {
	n := min(c.hist.n, c.ticks.n)
	for i := n - 1; i >= 0; i-- {
		s := c.hist.fromEnd(i)
		if s.missing() {
			continue
		}
		at := c.ticks.fromEnd(i)
		cpu = append(cpu, tslc.TimePoint{Time: at, Value: float64(s.cpu)})
		mem = append(mem, tslc.TimePoint{Time: at, Value: float64(s.rss)})
		peakCPU = max(peakCPU, float64(s.cpu))
		peakMem = max(peakMem, s.rss)
	}
	return cpu, mem, peakCPU, peakMem
}

// View lays the view out in w x h: the two charts (side by side when
// there is room), then the details.
func (s *statsPane) View(pal *palette, st *Styles, r *unitRow, c chartSet, ticks uint64, w, h int) []string {
	s.rows = s.rows[:0]
	if h <= 0 {
		return s.rows
	}
	details := s.detailLines(pal, &r.info, c.now, w)
	chartH := max(4, min(16, h-min(len(details), h/2)-2))
	key := chartKey{name: r.info.Name, ticks: ticks, width: w, height: chartH}
	if key != s.chartKey || s.chartLines == nil {
		s.chartKey = key
		s.chartLines = drawCharts(s.chartLines[:0], pal, st, c, r.info.Kind == procs.KindWorker, w, chartH)
	}
	all := make([]string, 0, len(s.chartLines)+len(details)+1)
	all = append(all, s.chartLines...)
	all = append(all, "")
	all = append(all, details...)
	s.offset = max(0, min(s.offset, len(all)-h))
	for i := s.offset; i < len(all) && len(s.rows) < h; i++ {
		s.rows = append(s.rows, all[i])
	}
	for len(s.rows) < h {
		s.rows = append(s.rows, "")
	}
	return s.rows
}

func (s *statsPane) scroll(delta int) { s.offset = max(0, s.offset+delta) }

// drawCharts draws CPU and memory, each under a title line: side by side
// from 64 columns, else one above the other (each half as tall). A worker
// (shared) has no memory of its own, only kelpie's: its CPU chart takes
// the whole width, and the title says where its memory is.
func drawCharts(dst []string, pal *palette, st *Styles, c chartSet, shared bool, w, h int) []string {
	cpu, mem, peakCPU, peakMem := c.points()
	cpuTitle := "CPU %"
	memTitle := "memory"
	if shared {
		if len(cpu) > 0 {
			cpuTitle += "  now " + percent(cpu[len(cpu)-1].Value) + "%  peak " + percent(peakCPU) + "%"
		}
		cpuTitle += "  · memory: kelpie's own, shared (a worker has none of its own)"
		if len(cpu) < 2 {
			return append(dst, pal.title.on(truncate(cpuTitle, w)), pal.dim.on(truncate("collecting samples… (one a tick)", w)))
		}
		pctLabel := func(_ int, v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "%" }
		dst = append(dst, pal.title.on(truncate(cpuTitle, w)))
		return append(dst, chart(st, c.now, cpu, w, h, niceCeil(max(peakCPU*1.15, 5)), pctLabel, false)...)
	}
	if len(cpu) > 0 {
		last := cpu[len(cpu)-1].Value
		cpuTitle += "  now " + percent(last) + "%  peak " + percent(peakCPU) + "%"
		memTitle += "  now " + humanBytes(uint64(mem[len(mem)-1].Value)) + "  peak " + humanBytes(peakMem)
	}
	if len(cpu) < 2 {
		msg := "collecting samples… (one a tick)"
		return append(dst, pal.title.on(truncate(cpuTitle+" · "+memTitle, w)), pal.dim.on(truncate(msg, w)))
	}
	cpuTop := niceCeil(max(peakCPU*1.15, 5))
	memTop := niceCeil(max(float64(peakMem)*1.15, 1<<20))
	pctLabel := func(_ int, v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "%" }
	memLabel := func(_ int, v float64) string { return humanBytes(uint64(v)) }
	if w >= 64 {
		cw := (w - 3) / 2
		left := chart(st, c.now, cpu, cw, h, cpuTop, pctLabel, false)
		right := chart(st, c.now, mem, w-3-cw, h, memTop, memLabel, true)
		dst = append(dst, pal.title.on(fit(cpuTitle, cw, false))+"   "+pal.title.on(truncate(memTitle, w-3-cw)))
		for i := range h {
			dst = append(dst, fit(at(left, i), cw, false)+"   "+at(right, i))
		}
		return dst
	}
	ch := max(3, h/2)
	dst = append(dst, pal.title.on(truncate(cpuTitle, w)))
	dst = append(dst, chart(st, c.now, cpu, w, ch, cpuTop, pctLabel, false)...)
	dst = append(dst, pal.title.on(truncate(memTitle, w)))
	return append(dst, chart(st, c.now, mem, w, ch, memTop, memLabel, true)...)
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// chart draws one time series with ntcharts: braille line, Y labels from
// label, X labels as the time before now.
func chart(st *Styles, now time.Time, pts []tslc.TimePoint, w, h int, top float64, label linechart.LabelFormatter, memory bool) []string {
	style := st.ChartCPU
	if memory {
		style = st.ChartMem
	}
	ago := func(_ int, v float64) string {
		d := now.Sub(time.Unix(int64(math.Round(v)), 0))
		if d < time.Second {
			return "now"
		}
		return "-" + compactDuration(d)
	}
	c := tslc.New(w, h,
		tslc.WithTimeRange(pts[0].Time, pts[len(pts)-1].Time),
		tslc.WithYRange(0, top),
		tslc.WithXLabelFormatter(ago),
		tslc.WithYLabelFormatter(label),
		tslc.WithXYSteps(max(w/4, 8), max(h/3, 1)),
		tslc.WithAxesStyles(st.ChartAxis, st.Label),
		tslc.WithStyle(style),
	)
	for _, p := range pts {
		c.Push(p)
	}
	c.DrawBraille()
	out := strings.Split(c.View(), "\n")
	for i := range out {
		out[i] = truncate(out[i], w)
	}
	return out
}

// niceCeil rounds v up to a round figure (1, 1.5, 2, 3, 4, 5, 6 or 8 times
// a power of ten; for bytes, of that many KiB, MiB, ...), so the axis
// labels read well and the line does not touch the top.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	unit := 1.0
	if v >= 1024 {
		unit = math.Pow(1024, math.Floor(math.Log(v)/math.Log(1024)))
	}
	m := v / unit
	d := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 1.5, 2, 3, 4, 5, 6, 8, 10} {
		if f*d >= m*(1-1e-9) {
			if d < 1 { // 0.1 has no exact float: divide to get 0.3, not 0.30000000000000004
				return f / math.Round(1/d) * unit
			}
			return f * d * unit
		}
	}
	return v
}

// detailLines are the unit's details as label/value lines.
func (s *statsPane) detailLines(pal *palette, in *procs.Info, now time.Time, w int) []string {
	var out []string
	put := func(label, value string) {
		out = append(out, pal.label.on(fit(label, 11, false))+truncate(value, max(w-11, 1)))
	}
	d := s.details
	switch {
	case s.err != nil:
		out = append(out, pal.err.on(truncate("details: "+safe(s.err.Error()), w)))
	case d == nil:
		out = append(out, pal.dim.on(truncate("reading process details…", w)))
	}
	put("process", processFacts(in, d))
	if in.State == procs.Stuck {
		// Said where the details are read too: nothing can end it.
		put("state", "stuck: "+shownReason(in))
	}
	start := in.StartedAt
	if d != nil && !d.StartTime.IsZero() {
		start = d.StartTime
	}
	if !start.IsZero() {
		when := start.Format("2006-01-02 15:04:05")
		if in.State.Live() {
			when += " (up " + compactDuration(now.Sub(start)) + ")"
		}
		put("started", when)
	}
	command := in.Command
	if d != nil && len(d.Argv) > 0 {
		command = strings.Join(d.Argv, " ")
	}
	// argv and cwd come from /proc: a process writes them as it likes.
	put("command", safe(command))
	cwd := in.Dir
	if d != nil && d.Cwd != "" {
		cwd = d.Cwd
	}
	if cwd != "" {
		put("cwd", safe(cwd))
	}
	if in.Channel != "" {
		put("channel", safe(in.Channel))
	}
	stackLines(in, now, put)
	if len(in.Counters) > 0 { // its group's shared counters (a lone worker's own)
		put("counters", counterText(in.Counters, false))
	}
	if in.Kind == procs.KindWorker {
		put("memory", "kelpie's own, shared by every worker: no worker has memory of its own")
	}
	if d != nil {
		exitLines(d.Exits, put)
		for i, row := range s.threads {
			label := ""
			if i == 0 {
				label = "threads" // one label over the list
			}
			put(label, row)
		}
	}
	return out
}

// stackLines are the details of a unit in a stack: what it waits for,
// whether it is ready, its own status, its schedule and next run.
func stackLines(in *procs.Info, now time.Time, put func(label, value string)) {
	if in.State == procs.Waiting && in.Reason != "" {
		put("waiting", in.Reason) // safe where the row stores it
	}
	if in.Ready && in.State.Live() {
		// Only said when so: Info cannot tell a unit with no readiness
		// signal from one whose probe has not passed yet.
		put("ready", "yes, since its readiness signal (probe, message or listen)")
	}
	if in.Status != "" {
		put("status", in.Status) // made safe in setInfo
	}
	if in.NotifyIgnored > 0 {
		put("notify", strconv.Itoa(in.NotifyIgnored)+" datagrams ignored (malformed, oversized or not the unit's)")
	}
	if in.Schedule != "" {
		sched := in.Schedule // made safe in setInfo
		if !in.NextRun.IsZero() {
			sched += ", next " + nextRunText(in.NextRun, now)
		}
		put("schedule", sched)
	}
}

// maxThreadLines caps the threads listed (a JVM has hundreds): the busiest
// come first, so the cut ones are the idle.
const maxThreadLines = 100

// threadRows appends to rows the unit's OS threads as the statsPane
// sorted them (the busiest first), a heading first: tid, state, CPU % and
// name (a thread names itself: outside text). apply builds them once per
// fetch; the view puts them under one "threads" label.
func threadRows(rows []string, sorted []procs.ThreadInfo) []string {
	if len(sorted) == 0 {
		return rows
	}
	rows = append(rows, fit("TID", 8, true)+"  S  "+fit("CPU%", 6, true)+"  NAME")
	for i, th := range sorted {
		if i == maxThreadLines {
			rows = append(rows, "… "+plural(len(sorted)-i, "more thread"))
			break
		}
		rows = append(rows, fit(strconv.Itoa(th.TID), 8, true)+"  "+fit(safe(th.State), 1, false)+"  "+fit(percent(th.CPU), 6, true)+"  "+safe(th.Name))
	}
	return rows
}

// processFacts is the "process" line: pid, parent, threads, files, tree
// size and restarts.
func processFacts(in *procs.Info, d *procs.Details) string {
	pid := "pid —"
	switch {
	case in.PID != 0:
		pid = "pid " + strconv.Itoa(in.PID)
	case in.Kind == procs.KindWorker && in.TID != 0:
		pid = "goroutine on thread " + strconv.Itoa(in.TID) + " of kelpie's process"
	case in.Kind == procs.KindWorker:
		pid = "goroutine in kelpie's process"
	}
	facts := []string{pid}
	if d != nil && in.PID != 0 {
		if d.PPID != 0 {
			facts = append(facts, "ppid "+strconv.Itoa(d.PPID))
		}
		facts = append(facts, "threads "+strconv.Itoa(d.Threads), "open files "+strconv.Itoa(d.OpenFiles))
	}
	if in.Procs > 1 {
		facts = append(facts, strconv.Itoa(in.Procs)+" processes")
	}
	facts = append(facts, "restarts "+strconv.Itoa(in.Restarts))
	return strings.Join(facts, " · ")
}

// exitLines puts the recent exits, newest first, under one "exits" label.
func exitLines(exits []procs.ExitRecord, put func(label, value string)) {
	label := "exits"
	for i := len(exits) - 1; i >= 0; i-- {
		e := exits[i]
		how := "exit ?"
		switch {
		case e.Signal != "":
			how = safe(e.Signal)
		case e.ExitCode != nil:
			how = "exit " + strconv.Itoa(*e.ExitCode)
		}
		put(label, e.ExitedAt.Format("15:04:05")+"  "+fit(how, 8, false)+"  after "+shortDuration(e.ExitedAt.Sub(e.StartedAt)))
		label = ""
	}
}

// SetSize gives the pane its body rows (the width is the render's).
func (s *statsPane) SetSize(w, h int) { s.height = max(h, 1) }

// bindings are the pane's keys, for routing.
func (s *statsPane) bindings() []*key.Binding { return s.moves.list() }

// Update applies a key meant for the Stats view: it scrolls.
func (s *statsPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok || !s.moves.matches(km) {
		return nil
	}
	delta, top, bottom := s.moves.distance(km, s.height)
	switch {
	case top:
		s.offset = 0
	case bottom:
		s.offset = 1 << 30
	default:
		s.scroll(delta)
	}
	return nil
}

// updateKeys enables the moving keys when the view has the keyboard.
func (s *statsPane) updateKeys(focused bool) {
	s.moves.enable(focused)
	s.moves.Up.SetHelp("↑/k", "up")
	s.moves.Down.SetHelp("↓/j", "down")
	s.moves.Top.SetHelp("g/home", "top")
	s.moves.Bottom.SetHelp("G/end", "bottom")
}
