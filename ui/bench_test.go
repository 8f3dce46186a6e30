package ui

import (
	"fmt"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// bigScreen is 1,000 units at 200x60 with the selected unit's pane full of
// varied output (plain, coloured, stderr, events, long wrapping lines).
func bigScreen(b *testing.B) (*harness, *procs.Stats) {
	infos := make([]procs.Info, 0, 1000)
	for i := range 1000 {
		in := running(fmt.Sprintf("svc-%04d", i), 10000+i, float64(i%7)*1.5, uint64(i+1)<<20, time.Duration(i)*time.Minute)
		switch i % 10 {
		case 3:
			in.State, in.PID, in.NextStart = procs.Backoff, 0, epoch.Add(3*time.Second)
		case 7:
			in.State, in.PID, in.ExitCode = procs.Crashed, 0, intp(1)
		}
		if i%50 != 0 && i%50 < 5 {
			in.Group = fmt.Sprintf("svc-%04d", i-i%50)
		}
		infos = append(infos, in)
	}
	fb := newFake(infos...)
	for i := range 2000 {
		switch i % 5 {
		case 0:
			fb.addLines("svc-0000", procs.Stdout, fmt.Sprintf("GET /api/items/%d 200 %d.%dms", i, i%90, i%10))
		case 1:
			fb.addLines("svc-0000", procs.Stdout, fmt.Sprintf("\x1b[32mINFO\x1b[0m request %d handled by worker %d", i, i%8))
		case 2:
			fb.addLines("svc-0000", procs.Stderr, fmt.Sprintf("warn: slow query %d: SELECT * FROM orders WHERE id = %d AND status IN ('new','paid','shipped') ORDER BY created_at DESC LIMIT 100 -- %d ms", i, i, i*3))
		case 3:
			fb.addLines("svc-0000", procs.Event, fmt.Sprintf("restarting in %dms", i))
		default:
			fb.addLines("svc-0000", procs.Stdout, fmt.Sprintf("payload\t%d\t%x\t注文 %d", i, i*7919, i))
		}
	}
	hs := newHarness(b, fb, 200, 60)
	st := &procs.Stats{Time: epoch, Units: make(map[string]procs.UnitStats, 1000), Self: procs.UnitStats{CPU: 0.3, RSS: 30 << 20}}
	for _, in := range infos {
		if in.State.Live() {
			st.Units[in.Name] = procs.UnitStats{CPU: in.CPU + 0.1, RSS: in.RSS, Procs: 1}
		}
	}
	// A minute of ticks, so every row's sparkline is full; every tenth unit
	// has a process tree.
	for i := range shortHistory {
		tick := &procs.Stats{Time: epoch.Add(time.Duration(i-shortHistory) * time.Second), Units: make(map[string]procs.UnitStats, len(st.Units)), Self: st.Self}
		for name, us := range st.Units {
			us.CPU = float64((i*7+len(name)*13)%90) + 0.5
			if name[len(name)-1] == '0' {
				us.Tree = []procs.ProcSample{{PID: 1, Name: "main"}, {PID: 2, Name: "child", Depth: 1}, {PID: 3, Name: "grandchild", Depth: 2}}
			}
			tick.Units[name] = us
		}
		hs.deliver(procs.Batch{Stats: tick})
		if i == shortHistory-1 {
			st = tick
		}
	}
	hs.key("j", "k")
	return hs, st
}

// BenchmarkViewBusy is a frame with the most going on: sorted by CPU, the
// first tree unfolded, a search highlighting matches in the pane.
func BenchmarkViewBusy(b *testing.B) {
	hs, _ := bigScreen(b)
	hs.key("o", "enter", "tab", "/", "4", "2", "enter")
	m := hs.m
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.render()
		_ = m.View()
	}
}

// BenchmarkStatsTickStatsView is a stats tick with the Stats view open: the
// charts are drawn again (ntcharts) and the details asked for.
func BenchmarkStatsTickStatsView(b *testing.B) {
	hs, st := bigScreen(b)
	hs.key("3")
	m := hs.m
	msg := batchMsg{batch: procs.Batch{Stats: st}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.stats.fetching = false
		nm, _ := m.Update(msg)
		m = nm.(Model)
		_ = m.View()
	}
}

// BenchmarkViewMerged is a frame of the merged stream of 1,000 units.
func BenchmarkViewMerged(b *testing.B) {
	hs, _ := bigScreen(b)
	hs.key("M")
	m := hs.m
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.render()
		_ = m.View()
	}
}

