// Flows under teatest: the same screens as flows_test.go, but run by a real
// tea.Program instead of the harness that calls Model.Update itself.
//
// What these add over the Update-driven tests: Bubble Tea's own program
// loop runs the model. Commands execute in goroutines of their own and their
// messages come back whenever they finish, tea.Batch is unpacked by Bubble
// Tea, and the subscription's Next is re-armed by the model after every batch
// while the test feeds batches from its own goroutine. Keys go through the
// program's message queue, including several runes in one tea.KeyMsg, the
// way Bubble Tea's input reader delivers keys typed faster than it reads
// them. What is checked is what Bubble Tea's renderer wrote (replayed by
// vterm), not the string View returned. Each program ends through the
// model's own quit path (ctrl+c: Backend.Shutdown, then tea.Quit), and a flow
// fails if a goroutine of the program or of its commands outlives it.
//
// teatest sends tea.KeyMsg values, not bytes: Bubble Tea's byte-level key
// parser is not exercised here.

package ui

import (
	"cmp"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/kelpie-dev/kelpie/procs"
)

const (
	ttWidth, ttHeight = 120, 40
	ttWait            = 5 * time.Second      // the longest a wait may take
	ttPoll            = 5 * time.Millisecond // how often a wait looks again
)

// ttFlow is one running program and the fake behind it.
type ttFlow struct {
	t    *testing.T
	fb   *fakeBackend
	tm   *teatest.TestModel
	vt   *vterm
	stop chan struct{} // ends the timers and the drain of fb.parked
	done bool          // the program has ended
}

// startFlow runs New(fb, …) in a teatest program at ttWidth x ttHeight.
func startFlow(t *testing.T, fb *fakeBackend) *ttFlow {
	t.Helper()
	before := goroutineIDs()
	f := &ttFlow{t: t, fb: fb, vt: newVterm(ttHeight), stop: make(chan struct{})}
	m := New(fb, Options{
		Version: "v0.1.0", Now: func() time.Time { return epoch },
		StatusTimeout: time.Minute, // no status line clears in the middle of a wait
	})
	// Real timers, but ended with the test: a status or clock timer must
	// not outlive the program (Bubble Tea cannot cancel a running Cmd).
	m.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg {
			tk := time.NewTimer(d)
			defer tk.Stop()
			select {
			case <-tk.C:
				return msg
			case <-f.stop:
				return nil
			}
		}
	}
	// The fake's Next reports each wait on fb.parked for the harness; here
	// nobody steps the commands, so the reports are dropped.
	go func() {
		for {
			select {
			case <-fb.parked:
			case <-f.stop:
				return
			}
		}
	}()
	f.tm = teatest.NewTestModel(t, m, teatest.WithInitialTermSize(ttWidth, ttHeight))
	t.Cleanup(func() {
		close(f.stop)
		if !f.done { // the flow failed before quitting
			_ = f.tm.Quit()
			f.tm.WaitFinished(t, teatest.WithFinalTimeout(ttWait))
			fb.sub.Close() // ends the Next the quit path would have
		}
		checkNoStrays(t, before)
		fb.sub.Close()
	})
	return f
}

// richFlow is rich's fixture (output, echo's traffic, api's process tree)
// with one stats tick delivered through the subscription.
func richFlow(t *testing.T) *ttFlow {
	t.Helper()
	infos := richFixture()
	fb := newFake(infos...)
	apiLast := apiOutput(fb)
	echoLast := echoTraffic(fb)
	for i := range 30 {
		fb.addLines("worker", procs.Stdout, "job "+strconv.Itoa(i+1)+" done")
	}
	f := startFlow(t, fb)
	f.feed(procs.Batch{Stats: richStats(infos, 39), Logs: map[string]uint64{"api": apiLast, "echo": echoLast, "worker": 30}})
	f.waitFor("the first tick and api's output", func(s string) bool {
		return strings.Contains(s, "GET /api/orders 200 840.2ms") && strings.Contains(s, "32.0   47.0M") &&
			strings.Contains(s, "10 units")
	})
	return f
}

