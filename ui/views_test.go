package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// richFixture is the fixture plus a forked unit with a channel.
func richFixture() []procs.Info {
	echo := running("echo", 4400, 0.1, 9<<20, 2*time.Minute)
	echo.Kind, echo.Channel, echo.Command = procs.KindFork, procs.ChannelConnected, "node echo.js"
	return append(fixture(), echo)
}

// apiTree is api's process tree: node with two children, one of which has
// a child of its own.
func apiTree() []procs.ProcSample {
	return []procs.ProcSample{
		{PID: 4242, PPID: 1, Name: "node", Depth: 0, CPU: 10.5, RSS: 40 << 20},
		{PID: 4300, PPID: 4242, Name: "esbuild", Depth: 1, CPU: 1.5, RSS: 6 << 20},
		{PID: 4301, PPID: 4242, Name: "sh", Depth: 1, CPU: 0.5, RSS: 1 << 20},
		{PID: 4302, PPID: 4301, Name: "sleep", Depth: 2, CPU: 0, RSS: 512 << 10},
	}
}

// richStats is a tick at `at` with api's tree and CPU that wanders, so the
// charts and sparklines have a shape.
func richStats(infos []procs.Info, i int) *procs.Stats {
	st := stats(infos)
	st.Time = epoch.Add(-time.Duration(40-i) * time.Second)
	for name, us := range st.Units {
		us.CPU = us.CPU * (1 + 0.5*float64((i*7+len(name))%5-2)/2)
		if name == "api" {
			us.CPU = 5 + float64((i*13)%40)
			us.RSS = uint64(40+i%8) << 20
			us.Tree = apiTree()
			us.Procs = 4
		}
		st.Units[name] = us
	}
	return st
}

// echoTraffic writes a conversation on echo's channel into the fake.
func echoTraffic(fb *fakeBackend) uint64 {
	fb.addLines("echo", procs.Event, "started: pid 4400")
	fb.addLines("echo", procs.Stdout, "echo: ready for messages")
	fb.addLines("echo", procs.IPCIn, `{"type":"health","uptime_s":5,"handled":0}`)
	fb.addLines("echo", procs.IPCOut, `{"cmd":"ping","id":1}`)
	fb.addLines("echo", procs.Stdout, `echo: got message 1: {"cmd":"ping","id":1}`)
	return fb.addLines("echo", procs.IPCIn, `{"reply":{"cmd":"ping","id":1},"n":1,"ok":true,"tags":["a","b"],"took":null}`)
}

// rich is the rich fixture with output, traffic and 40 stats ticks.
func rich(t *testing.T, w, h int) *harness {
	t.Helper()
	infos := richFixture()
	fb := newFake(infos...)
	apiLast := apiOutput(fb)
	echoLast := echoTraffic(fb)
	for i := range 30 {
		fb.addLines("worker", procs.Stdout, fmt.Sprintf("job %d done in %dms", i+1, 20+i*3))
	}
	d := procs.Details{
		Info: infos[0], Argv: []string{"node", "server.js", "--port", "8080"}, PPID: 1, Threads: 11, OpenFiles: 27,
		StartTime: epoch.Add(-3*time.Hour - 12*time.Minute), Cwd: "/srv/api",
		Exits: []procs.ExitRecord{
			{StartedAt: epoch.Add(-5 * time.Hour), ExitedAt: epoch.Add(-4*time.Hour - 10*time.Minute), ExitCode: intp(1)},
			{StartedAt: epoch.Add(-4 * time.Hour), ExitedAt: epoch.Add(-3*time.Hour - 12*time.Minute - 2*time.Second), Signal: "SIGKILL"},
		},
	}
	fb.details["api"] = d
	hs := newHarness(t, fb, w, h)
	for i := range 40 {
		b := procs.Batch{Stats: richStats(infos, i)}
		if i == 39 {
			b.Logs = map[string]uint64{"api": apiLast, "echo": echoLast, "worker": 30}
		}
		hs.deliver(b)
	}
	return hs
}

// goldenSizes are the sizes every main state is checked at.
var goldenSizes = [][2]int{{80, 24}, {160, 45}}

func TestGoldenStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{"tree", []string{"enter"}}, // api's process tree unfolded
		{"output_search", []string{"tab", "/", "G", "E", "T", "enter", "N"}},
		{"messages_composer", []string{"G", "m", `{"cmd":"ping","n":`}},
		{"stats", []string{"3"}},
		{"signal_menu", []string{"!", "j", "j"}},
		{"split", []string{"j", "*", "G", "*", "g", "S"}},
		{"merged", []string{"M"}},
		{"keys", []string{"?"}},
	} {
		for _, sz := range goldenSizes {
			name := fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				hs := rich(t, sz[0], sz[1])
				hs.key(tc.keys...)
				checkFrame(t, hs.m.View(), sz[0], sz[1])
				golden(t, name, hs.screen())
			})
		}
	}
}

// TestEveryStateFitsEverySize walks the main states at many sizes: no line
// is ever wider than the terminal, and the frame is always its height.
func TestEveryStateFitsEverySize(t *testing.T) {
	states := [][]string{
		{"enter"}, {"tab", "/", "o"}, {"tab", "v", "k"}, {"G", "m", "{"}, {"3"}, {"!"},
		{"*", "j", "*", "S"}, {"M"}, {"?"}, {"/", "h", "t", "t"}, {"x"},
	}
	sizes := [][2]int{{80, 24}, {120, 40}, {200, 60}, {160, 45}, {40, 12}, {30, 8}, {100, 10}, {250, 80}, {5, 3}}
	for _, keys := range states {
		hs := rich(t, 80, 24)
		hs.key(keys...)
		for _, sz := range sizes {
			hs.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			checkFrame(t, hs.m.View(), sz[0], sz[1])
		}
	}
}

func TestOverviewShowsTreeSparklineAndTotals(t *testing.T) {
	hs := rich(t, 120, 40)
	s := hs.screen()
	if !strings.Contains(s, "▸ api") {
		t.Errorf("api's tree has no fold marker:\n%s", s)
	}
	if !strings.Contains(s, "CPU 60s") {
		t.Errorf("no sparkline column at 120 columns:\n%s", s)
	}
	// api's CPU wandered between 5 and 44 %: its sparkline has more than
	// one level, every level from the sparkline's set.
	line := lineWith(s, "▸ api")
	levels := 0
	for _, r := range sparkLevels {
		if strings.ContainsRune(line, r) {
			levels++
		}
	}
	if levels < 2 {
		t.Errorf("api's sparkline is flat: %q", line)
	}
	// The header's totals: units, running, crashed, CPU, memory, own cost.
	head := strings.SplitN(s, "\n", 2)[0]
	for _, want := range []string{"10 units", "● 6 running", "✖ 1 crashed", "cpu ", "mem ", "kelpie v0.1.0  0.4% 23.0M"} {
		if !strings.Contains(head, want) {
			t.Errorf("header %q lacks %q", head, want)
		}
	}
}

func lineWith(screen, sub string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