// BenchmarkView builds a whole frame, as after any message: table rows,
// header, pane (warm wrap cache), footer, and the join View returns.
func BenchmarkView(b *testing.B) {
	hs, _ := bigScreen(b)
	m := hs.m
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.render()
		_ = m.View()
	}
}

// BenchmarkViewCold also wraps and paints every visible output row again,
// as after a resize or the timestamp toggle.
func BenchmarkViewCold(b *testing.B) {
	hs, _ := bigScreen(b)
	m := hs.m
	b.ReportAllocs()
	b.ResetTimer()
	buf := m.logs.get(m.shown)
	for b.Loop() {
		for i := range buf.lines {
			buf.lines[i].key = wrapKey{} // stale: every row shown is wrapped again
		}
		m.render()
		_ = m.View()
	}
}

// BenchmarkStatsTick is the idle screen's whole cost per second: one stats
// batch for 1,000 units through Update, then View.
func BenchmarkStatsTick(b *testing.B) {
	hs, st := bigScreen(b)
	var m tea.Model = hs.m
	msg := batchMsg{batch: procs.Batch{Stats: st}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, _ = m.Update(msg)
		_ = m.View()
	}
}

// BenchmarkLogBatch is one batch of 100 new lines for the shown unit, as
// its cursor reads them.
func BenchmarkLogBatch(b *testing.B) {
	hs, _ := bigScreen(b)
	var m tea.Model = hs.m
	lines := make([]procs.Line, 100)
	seq := uint64(2000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range lines {
			seq++
			lines[i] = procs.Line{Seq: seq, Time: epoch, Stream: procs.Stdout, Text: fmt.Sprintf("GET /api/items/%d 200 1.2ms", seq)}
		}
		id := m.(Model).follows["svc-0000"].id
		m, _ = m.Update(followMsg{id: id, out: []procs.Output{{Unit: "svc-0000", Lines: lines}}})
		_ = m.View()
	}
}

// BenchmarkLogAnnounceUnshown is one batch announcing lines of a unit
// that is not on screen (one of 1,000, flooding): it changes nothing
// visible, so it builds no frame.
func BenchmarkLogAnnounceUnshown(b *testing.B) {
	hs, _ := bigScreen(b)
	var m tea.Model = hs.m
	seq := uint64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		seq += 100
		m, _ = m.Update(batchMsg{batch: procs.Batch{Logs: map[string]uint64{"svc-0500": seq}}})
		_ = m.View()
	}
}

// BenchmarkScreenDrawBusy writes the busy frame to the terminal with every
// line changed (a repaint): the frame writer's own cost, its last guard
// (termSafe on each line written) included.
func BenchmarkScreenDrawBusy(b *testing.B) {
	hs, _ := bigScreen(b)
	hs.key("o", "enter", "tab", "/", "4", "2", "enter")
	frame := hs.m.View()
	s := newScreen(io.Discard)
	defer s.close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// What the writer goroutine does with a frame (submit only hands
		// it over); the writer itself is idle, nothing being submitted.
		s.draw(frame, hs.m.width, hs.m.height, true)
	}
}

// BenchmarkStatsTickWorkers is a tick of 1,000 idle workers in one group
// (folded, as it starts): the group row sums them up on every tick.
func BenchmarkStatsTickWorkers(b *testing.B) {
	infos := make([]procs.Info, 0, 1000)
	st := &procs.Stats{Time: epoch, Units: make(map[string]procs.UnitStats, 1000), Self: procs.UnitStats{CPU: 0.3, RSS: 30 << 20}}
	for i := range 1000 {
		in := running(fmt.Sprintf("idle/%d", i), 0, 0.1, 40<<20, time.Minute)
		in.Kind, in.Group, in.TID = procs.KindWorker, "idle", 20000+i
		infos = append(infos, in)
		st.Units[in.Name] = procs.UnitStats{CPU: 0.1}
	}
	st.Groups = map[string]procs.GroupStats{"idle": {CPU: 100, Members: 1000, Live: 1000, Counters: map[string]int64{"seen": 1}}}
	hs := newHarness(b, newFake(infos...), 200, 60)
	var m tea.Model = hs.m
	msg := batchMsg{batch: procs.Batch{Stats: st}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, _ = m.Update(msg)
		_ = m.View()
	}
}