// feed hands the model a batch through its subscription.
func (f *ttFlow) feed(b procs.Batch) {
	f.t.Helper()
	select {
	case f.fb.sub.ch <- b:
	case <-time.After(ttWait):
		f.t.Fatal("the subscription took no batch")
	}
	f.fb.publish(b) // and the panes' cursors
}

// key sends key presses by name (see keyMsg).
func (f *ttFlow) key(keys ...string) {
	for _, k := range keys {
		f.tm.Send(keyMsg(k))
	}
}

// waitFor waits until the screen the renderer drew satisfies cond.
func (f *ttFlow) waitFor(what string, cond func(screen string) bool) {
	f.t.Helper()
	fed := 0
	teatest.WaitFor(screenTB{f.t, f, what}, f.tm.Output(), func(b []byte) bool {
		f.vt.feed(b[fed:])
		fed = len(b)
		return cond(f.vt.String())
	}, teatest.WithDuration(ttWait), teatest.WithCheckInterval(ttPoll))
}

// waitText waits until every one of subs is on the screen.
func (f *ttFlow) waitText(subs ...string) {
	f.t.Helper()
	f.waitFor(strconv.Quote(strings.Join(subs, `", "`)), func(s string) bool {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	})
}

// screenTB reports a wait that timed out with the screen as drawn, not the
// raw bytes teatest would print.
type screenTB struct {
	testing.TB
	f    *ttFlow
	what string
}

func (s screenTB) Fatal(args ...any) {
	s.TB.Helper()
	s.TB.Fatalf("timed out after %s waiting for %s; screen:\n%s", ttWait, s.what, s.f.vt)
}

// quit ends the program the way a user does and returns its final model.
func (f *ttFlow) quit() Model {
	f.t.Helper()
	f.key("ctrl+c")
	f.tm.WaitFinished(f.t, teatest.WithFinalTimeout(ttWait))
	f.done = true
	fm, ok := f.tm.FinalModel(f.t).(Model)
	if !ok {
		f.t.Fatalf("final model is %T", f.tm.FinalModel(f.t))
	}
	// The program is over and its output complete: what the renderer drew
	// last is the final model's view, but for the line the cursor was on,
	// which the renderer erases as it stops.
	out, err := io.ReadAll(f.tm.Output())
	if err != nil {
		f.t.Fatal(err)
	}
	f.vt.feed(out)
	drawn, view := lines(f.vt.String()), lines(ansi.Strip(fm.View()))
	if got, want := strings.Join(drawn[:len(drawn)-1], "\n"), strings.Join(view[:len(view)-1], "\n"); got != want || len(drawn) != len(view) {
		f.t.Errorf("the screen drawn differs from the final view:\n--- drawn:\n%s\n--- view:\n%s", got, want)
	}
	if !fm.ShutdownDone() {
		f.t.Error("the program ended before the backend's shutdown")
	}
	if calls := f.fb.Calls(); calls[len(calls)-1] != "shutdown " {
		f.t.Errorf("last backend call = %q, want the shutdown", calls[len(calls)-1])
	}
	return fm
}

// lastSeq is the newest line the fake holds for a unit.
func (f *ttFlow) lastSeq(name string) uint64 {
	f.fb.mu.Lock()
	defer f.fb.mu.Unlock()
	return uint64(len(f.fb.lines[name]))
}

// sent is what the fake's Send accepted for a unit.
func (f *ttFlow) sent(name string) []string {
	f.fb.mu.Lock()
	defer f.fb.mu.Unlock()
	return slices.Clone(f.fb.sent[name])
}

// Reading the drawn screen.

func lines(screen string) []string { return strings.Split(screen, "\n") }

func statusOf(screen string) string { l := lines(screen); return l[len(l)-2] }

