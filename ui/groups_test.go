package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// workerFixture is a unit and a group of four worker goroutines with two
// shared counters, as the engine gives them: members only, no group unit.
func workerFixture() []procs.Info {
	api := running("api", 4242, 12.5, 48<<20, time.Hour)
	out := []procs.Info{api}
	for i := range 4 {
		w := running(fmt.Sprintf("primes/%d", i), 0, 25+float64(i), 200<<20, time.Minute)
		w.Kind, w.Group, w.TID, w.Channel = procs.KindWorker, "primes", 7100+i, procs.ChannelConnected
		w.Command = "worker: primes"
		w.Counters = map[string]int64{"found": 12, "checked": 345}
		out = append(out, w)
	}
	return out
}

// workerStats is a tick where the group has found more.
func workerStats(infos []procs.Info, found int64) *procs.Stats {
	st := stats(infos)
	st.Groups = map[string]procs.GroupStats{"primes": {
		CPU: 104, Members: 4, Live: 4, Counters: map[string]int64{"found": found, "checked": 10 * found},
	}}
	return st
}

// rowOf is the screen line of the table row whose name cell ends in name.
func rowOf(screen, name string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, name+" ") && strings.Contains(l, "  ") {
			return l
		}
	}
	return ""
}

func selectRow(t *testing.T, hs *harness, name string) {
	t.Helper()
	for range 20 {
		if v, ok := hs.m.table.selectedRow(); ok && v.u.info.Name == name && v.proc < 0 {
			return
		}
		hs.key("j")
	}
	t.Fatalf("row %q not found:\n%s", name, hs.screen())
}

func TestWorkerGroupRow(t *testing.T) {
	infos := workerFixture()
	hs := newHarness(t, newFake(infos...), 120, 30)
	s := hs.screen()
	g := rowOf(s, "▸ primes")
	for _, want := range []string{"group", "4/4 running", "checked=345 found=12"} {
		if !strings.Contains(g, want) {
			t.Errorf("group row lacks %q: %q\n%s", want, g, s)
		}
	}
	if strings.Contains(s, "primes/0") {
		t.Errorf("a group is folded at first:\n%s", s)
	}
	// The tick's aggregate: the group's CPU and the live counters.
	hs.deliver(procs.Batch{Stats: workerStats(infos, 99)})
	g = rowOf(hs.screen(), "▸ primes")
	if !strings.Contains(g, "104") || !strings.Contains(g, "checked=990 found=99") {
		t.Errorf("group row after a tick: %q", g)
	}
	selectRow(t, hs, "primes")
	hs.key("l")
	s = hs.screen()
	m := rowOf(s, "├─primes/1")
	for _, want := range []string{"worker", "● running", "7101", "shared"} {
		if !strings.Contains(m, want) {
			t.Errorf("member row lacks %q: %q\n%s", want, m, s)
		}
	}
	if !strings.Contains(s, "└─primes/3") || !strings.Contains(rowOf(s, "▾ primes"), "104") {
		t.Errorf("unfolded group:\n%s", s)
	}
	// The pane sums the group up; a member's views are a row away.
	for _, want := range []string{"counters  checked=990 found=99", "primes/2", "thread 7102"} {
		if !strings.Contains(s, want) {
			t.Errorf("group pane lacks %q:\n%s", want, s)
		}
	}
	if f := footer(hs); strings.Contains(f, "stats") || strings.Contains(f, "*") || !strings.Contains(f, "tab group") {
		t.Errorf("a group row offers views or a mark: %q", f)
	}
	hs.key("h")
	if rowOf(hs.screen(), "├─primes/0") != "" {
		t.Errorf("h did not fold the group:\n%s", hs.screen())
	}
	// The header's memory does not count kelpie's memory once per worker.
	if strings.Contains(hs.screen(), "mem 848M") {
		t.Errorf("header sums the workers' shared memory:\n%s", hs.screen())
	}
}

// newCalls returns the calls after the first n, sorted (a group's calls
// run at once).
func newCalls(fb *fakeBackend, n int) []string {
	c := slices.Clone(fb.Calls()[n:])
	slices.Sort(c)
	return c
}

