package ui

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

func TestCopySelectionWritesOSC52(t *testing.T) {
	fb := newFake(fixture()...)
	apiOutput(fb)
	hs := newHarness(t, fb, 120, 40)
	hs.key("tab", "v")
	if !strings.Contains(hs.screen(), "selecting 1 line") {
		t.Errorf("no selection:\n%s", hs.screen())
	}
	hs.key("k", "k")
	if !strings.Contains(hs.screen(), "selecting 3 lines") {
		t.Errorf("selection did not grow:\n%s", hs.screen())
	}
	hs.key("y")
	want := "warning: slow query (812ms): SELECT * FROM orders WHERE customer_id = $1 AND created_at > now() - interval '30 days' ORDER BY created_at DESC LIMIT 500\n" +
		"GET /api/orders 200 840.2ms"
	want = "POST /api/orders 201 31.0ms — 注文を受け付けました\n" + want
	if got := hs.raw; len(got) != 1 || got[0] != "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte(want))+"\a" {
		t.Errorf("sequences written = %q", got)
	}
	if s := statusLine(hs); s != "copied 3 lines to the clipboard" {
		t.Errorf("status = %q", s)
	}
	if hs.m.pane.visual.on {
		t.Error("selection still on after y")
	}
	// Colours are not copied: lines 2 to 6 include a coloured one.
	hs.key("v", "k", "k", "k", "k", "y")
	got, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(hs.raw[1], "\x1b]52;c;"), "\a"))
	if !strings.HasPrefix(string(got), "GET /health 200 0.4ms\n") || strings.Contains(string(got), "\x1b") {
		t.Errorf("copied %q", got)
	}
}