// composerLine is the composer's input line, over its verdict.
func composerLine(screen string) string {
	l := lines(screen)
	return strings.TrimRight(l[len(l)-4], " ")
}

// paneTitle is the rule over the pane (under the table at this width).
func paneTitle(screen string) string {
	for _, l := range lines(screen)[2:] {
		if strings.HasPrefix(l, "──") {
			return l
		}
	}
	return ""
}

// tableRow is one line of the drawn table.
type tableRow struct {
	name     string // the unit's name, or the process's
	nested   bool   // a group member or a process of a tree
	selected bool
	cpu      string // the CPU% cell
}

// tableRows reads the table from its header to the pane's rule.
func tableRows(screen string) []tableRow {
	ls := lines(screen)
	if len(ls) < 3 {
		return nil
	}
	head := []rune(ls[1])
	col := func(label string) int {
		i := strings.Index(ls[1], label)
		if i < 0 {
			return -1
		}
		return utf8.RuneCountInString(ls[1][:i])
	}
	state, cpuEnd := col("STATE"), col("CPU%")+len("CPU%")
	if state < 0 || cpuEnd < 7 {
		return nil // nothing drawn yet
	}
	var rows []tableRow
	for _, l := range ls[2:] {
		if strings.HasPrefix(l, "──") || strings.TrimSpace(l) == "" {
			break
		}
		r := []rune(l)
		for len(r) < len(head) {
			r = append(r, ' ')
		}
		cell := string(r[2:state])
		row := tableRow{nested: strings.ContainsAny(cell, "├└"), selected: r[0] == '▌'}
		if f := strings.Fields(strings.TrimLeft(cell, "▌▸▾├└│─ ")); len(f) > 0 {
			row.name = f[0]
		}
		if f := strings.Fields(string(r[cpuEnd-7 : cpuEnd])); len(f) > 0 {
			row.cpu = f[len(f)-1]
		}
		rows = append(rows, row)
	}
	return rows
}

// firstRows is the names of the table's first n lines.
func firstRows(screen string, n int) []string {
	names := rowNames(screen)
	return names[:min(n, len(names))]
}

func rowNames(screen string) []string {
	var out []string
	for _, r := range tableRows(screen) {
		out = append(out, r.name)
	}
	return out
}

func selectedRow(screen string) string {
	for _, r := range tableRows(screen) {
		if r.selected {
			return r.name
		}
	}
	return ""
}

// Goroutines the program leaves behind.

var goroutineHead = regexp.MustCompile(`^goroutine (\d+) `)

// The flows.

func TestTeatestFilter(t *testing.T) {
	f := richFlow(t)
	// "ht" one key at a time, then "tp-" as one message, the way Bubble Tea
	// delivers keys typed faster than it reads them.
	f.key("/", "h", "t")
	f.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("tp-")})
	f.waitFor("the table narrowed to http-", func(s string) bool {
		return slices.Equal(rowNames(s), []string{"http-cluster", "http-1", "http-2"}) &&
			strings.Contains(statusOf(s), "/http-") && strings.Contains(statusOf(s), "3 of 10 units")
	})
	// Keys typed into the filter are text, not actions.
	f.tm.Type("x")
	f.waitText("no unit matches “http-x”")
	f.key("backspace", "enter")
	f.waitFor("the filter kept", func(s string) bool {
		return strings.Contains(statusOf(s), "filter “http-”: 3 of 10 units") && len(rowNames(s)) == 3
	})
	if got := selectedRow(f.vt.String()); got != "http-cluster" {
		t.Errorf("selection after filtering = %q", got)
	}
	// esc in the table clears a kept filter.
	f.key("esc")
	f.waitFor("every unit back", func(s string) bool {
		return len(rowNames(s)) == 10 && !strings.Contains(statusOf(s), "filter")
	})
	// It matches states too; esc while typing clears it.
	f.key("/")
	f.tm.Type("crashed")
	f.waitFor("the table narrowed to db-migrate", func(s string) bool { return slices.Equal(rowNames(s), []string{"db-migrate"}) })
	f.key("esc")
	f.waitFor("every unit back", func(s string) bool { return len(rowNames(s)) == 10 })
	fm := f.quit()
	if fm.table.filter != "" || fm.lineFor != modalNone {
		t.Errorf("final filter %q, line %v", fm.table.filter, fm.lineFor)
	}
	for _, c := range f.fb.Calls() {
		if strings.HasPrefix(c, "stop") {
			t.Errorf("a key typed into the filter acted: %q", c)
		}
	}
}