func TestGroupActionsReachEachMember(t *testing.T) {
	fb := newFake(workerFixture()...)
	hs := newHarness(t, fb, 120, 30)
	selectRow(t, hs, "primes")
	before := len(fb.Calls())
	hs.key("x")
	if s := statusLine(hs); s != "stop the 4 members of primes?  y/n" {
		t.Errorf("question = %q", s)
	}
	hs.key("y")
	want := []string{"stop primes/0", "stop primes/1", "stop primes/2", "stop primes/3"}
	if got := newCalls(fb, before); !slices.Equal(got, want) {
		t.Errorf("x y on the group: %q", got)
	}
	if s := statusLine(hs); s != "stopping 4 members of primes" {
		t.Errorf("status = %q", s)
	}
	// One failure among four: said, with the member.
	fb.errs["restart primes/2"] = errors.New("boom")
	before = len(fb.Calls())
	hs.key("r", "y")
	if got := newCalls(fb, before); len(got) != 4 {
		t.Errorf("restart reached %q", got)
	}
	if s := statusLine(hs); s != "restart primes: 1 failure of 4 members: primes/2: boom" {
		t.Errorf("status = %q", s)
	}
	// K: a goroutine cannot be killed. The engine's words, and the stop
	// done instead, for the group and for one worker.
	for i := range 4 {
		name := fmt.Sprintf("primes/%d", i)
		fb.errs["signal "+name] = fmt.Errorf("signal %q: %w", name, procs.ErrUnkillable)
	}
	before = len(fb.Calls())
	hs.key("K", "y")
	got := newCalls(fb, before)
	if len(got) != 8 || got[0] != "signal primes/0 SIGKILL" || got[7] != "stop primes/3" {
		t.Errorf("K y on the group: %q", got)
	}
	if s := statusLine(hs); !strings.HasPrefix(s, "kill primes: stopped 4 members instead — a worker is a goroutine and a goroutine cannot be killed") {
		t.Errorf("status = %q", s)
	}
	// A message from a group row goes to each member with a channel.
	before = len(fb.Calls())
	hs.key("m", `{"ping":1}`)
	if s := hs.screen(); !strings.Contains(s, "enter sends to each member of primes") {
		t.Errorf("composer not in the group's pane:\n%s", s)
	}
	hs.key("enter")
	want = []string{`send primes/0 {"ping":1}`, `send primes/1 {"ping":1}`, `send primes/2 {"ping":1}`, `send primes/3 {"ping":1}`}
	if got := newCalls(fb, before); !slices.Equal(got, want) {
		t.Errorf("m on the group: %q", got)
	}
	if s := statusLine(hs); s != "sent to 4 members of primes" {
		t.Errorf("status = %q", s)
	}
	hs.key("esc", "l", "j") // primes/0
	before = len(fb.Calls())
	hs.key("K")
	if got := newCalls(fb, before); !slices.Equal(got, []string{"signal primes/0 SIGKILL", "stop primes/0"}) {
		t.Errorf("K on a worker: %q", got)
	}
	if s := statusLine(hs); !strings.HasPrefix(s, "kill primes/0: stopped it instead — a worker is a goroutine and a goroutine cannot be killed") {
		t.Errorf("status = %q", s)
	}
}

func TestStuckShownPlainly(t *testing.T) {
	infos := workerFixture()
	reason := "did not return within 5s of its context being cancelled; a goroutine cannot be killed"
	infos[2].State, infos[2].Reason = procs.Stuck, reason
	hs := newHarness(t, newFake(infos...), 120, 30)
	if g := rowOf(hs.screen(), "▸ primes"); !strings.Contains(g, "! 1 stuck · 4/4 up") {
		t.Errorf("group row: %q", g)
	}
	selectRow(t, hs, "primes")
	hs.key("l", "j", "j") // primes/1
	s := hs.screen()
	if r := rowOf(s, "├─primes/1"); !strings.Contains(r, "! stuck") {
		t.Errorf("member row: %q\n%s", r, s)
	}
	if !strings.Contains(s, "── primes/1  ! stuck") || !strings.Contains(s, reason) {
		t.Errorf("pane lacks the state or its reason:\n%s", s)
	}
	if !strings.Contains(s, "  ! 1 stuck  ") {
		t.Errorf("header does not count the stuck worker:\n%s", s)
	}
	hs.key("3")
	if s := hs.screen(); !strings.Contains(s, "── primes/1  ! stuck") || !strings.Contains(s, "state      stuck: "+reason) {
		t.Errorf("stats view lacks the state or its reason:\n%s", s)
	}
	if f := footer(hs); strings.Contains(f, "K kill") || strings.Contains(f, "x stop") {
		t.Errorf("a stuck worker offers kill or stop: %q", f)
	}
	hs.key("K")
	if s := statusLine(hs); s != "primes/1 is a goroutine: no signals, no kill; it was asked to stop and stays stuck until it returns" {
		t.Errorf("K on a stuck worker: %q", s)
	}
	// Back on the group row with the Stats view chosen: a tick reads no
	// details for the group (it is no unit).
	hs.key("h")
	hs.deliver(procs.Batch{Stats: workerStats(infos, 5)})
	for _, c := range hs.fb.Calls() {
		if c == "details primes" {
			t.Errorf("details read for a group row: %q", hs.fb.Calls())
		}
	}
}