func TestMouseIsOffUntilAsked(t *testing.T) {
	hs := rich(t, 120, 40)
	wheel := func(x, y int, b tea.MouseButton) {
		hs.send(tea.MouseMsg{X: x, Y: y, Button: b, Action: tea.MouseActionPress})
	}
	wheel(5, 4, tea.MouseButtonWheelDown)
	if selected(hs) != "api" {
		t.Error("a mouse event acted while the mouse is off")
	}
	hs.key("@")
	if !hs.m.mouse || !strings.Contains(strings.Split(hs.screen(), "\n")[0], "mouse") || !slices.Equal(hs.mouse, []bool{true}) {
		t.Errorf("@ did not turn the mouse on: %v", hs.mouse)
	}
	wheel(5, 4, tea.MouseButtonWheelDown) // over the table: the selection moves
	if got := selected(hs); got != "db-migrate" {
		t.Errorf("wheel over the table: %q", got)
	}
	hs.send(tea.MouseMsg{X: 5, Y: 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if got := selected(hs); got != "worker" {
		t.Errorf("click on the second row selected %q", got)
	}
	// The wheel over the pane scrolls it.
	for range 60 {
		hs.fb.addLines("worker", procs.Stdout, "more")
	}
	hs.deliver(procs.Batch{Logs: map[string]uint64{"worker": 90}})
	wheel(5, 30, tea.MouseButtonWheelUp)
	if hs.m.pane.follow {
		t.Error("wheel up over the pane did not scroll it")
	}
	hs.key("@")
	if hs.m.mouse || !slices.Equal(hs.mouse, []bool{true, false}) {
		t.Errorf("@ did not turn the mouse off: %v", hs.mouse)
	}
}

func TestSplitFlow(t *testing.T) {
	hs := rich(t, 200, 60)
	hs.key("S")
	if hs.m.mode != modeSingle || !strings.Contains(statusLine(hs), "mark units with *") {
		t.Errorf("S with nothing marked: %q", statusLine(hs))
	}
	hs.key("j", "*")
	if !strings.Contains(hs.screen(), " •worker") {
		t.Errorf("mark not shown:\n%s", hs.screen())
	}
	for i := range 100 {
		hs.fb.addLines("worker", procs.Stdout, fmt.Sprintf("job %d done", 31+i))
	}
	hs.deliver(procs.Batch{Logs: map[string]uint64{"worker": 130}})
	hs.key("G", "*", "g", "S")
	if hs.m.mode != modeSplit || !slices.Equal(hs.m.split.names, []string{"api", "worker", "echo"}) {
		t.Fatalf("split: mode %v names %q", hs.m.mode, hs.m.split.names)
	}
	if !hs.m.split.cols {
		t.Error("200 wide: the split is not side by side")
	}
	s := hs.screen()
	for _, want := range []string{"job 130 done", "GET /api/orders", `echo: got message 1`} {
		if !strings.Contains(s, want) {
			t.Errorf("split lacks %q:\n%s", want, s)
		}
	}
	// S puts the keyboard on the first column; tab walks the columns and
	// the keys scroll the focused one.
	if hs.m.focus != focusOutput || hs.m.split.focus != 0 {
		t.Errorf("after S: focus %v column %d", hs.m.focus, hs.m.split.focus)
	}
	hs.key("tab")
	if hs.m.focus != focusOutput || hs.m.split.focus != 1 {
		t.Errorf("focus %v column %d", hs.m.focus, hs.m.split.focus)
	}
	hs.key("k")
	if hs.m.split.panes[1].follow || !hs.m.split.panes[0].follow {
		t.Error("k scrolled the wrong column")
	}
	// The split's buffers stay while the table is browsed.
	hs.key("tab", "tab", "j", "j", "j", "j", "j", "j", "j", "j", "j")
	if hs.m.focus != focusTable {
		t.Error("tab after the last column did not come back to the table")
	}
	for _, n := range hs.m.split.names {
		if hs.m.logs.get(n) == nil {
			t.Errorf("%s's buffer was dropped", n)
		}
	}
	hs.key("S")
	if hs.m.mode != modeSingle {
		t.Error("S did not close the split")
	}
}

func TestMergedFlow(t *testing.T) {
	hs := rich(t, 120, 40)
	fb := hs.fb
	before := len(fb.Calls())
	hs.key("M")
	calls := fb.Calls()[before:]
	if len(calls) != 10 || !strings.HasPrefix(calls[0], "tail ") {
		t.Errorf("merged start: calls %q", calls)
	}
	body := hs.screen()
	if !strings.Contains(body, "api          │ GET /api/orders 200 840.2ms") || !strings.Contains(body, "merged output of 10 units") {
		t.Errorf("merged pane:\n%s", body)
	}
	// New lines arrive through Since, for the units that announced some.
	fb.addLines("web", procs.Stderr, "web says hi")
	fb.addLines("api", procs.Stdout, "api says hi")
	before = len(fb.Calls())
	hs.deliver(procs.Batch{Logs: map[string]uint64{"web": 1, "api": 8}})
	if got := fb.Calls()[before:]; !slices.Equal(got, []string{"since api 7", "since web 0"}) {
		t.Errorf("calls %q", got)
	}
	lines := strings.Split(strings.TrimRight(bodyOf(hs.m.merged.pane.rows), "\n"), "\n")
	if last := lines[len(lines)-2:]; last[0] != "web          │ web says hi" || last[1] != "api          │ api says hi" {
		t.Errorf("newest merged lines: %q", last)
	}
	// The unit's colour marks its prefix.
	for _, r := range hs.m.merged.pane.rows {
		if strings.Contains(ansi.Strip(r), "web says hi") && !strings.HasPrefix(r, hs.m.pal.unitTag("web").open) {
			t.Errorf("prefix not coloured: %q", r)
		}
	}
	hs.key("esc")
	if hs.m.mode != modeSingle {
		t.Error("esc did not leave the merged view")
	}
}

func bodyOf(rows []string) string {
	var out []string
	for _, r := range rows {
		out = append(out, ansi.Strip(r))
	}
	return strings.Join(out, "\n")
}

func TestStatsViewFetchesDetailsAndKeepsHistory(t *testing.T) {
	hs := rich(t, 120, 40)
	fb := hs.fb
	count := func() int {
		n := 0
		for _, c := range fb.Calls() {
			if c == "details api" {
				n++
			}
		}
		return n
	}
	if count() != 0 {
		t.Fatal("details fetched before the Stats view opened")
	}
	hs.key("3")
	if count() != 1 {
		t.Fatalf("details calls = %d after 3", count())
	}
	s := hs.screen()
	for _, want := range []string{"CPU %  now 32.0%  peak 44.0%", "memory  now 47.0M", "ppid 1", "threads 11", "open files 27",
		"cwd        /srv/api", "SIGKILL   after 47m58s", "exit 1    after 50m00s", "-40s"} {
		if !strings.Contains(s, want) {
			t.Errorf("stats view lacks %q:\n%s", want, s)
		}
	}
	// Refreshed on every tick while open.
	hs.deliver(procs.Batch{Stats: richStats(richFixture(), 40)})
	hs.deliver(procs.Batch{Stats: richStats(richFixture(), 41)})
	if count() != 3 {
		t.Errorf("details calls = %d after two ticks", count())
	}
	// The Stats view's unit keeps a long history; the others a short one.
	if n := len(hs.m.table.byName["api"].hist.buf); n != longHistory {
		t.Errorf("api's history holds %d", n)
	}
	if n := len(hs.m.table.byName["worker"].hist.buf); n != shortHistory {
		t.Errorf("worker's history holds %d", n)
	}
	for range 70 {
		hs.deliver(procs.Batch{Stats: richStats(richFixture(), 42)})
	}
	if n := hs.m.table.byName["api"].hist.n; n != 112 {
		t.Errorf("api has %d samples, want 112", n)
	}
	if n := hs.m.table.byName["worker"].hist.n; n != shortHistory {
		t.Errorf("worker has %d samples", n)
	}
	// Closed: no more fetching; opened again: read afresh.
	hs.key("1")
	n := count()
	hs.deliver(procs.Batch{Stats: richStats(richFixture(), 43)})
	if count() != n {
		t.Error("details fetched with the Stats view closed")
	}
	hs.key("3")
	if count() != n+1 {
		t.Error("details not read again when the Stats view opened again")
	}
}

func TestSparkline(t *testing.T) {
	s := newSeries(5)
	for _, v := range []float32{0, 12.5, 50, 100} {
		s.push(sample{cpu: v})
	}
	s.push(noSample)
	if got := sparkline(s, 7, 1, 1); got != "  ▁▁▄█ " {
		t.Errorf("sparkline = %q", got)
	}
	s.push(sample{cpu: 200}) // above one core: the scale stretches
	if got := sparkline(s, 5, 1, 1); got != "▁▂▄ █" {
		t.Errorf("sparkline = %q", got)
	}
	// Two samples a cell: the highest shows; the newest cell holds one
	// sample while its bucket fills.
	if got := sparkline(s, 3, 2, 1); got != "▂▄█" {
		t.Errorf("buckets of 2, newest holding 1: %q", got)
	}
	if got := sparkline(s, 3, 2, 2); got != "▁▄█" {
		t.Errorf("buckets of 2, newest full: %q", got)
	}
	s.resize(2)
	if got := sparkline(s, 3, 1, 1); got != "  █" {
		t.Errorf("after resize: %q", got)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0.3: 0.3, 4.2: 5, 50.6: 60, 101: 150, 47 << 20: 50 << 20, 1500: 1536} {
		if got := niceCeil(in); got < in || got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestTreePrefixes(t *testing.T) {
	r := &unitRow{tree: []procs.ProcSample{
		{Depth: 0}, {Depth: 1}, {Depth: 2}, {Depth: 3}, {Depth: 2}, {Depth: 1}, {Depth: 2},
	}}
	got := treePrefixes(nil, r)
	want := []string{"", "├─ ", "│  ├─ ", "│  │  └─ ", "│  └─ ", "└─ ", "   └─ "}
	if !slices.Equal(got, want) {
		t.Errorf("prefixes:\n got %q\nwant %q", got, want)
	}
}

func TestHelpListsEveryKeyAndScrolls(t *testing.T) {
	hs := rich(t, 80, 24)
	hs.key("?")
	all := hs.screen()
	if strings.Contains(all, "scroll") {
		t.Errorf("80x24 help does not fit:\n%s", all)
	}
	for _, want := range []string{"enter/spc fold/unfold", "/         filter", "o         cycle sort", "*         mark",
		"1   output", "2   messages", "3   stats", "S   split", "M   merged", "n/N next/prev match",
		"v   select lines", "y   copy", "w   wrap", "m/:       write", "@        mouse", "x stop", "! signal…", "page down",
		"s start", "ctrl+l", "q/ctrl+c"} {
		if !strings.Contains(all, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	// j scrolls the help (when it does not fit), not the table.
	hs.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	if !strings.Contains(hs.screen(), "↑↓ scroll") {
		t.Errorf("60x20 help does not say it scrolls:\n%s", hs.screen())
	}
	hs.key("j", "G")
	if hs.m.helpOffset == 0 {
		t.Error("the help did not scroll")
	}
	if selected(hs) != "api" {
		t.Errorf("moving keys moved the table under the help: %q", selected(hs))
	}
	hs.key("esc")
	if hs.m.helpOpen {
		t.Error("esc did not close the help")
	}
}

func TestViewKeys(t *testing.T) {
	hs := rich(t, 120, 40)
	hs.key("2") // api has no channel: nothing
	if hs.m.shownView() != viewOutput {
		t.Error("2 opened messages for a unit without a channel")
	}
	hs.key("3")
	if hs.m.shownView() != viewStats || !strings.Contains(footer(hs), "1 output") {
		t.Errorf("after 3: view %v footer %q", hs.m.shownView(), footer(hs))
	}
	hs.key("G") // echo, still on stats
	if hs.m.shownView() != viewStats || !strings.Contains(footer(hs), "1/2 views") {
		t.Errorf("echo: view %v footer %q", hs.m.shownView(), footer(hs))
	}
	hs.key("2", "k") // messages, then a unit without a channel shows output
	if hs.m.view != viewMessages || hs.m.shownView() != viewOutput {
		t.Errorf("view %v shown %v", hs.m.view, hs.m.shownView())
	}
	hs.key("G")
	if hs.m.shownView() != viewMessages {
		t.Error("back on echo, the messages view did not come back")
	}
	_ = time.Second
}