func TestTeatestSort(t *testing.T) {
	f := richFlow(t)
	cpus := func(s string) (vals []float64, idle []string) {
		for _, r := range tableRows(s) {
			if r.nested {
				continue
			}
			// "—": no process. These come last: once one shows, every
			// later row counts as one, so a figure after it shows up in idle.
			if v, err := strconv.ParseFloat(r.cpu, 64); err == nil && len(idle) == 0 {
				vals = append(vals, v)
			} else {
				idle = append(idle, r.name)
			}
		}
		return vals, idle
	}
	membersUnderGroup := func(s string) bool {
		n := rowNames(s)
		i := slices.Index(n, "http-cluster")
		return i >= 0 && i+2 < len(n) && n[i+1] == "http-1" && n[i+2] == "http-2"
	}
	f.key("o") // CPU, busiest first
	f.waitFor("the sort by CPU", func(s string) bool { return strings.Contains(lines(s)[1], "▼CPU%") })
	s := f.vt.String()
	if vals, idle := cpus(s); !slices.IsSortedFunc(vals, func(a, b float64) int { return cmp.Compare(b, a) }) ||
		!slices.Equal(idle, []string{"web", "db-migrate", "cron-once", "docs"}) {
		t.Errorf("by CPU, busiest first: %v, then %q\n%s", vals, idle, s)
	}
	if !membersUnderGroup(s) {
		t.Errorf("members left their group: %q", rowNames(s))
	}
	f.key("O") // reversed: idle first, units without a process still last
	f.waitFor("the sort reversed", func(s string) bool { return strings.Contains(lines(s)[1], "▲CPU%") })
	s = f.vt.String()
	if vals, idle := cpus(s); !slices.IsSorted(vals) || len(idle) != 4 {
		t.Errorf("by CPU, idle first: %v, then %q\n%s", vals, idle, s)
	}
	f.key("o", "o") // memory, then name
	f.waitFor("the sort by name", func(s string) bool { return strings.Contains(lines(s)[1], "NAME▲") })
	s = f.vt.String()
	var top []string
	for _, r := range tableRows(s) {
		if !r.nested {
			top = append(top, r.name)
		}
	}
	if !slices.IsSorted(top) || len(top) != 8 || !membersUnderGroup(s) {
		t.Errorf("by name: %q", rowNames(s))
	}
	if got := selectedRow(s); got != "api" {
		t.Errorf("sorting moved the cursor to %q", got)
	}
	fm := f.quit()
	if fm.table.sortBy != colName || fm.table.sortDesc {
		t.Errorf("final sort %v desc=%v", fm.table.sortBy, fm.table.sortDesc)
	}
}