func TestStatsViewListsThreads(t *testing.T) {
	infos := workerFixture()
	fb := newFake(infos...)
	fb.details["api"] = procs.Details{Info: infos[0], ThreadList: []procs.ThreadInfo{
		{TID: 4242, Name: "node", State: "S", CPU: 0.5},
		{TID: 4250, Name: "\x1b]0;owned\x07libuv-worker", State: "R", CPU: 97},
		{TID: 4251, Name: "V8 Worker", State: "S", CPU: 0},
	}}
	fb.details["primes/0"] = procs.Details{Info: infos[1], ThreadList: []procs.ThreadInfo{{TID: 7100, Name: "kelpie", State: "R", CPU: 99}}}
	hs := newHarness(t, fb, 120, 50)
	hs.key("3")
	s := hs.screen()
	busy := strings.Index(s, "4250  R    97.0  libuv-worker")
	idle := strings.Index(s, "4242  S     0.5  node")
	if !strings.Contains(s, "threads         TID  S    CPU%  NAME") || busy < 0 || idle < busy {
		t.Errorf("threads missing, unsafe or not busiest first:\n%s", s)
	}
	if strings.Contains(hs.m.View(), "\x1b]0;") {
		t.Error("a thread's name reached the terminal with its escape")
	}
	// Built once per fetch, kept safe: a frame only puts them.
	if th := hs.m.stats.threads; len(th) != 4 || !strings.HasSuffix(th[1], "libuv-worker") || strings.Contains(th[1], "\x1b") {
		t.Errorf("the pane's thread rows: %q", th)
	}
	selectRow(t, hs, "primes")
	hs.key("l", "j")
	s = hs.screen()
	for _, want := range []string{"goroutine on thread 7100 of kelpie's process", "7100  R    99.0  kelpie", "shared by every worker", "counters   checked=345 found=12",
		"memory: kelpie's own, shared (a worker has none of its own)"} {
		if !strings.Contains(s, want) {
			t.Errorf("a worker's stats lack %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "memory  now") {
		t.Errorf("a worker's stats chart a memory of its own:\n%s", s)
	}
}

// clusterFake is the fake with a cluster engine's extras.
type clusterFake struct{ *fakeBackend }

func (c clusterFake) Scale(name string, n int) error {
	return c.record("scale", name, fmt.Sprint(n))
}
func (c clusterFake) Reload(name string) error { return c.record("reload", name, "") }

func TestClusterKeysOnlyWhereTheEngineCan(t *testing.T) {
	// A plain engine: no scale or reload keys, in the footer or in help.
	hs := newHarness(t, newFake(workerFixture()...), 160, 40)
	selectRow(t, hs, "primes")
	hs.key("+", "R")
	if f := footer(hs); strings.Contains(f, "scale") || strings.Contains(f, "reload") {
		t.Errorf("footer offers what the engine cannot: %q", f)
	}
	hs.key("?")
	if s := hs.screen(); strings.Contains(s, "scale") || strings.Contains(s, "reload") {
		t.Errorf("help offers what the engine cannot:\n%s", s)
	}
	for _, c := range hs.fb.Calls() {
		if strings.HasPrefix(c, "scale") || strings.HasPrefix(c, "reload") {
			t.Errorf("call %q", c)
		}
	}

	fb := newFake(workerFixture()...)
	hs = newHarness(t, fb, 160, 40)
	hs.m.backend = clusterFake{fb}
	hs.send(tea.WindowSizeMsg{Width: 160, Height: 40}) // a frame with the new backend's keys
	if f := footer(hs); strings.Contains(f, "scale") {
		t.Errorf("scale offered on a lone unit: %q", f)
	}
	selectRow(t, hs, "primes")
	if f := footer(hs); !strings.Contains(f, "+ scale up") || !strings.Contains(f, "R reload") {
		t.Errorf("footer on a group row: %q", f)
	}
	before := len(fb.Calls())
	hs.key("+")
	hs.key("-")
	if got := fb.Calls()[before:]; !slices.Equal(got, []string{"scale primes 5", "scale primes 3"}) {
		t.Errorf("+ and -: %q", got)
	}
	if s := statusLine(hs); s != "scaling primes to 3" {
		t.Errorf("status = %q", s)
	}
	hs.key("R")
	if s := statusLine(hs); s != "reload primes: restart its 4 members one at a time?  y/n" {
		t.Errorf("question = %q", s)
	}
	hs.key("y")
	if got := fb.Calls(); got[len(got)-1] != "reload primes" {
		t.Errorf("R y: %q", got)
	}
	hs.key("?")
	if s := hs.screen(); !strings.Contains(s, "scale group") || !strings.Contains(s, "R") {
		t.Errorf("help lacks the cluster keys:\n%s", s)
	}
}

func TestGoldenWorkerGroup(t *testing.T) {
	infos := workerFixture()
	infos[3].State, infos[3].Reason = procs.Stuck, "did not return within 5s of its context being cancelled; a goroutine cannot be killed"
	hs := newHarness(t, newFake(infos...), 120, 24)
	hs.deliver(procs.Batch{Stats: workerStats(infos, 123456)})
	selectRow(t, hs, "primes")
	hs.key("l")
	checkFrame(t, hs.m.View(), 120, 24)
	golden(t, "worker_group_120x24", hs.screen())
}

func TestProcessGroupRow(t *testing.T) {
	// Cluster members: processes, same Info.Group, the same kind of row.
	w0 := running("web/0", 5100, 10, 30<<20, time.Minute)
	w1 := running("web/1", 5101, 5, 20<<20, time.Minute)
	w0.Group, w1.Group = "web", "web"
	fb := newFake(w0, w1)
	hs := newHarness(t, fb, 120, 24)
	g := rowOf(hs.screen(), "▸ web")
	for _, want := range []string{"group", "2/2 running", "15.0", "50.0M", "2 processes"} {
		if !strings.Contains(g, want) {
			t.Errorf("process group row lacks %q: %q", want, g)
		}
	}
	before := len(fb.Calls())
	hs.key("!", "enter") // SIGTERM, the menu's first
	if s := statusLine(hs); s != "send SIGTERM to the 2 members of web?  y/n" {
		t.Errorf("question = %q", s)
	}
	hs.key("y")
	if got := newCalls(fb, before); !slices.Equal(got, []string{"signal web/0 SIGTERM", "signal web/1 SIGTERM"}) {
		t.Errorf("signal on the group: %q", got)
	}
	if s := statusLine(hs); s != "sent SIGTERM to 2 members of web" {
		t.Errorf("status = %q", s)
	}
}

// A group whose members wait for their dependencies says so, and a stop
// of the group reaches them (as x on one waiting unit does).
func TestWaitingMembersAreWaitingAndStoppable(t *testing.T) {
	var c stateCounts
	c.add(procs.Waiting)
	c.add(procs.Waiting)
	if got := c.state(); got != procs.Waiting {
		t.Errorf("an all-waiting group shows %s", got)
	}
	if !applies("stop")(&procs.Info{State: procs.Waiting}) || !canStop(procs.Waiting) {
		t.Error("a group's stop skips its waiting members")
	}
	if applies("stop")(&procs.Info{State: procs.Stuck}) || applies("stop")(&procs.Info{State: procs.Stopping}) {
		t.Error("a stop reaches a member already stopping or stuck")
	}
}

// A group whose members signal readiness (a cluster's) says how many are
// ready, and marks it when all of them are, as a unit's row does.
func TestGroupRowSaysReadiness(t *testing.T) {
	w0 := running("web/0", 5100, 10, 30<<20, time.Minute)
	w1 := running("web/1", 5101, 5, 20<<20, time.Minute)
	w0.Group, w1.Group = "web", "web"
	w0.Ready = true
	fb := newFake(w0, w1)
	hs := newHarness(t, fb, 120, 24)
	if g := rowOf(hs.screen(), "▸ web"); !strings.Contains(g, "2/2 up · 1 ready") {
		t.Errorf("one of two ready: %q", g)
	}
	w1.Ready = true
	hs.deliver(procs.Batch{States: []procs.Info{w1}})
	if g := rowOf(hs.screen(), "▸ web"); !strings.Contains(g, "2/2 up ✓ ready") {
		t.Errorf("both ready: %q", g)
	}
}

// TestFailureTextNamesTheFirstFew: a group action's failures and a group
// send's are said alike: the count, the first three, and "…" for the rest.
func TestFailureTextNamesTheFirstFew(t *testing.T) {
	failed := []string{"w/0: a", "w/1: b", "w/2: c", "w/3: d", "w/4: e"}
	if got, want := failureText(failed, 8), "5 failures of 8 members: w/0: a; w/1: b; w/2: c; …"; got != want {
		t.Errorf("failureText = %q, want %q", got, want)
	}
	if got, want := failureText(failed[:1], 4), "1 failure of 4 members: w/0: a"; got != want {
		t.Errorf("failureText = %q, want %q", got, want)
	}
}