func TestTeatestFold(t *testing.T) {
	f := richFlow(t)
	tree := []string{"api", "esbuild", "sh", "sleep", "worker"}
	if n := rowNames(f.vt.String()); slices.Contains(n, "esbuild") {
		t.Fatalf("a process tree is unfolded by default: %q", n)
	}
	f.key("enter")
	f.waitFor("api's tree", func(s string) bool {
		return slices.Equal(firstRows(s, 5), tree) && strings.Contains(s, "├─ esbuild") && strings.Contains(s, "   └─ sleep")
	})
	f.key(" ") // space folds it again
	f.waitFor("api's tree folded", func(s string) bool { return slices.Equal(firstRows(s, 2), []string{"api", "worker"}) })
	// Unfold, down to sh; a new tick through the re-armed subscription
	// keeps the cursor on that process.
	f.key("enter", "j", "j")
	f.waitFor("the cursor on sh", func(s string) bool { return selectedRow(s) == "sh" })
	f.feed(procs.Batch{Stats: richStats(richFixture(), 40)})
	f.waitFor("the second tick", func(s string) bool {
		for _, r := range tableRows(s) {
			if r.name == "api" {
				return r.cpu == "5.0" // 32.0 on the first tick
			}
		}
		return false
	})
	if got := selectedRow(f.vt.String()); got != "sh" {
		t.Errorf("after a tick the cursor is on %q", got)
	}
	// h on a process folds its unit and goes to it.
	f.key("h")
	f.waitFor("api folded from its process", func(s string) bool {
		return selectedRow(s) == "api" && !slices.Contains(rowNames(s), "sh")
	})
	fm := f.quit()
	if got := fm.table.selectedKey(); got != (rowKey{name: "api"}) {
		t.Errorf("final cursor %+v", got)
	}
}

func TestTeatestSearch(t *testing.T) {
	fb := newFake(fixture()...)
	for i := range 200 {
		fb.addLines("api", procs.Stdout, "GET /item/"+strconv.Itoa(i)+" 200")
		if i%50 == 7 {
			fb.addLines("api", procs.Stderr, "\x1b[31mERROR\x1b[0m item "+strconv.Itoa(i)+" failed")
		}
	}
	f := startFlow(t, fb)
	f.waitText("GET /item/199 200")
	f.key("tab", "/")
	f.tm.Type("err")
	f.waitFor("the search typed", func(s string) bool {
		return strings.Contains(statusOf(s), "/err") && strings.Contains(statusOf(s), "match 4/4")
	})
	f.key("enter")
	f.waitFor("the count in the title", func(s string) bool { return strings.Contains(paneTitle(s), "match 4/4") })
	// N goes to older matches, scrolling them into view; n wraps around.
	f.key("N", "N")
	f.waitFor("match 2", func(s string) bool {
		return strings.Contains(paneTitle(s), "match 2/4") && strings.Contains(s, "ERROR item 57 failed")
	})
	f.key("n", "n", "n")
	f.waitFor("match 1 after wrapping", func(s string) bool {
		return strings.Contains(paneTitle(s), "match 1/4") && strings.Contains(s, "ERROR item 7 failed")
	})
	// New lines arrive through the subscription and are searched too.
	last := fb.addLines("api", procs.Stdout, "another error")
	f.feed(procs.Batch{Logs: map[string]uint64{"api": last}})
	f.waitFor("the new line counted", func(s string) bool { return strings.Contains(paneTitle(s), "match 1/5") })
	f.key("esc")
	f.waitFor("the search ended", func(s string) bool { return !strings.Contains(paneTitle(s), "match") })
	fm := f.quit()
	if fm.pane.search.query != "" {
		t.Errorf("final search %q", fm.pane.search.query)
	}
}

func TestTeatestSignalMenu(t *testing.T) {
	fb := newFake(fixture()...)
	f := startFlow(t, fb)
	f.waitFor("the table", func(s string) bool { return selectedRow(s) == "api" })
	f.key("j", "!") // worker: a lone process
	f.waitText("send a signal to worker", "SIGWINCH")
	for _, sig := range procs.CommonSignals() {
		if name := procs.SignalName(sig); !strings.Contains(f.vt.String(), name) {
			t.Errorf("menu lacks %s", name)
		}
	}
	// Keys move the menu, not the table.
	f.key("j", "j", "k")
	f.waitText("▌ SIGINT")
	f.key("enter")
	f.waitFor("the signal sent", func(s string) bool {
		return statusOf(s) == "sent SIGINT to worker" && !strings.Contains(s, "send a signal")
	})
	if got := selectedRow(f.vt.String()); got != "worker" {
		t.Errorf("the menu moved the table to %q", got)
	}
	// esc closes the menu without sending.
	sigs := procs.CommonSignals()
	f.key("!", "G")
	f.waitText("▌ " + procs.SignalName(sigs[len(sigs)-1]))
	f.key("esc")
	f.waitFor("the menu closed", func(s string) bool { return !strings.Contains(s, "send a signal") })
	f.quit()
	wantCalls(t, fb, "subscribe ", "tail api 2000", "tail worker 2000", "signal worker SIGINT", "shutdown ")
}

func TestTeatestComposer(t *testing.T) {
	f := richFlow(t)
	f.key("G", "2") // echo, its messages view
	f.waitText("[2 messages]", "● connected", `"tags": [`)
	f.key("m")
	f.waitText("type one JSON value")
	// Invalid JSON: a live verdict, and enter refuses it.
	f.tm.Type(`{"a":1,}`)
	f.waitText("✗ invalid character '}' looking for beginning of object key string at offset 7")
	f.key("enter")
	f.waitFor("the refusal", func(s string) bool { return strings.HasPrefix(statusOf(s), "not sent: invalid character") })
	if got := f.sent("echo"); len(got) != 0 {
		t.Errorf("invalid JSON was sent: %q", got)
	}
	// Valid: sent as typed (trimmed), byte for byte.
	f.key("ctrl+u")
	f.tm.Type(` {"cmd": "ping", "n": 2} `)
	f.waitText("✓ valid JSON")
	f.key("enter")
	f.waitFor("the message sent and the line cleared", func(s string) bool {
		return statusOf(s) == "sent to echo" && strings.Contains(s, "type one JSON value")
	})
	if got := f.sent("echo"); !slices.Equal(got, []string{`{"cmd": "ping", "n": 2}`}) {
		t.Errorf("sent %q", got)
	}
	// The fake logs what it sent: the traffic shows it once the batch
	// saying so arrives.
	f.feed(procs.Batch{Logs: map[string]uint64{"echo": f.lastSeq("echo")}})
	f.waitText(`"n": 2`)
	// History: ↑ walks back through what was sent, ↓ returns to the draft.
	f.tm.Type(`[1,2]`)
	f.waitFor("the second message typed", func(s string) bool {
		return composerLine(s) == "› [1,2]" && strings.Contains(s, "✓ valid JSON")
	})
	f.key("enter")
	f.waitFor("the second message sent and the line cleared", func(s string) bool {
		return len(f.sent("echo")) == 2 && strings.Contains(s, "type one JSON value")
	})
	f.tm.Type(`"draft`)
	f.waitFor("the draft typed", func(s string) bool { return composerLine(s) == `› "draft` })
	for _, step := range []struct{ key, want string }{
		{"up", `› [1,2]`}, {"up", `› {"cmd": "ping", "n": 2}`}, {"up", `› {"cmd": "ping", "n": 2}`}, // the oldest stays
		{"down", `› [1,2]`}, {"down", `› "draft`},
	} {
		f.key(step.key)
		f.waitFor(step.key+" to "+step.want, func(s string) bool { return composerLine(s) == step.want })
	}
	// A history entry is sent again as it was.
	f.key("up", "enter")
	f.waitFor("the entry sent again", func(string) bool { return len(f.sent("echo")) == 3 })
	if got := f.sent("echo"); got[2] != "[1,2]" {
		t.Errorf("sent %q", got)
	}
	fm := f.quit()
	for _, c := range f.fb.Calls() {
		if strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "restart") || strings.HasPrefix(c, "signal") {
			t.Errorf("typing acted: %q", c)
		}
	}
	if fm.composer.open {
		t.Error("the composer is still open after quitting")
	}
}
