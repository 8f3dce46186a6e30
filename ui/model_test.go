package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

// lastLine is the footer (the one-line help).
func footer(hs *harness) string {
	lines := strings.Split(hs.screen(), "\n")
	return lines[len(lines)-1]
}

func statusLine(hs *harness) string {
	lines := strings.Split(hs.screen(), "\n")
	return lines[len(lines)-2]
}

func selected(hs *harness) string { return hs.m.table.selectedName() }

func wantCalls(t *testing.T, fb *fakeBackend, want ...string) {
	t.Helper()
	if got := fb.Calls(); !slices.Equal(got, want) {
		t.Errorf("backend calls:\n got %q\nwant %q", got, want)
	}
}

func TestSelectionKeys(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	if got := selected(hs); got != "api" {
		t.Fatalf("first selection = %q, want api", got)
	}
	hs.key("j")
	if got := selected(hs); got != "worker" {
		t.Errorf("after j: %q, want worker", got)
	}
	hs.key("down", "down")
	if got := selected(hs); got != "db-migrate" {
		t.Errorf("after ↓↓: %q, want db-migrate", got)
	}
	hs.key("k", "up")
	if got := selected(hs); got != "worker" {
		t.Errorf("after k ↑: %q, want worker", got)
	}
	hs.key("G")
	if got := selected(hs); got != "http-2" {
		t.Errorf("after G: %q, want http-2 (the last member of the group)", got)
	}
	hs.key("j") // stays at the end
	if got := selected(hs); got != "http-2" {
		t.Errorf("j past the end: %q", got)
	}
	hs.key("g")
	if got := selected(hs); got != "api" {
		t.Errorf("after g: %q, want api", got)
	}
	// Each unit shown for the first time had its output fetched once.
	wantCalls(t, fb, "subscribe ", "tail api 2000", "tail worker 2000", "tail web 2000",
		"tail db-migrate 2000", "tail http-2 2000")
	// The cursor row is marked even without colour.
	if !strings.Contains(hs.screen(), "▌ api ") {
		t.Errorf("cursor row not marked:\n%s", hs.screen())
	}
}

func TestTableScrollsToKeepCursorVisible(t *testing.T) {
	var infos []procs.Info
	for i := range 60 {
		infos = append(infos, running(fmt.Sprintf("unit-%02d", i), 1000+i, 0, 1<<20, time.Minute))
	}
	hs := newHarness(t, newFake(infos...), 80, 24)
	hs.key("pgdown", "pgdown")
	name := selected(hs)
	if !strings.Contains(hs.screen(), "▌ "+name) {
		t.Errorf("selected %s is not on screen:\n%s", name, hs.screen())
	}
	hs.key("G")
	if !strings.Contains(hs.screen(), "▌ unit-59") {
		t.Errorf("last unit not on screen after G:\n%s", hs.screen())
	}
	hs.key("ctrl+u")
	if !strings.Contains(hs.screen(), "▌ "+selected(hs)) {
		t.Errorf("cursor lost after ctrl+u:\n%s", hs.screen())
	}
}

func TestFooterShowsOnlyApplicableKeys(t *testing.T) {
	hs := newHarness(t, newFake(fixture()...), 120, 40)
	type want struct {
		unit      string
		has, hasn []string
	}
	for _, w := range []want{
		{"api", []string{"x stop", "r restart", "K kill", "q quit", "? help", "tab output"}, []string{"s start"}},
		{"docs", []string{"s start", "r restart"}, []string{"x stop", "K kill"}},
		{"web", []string{"s start now", "x cancel restart", "r restart"}, []string{"K kill", "x stop "}},
		{"db-migrate", []string{"s start"}, []string{"x stop", "K kill"}},
		{"cron-once", []string{"s start"}, []string{"x stop", "K kill"}},
	} {
		hs.key("g")
		for selected(hs) != w.unit {
			hs.key("j")
		}
		f := footer(hs)
		for _, s := range w.has {
			if !strings.Contains(f, s) {
				t.Errorf("%s: footer %q lacks %q", w.unit, f, s)
			}
		}
		for _, s := range w.hasn {
			if strings.Contains(f, s) {
				t.Errorf("%s: footer %q shows %q", w.unit, f, s)
			}
		}
	}
	// The full help is just as true: it lists every key, and dims those
	// that do nothing now.
	hs.key("g", "?")
	screen, off, on := hs.m.View(), hs.m.pal.helpOff, hs.m.pal.helpKey
	if !strings.Contains(screen, off.on("s")+" "+off.on("start")) || !strings.Contains(screen, on.on("x")) {
		t.Errorf("full help for a running unit:\n%q", screen)
	}
	if f := footer(hs); !strings.Contains(f, "close help") || strings.Contains(f, "? help") {
		t.Errorf("footer with the help open: %q", f)
	}
	hs.key("esc")
	if strings.Contains(hs.screen(), "close help") {
		t.Error("esc did not close the help")
	}
	// In the output pane: scrolling words, and follow only when paused.
	hs.key("tab")
	if f := footer(hs); !strings.Contains(f, "tab units") || strings.Contains(f, "follow") {
		t.Errorf("output footer while following: %q", f)
	}
}

func TestFooterFitsNarrowTerminals(t *testing.T) {
	hs := newHarness(t, newFake(fixture()...), 40, 20)
	f := footer(hs)
	if w := ansi.StringWidth(f); w > 40 {
		t.Errorf("footer is %d wide: %q", w, f)
	}
	if !strings.Contains(f, "q quit") || !strings.Contains(f, "? help") {
		t.Errorf("narrow footer dropped help or quit: %q", f)
	}
}

func TestActionsCallTheBackendWithTheSelectedUnit(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	hs.key("x")
	if s := statusLine(hs); !strings.Contains(s, "stopping api") {
		t.Errorf("status after x: %q", s)
	}
	hs.key("r", "K")
	if s := statusLine(hs); !strings.Contains(s, "sent SIGKILL to api") {
		t.Errorf("status after K: %q", s)
	}
	hs.key("j", "j", "j", "j", "j") // docs, stopped
	hs.key("s")
	wantCalls(t, fb, "subscribe ", "tail api 2000", "stop api", "restart api", "signal api SIGKILL",
		"tail worker 2000", "tail web 2000", "tail db-migrate 2000", "tail cron-once 2000", "tail docs 2000",
		"start docs")
}

func TestActionErrorsGoToTheStatusLineAndClear(t *testing.T) {
	fb := newFake(fixture()...)
	fb.errs["stop api"] = fmt.Errorf("stop %q: %w", "api", procs.ErrNotRunning)
	hs := newHarness(t, fb, 80, 24)
	hs.key("x")
	if s := statusLine(hs); s != "stop api: not running" {
		t.Errorf("status = %q, want %q", s, "stop api: not running")
	}
	clears := func() []timerCall {
		var out []timerCall
		for _, tm := range hs.timers {
			if _, ok := tm.msg.(statusClearMsg); ok {
				out = append(out, tm)
			}
		}
		return out
	}
	if len(clears()) != 1 {
		t.Fatalf("want one clear timer, have %v", hs.timers)
	}
	clear1 := clears()[0]
	if clear1.d != 8*time.Second {
		t.Errorf("error clears after %v, want 8s", clear1.d)
	}
	// A newer status makes the older timer stale.
	hs.key("r")
	hs.send(clear1.msg)
	if s := statusLine(hs); !strings.Contains(s, "restarting api") {
		t.Errorf("a stale timer cleared the newer status: %q", s)
	}
	hs.send(clears()[1].msg)
	if s := statusLine(hs); s != "" {
		t.Errorf("status not cleared: %q", s)
	}
}

func TestDisabledActionExplainsItself(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	hs.key("s") // api is running
	if s := statusLine(hs); s != "start api: already running" {
		t.Errorf("status = %q", s)
	}
	wantCalls(t, fb, "subscribe ", "tail api 2000")
}

func TestQuitStopsEverythingThenQuits(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	hs.key("q")
	wantCalls(t, fb, "subscribe ", "tail api 2000", "shutdown ")
	if !hs.quit {
		t.Error("no tea.Quit after the shutdown returned")
	}
	if !hs.m.ShutdownDone() {
		t.Error("ShutdownDone is false")
	}
}

func TestQuitShowsProgressAndSecondQuitKills(t *testing.T) {
	for _, first := range []string{"q", "ctrl+c"} {
		t.Run(first, func(t *testing.T) {
			fb := newFake(fixture()...)
			fb.blockShutdown = true
			hs := newHarness(t, fb, 80, 24)
			hs.key(first)
			if hs.quit {
				t.Fatal("quit before the shutdown finished")
			}
			if s := statusLine(hs); !strings.HasPrefix(s, "stopping 5 units…") {
				t.Errorf("status = %q", s)
			}
			// The table keeps updating while units stop.
			api := fixture()[0]
			api.State, api.PID = procs.Stopped, 0
			hs.deliver(procs.Batch{States: []procs.Info{api}})
			if s := statusLine(hs); !strings.HasPrefix(s, "stopping 4 units…") {
				t.Errorf("status after api stopped = %q", s)
			}
			if !strings.Contains(hs.screen(), "▌ api               ■ stopped") {
				t.Errorf("table did not update:\n%s", hs.screen())
			}
			if f := footer(hs); strings.Contains(f, "restart") || !strings.Contains(f, "q kill all now") {
				t.Errorf("footer during shutdown: %q", f)
			}
			hs.key("q") // cancels the shutdown's context: kill the rest
			if s := statusLine(hs); !strings.HasPrefix(s, "killing 4 units") {
				t.Errorf("status = %q", s)
			}
			hs.settle()
			if !hs.quit {
				t.Error("no tea.Quit after the cancelled shutdown returned")
			}
		})
	}
}

func TestSignalQuitsLikeQ(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	hs.send(signalMsg{})
	if !hs.quit || !slices.Contains(fb.Calls(), "shutdown ") {
		t.Errorf("signal: quit=%v calls=%q", hs.quit, fb.Calls())
	}
}

// bodyText is the output pane's rows, ANSI-stripped, without the blank end.
func bodyText(hs *harness) string {
	var out []string
	for _, r := range hs.m.pane.rows {
		out = append(out, ansi.Strip(r))
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

func TestLogFetchFlowAndFollow(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	if got := bodyText(hs); got != "no output yet" {
		t.Errorf("empty pane = %q", got)
	}
	// The engine announces lines: the model reads them with Since.
	for i := range 30 {
		fb.addLines("api", procs.Stdout, fmt.Sprintf("line %d", i+1))
	}
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": 30}})
	wantCalls(t, fb, "subscribe ", "tail api 2000", "since api 0")
	if !strings.HasSuffix(bodyText(hs), "line 30") {
		t.Errorf("following pane does not end with the newest line:\n%s", bodyText(hs))
	}
	// Scrolling up in the pane leaves follow mode.
	hs.key("tab", "k", "k")
	if hs.m.pane.follow {
		t.Fatal("still following after scrolling up")
	}
	paused := bodyText(hs)
	if !strings.HasSuffix(paused, "line 28") {
		t.Errorf("after two rows up the pane ends with:\n%s", paused)
	}
	if !strings.Contains(hs.screen(), "paused · line") {
		t.Errorf("title does not say paused:\n%s", hs.screen())
	}
	if !strings.Contains(footer(hs), "G/end follow") {
		t.Errorf("footer lacks follow while paused: %q", footer(hs))
	}
	// New lines do not move a paused pane.
	fb.addLines("api", procs.Stderr, "line 31")
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": 31}})
	if got := bodyText(hs); got != paused {
		t.Errorf("paused pane moved:\n%s\nwas:\n%s", got, paused)
	}
	// G follows again; the newest line shows.
	hs.key("G")
	if !hs.m.pane.follow || !strings.HasSuffix(bodyText(hs), "line 31") {
		t.Errorf("after G: follow=%v\n%s", hs.m.pane.follow, bodyText(hs))
	}
	// Home goes to the oldest line; scrolling back down to the end follows.
	hs.key("home")
	if !strings.HasPrefix(bodyText(hs), "line 1\n") {
		t.Errorf("after home:\n%s", bodyText(hs))
	}
	hs.key("pgdown", "pgdown", "pgdown")
	if !hs.m.pane.follow {
		t.Error("scrolling to the end did not resume follow")
	}
	// A unit without new lines is not asked again.
	hs.deliver(procs.Batch{Logs: map[string]uint64{"worker": 5}})
	wantCalls(t, fb, "subscribe ", "tail api 2000", "since api 0", "since api 30")
}

func TestDroppedLinesShownOnce(t *testing.T) {
	fb := newFake(fixture()...)
	for i := range 10 {
		fb.addLines("api", procs.Stdout, fmt.Sprintf("old %d", i+1))
	}
	hs := newHarness(t, fb, 80, 24)
	for i := range 1500 {
		fb.addLines("api", procs.Stdout, fmt.Sprintf("new %d", i+1))
	}
	fb.first["api"] = 1200 // the engine's ring dropped lines 11..1200
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": 1510}})
	b := hs.m.logs.get("api")
	notes := 0
	for _, l := range b.lines {
		if l.note {
			notes++
			if l.text != "⋯ 1,190 lines dropped" {
				t.Errorf("note = %q", l.text)
			}
		}
	}
	if notes != 1 {
		t.Errorf("%d notes, want 1", notes)
	}
	fb.addLines("api", procs.Stdout, "newer")
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": 1511}})
	notes = 0
	for _, l := range b.lines {
		if l.note {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes after the next fetch, want still 1", notes)
	}
	hs.key("tab", "home")
	if !strings.Contains(bodyText(hs), "lines dropped") {
		t.Errorf("note not shown:\n%s", bodyText(hs))
	}
}

func TestOutputKeepsAtMostKeepLines(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	hs.m.opts.KeepLines = 100
	for round := range 5 {
		for i := range 70 {
			fb.addLines("api", procs.Stdout, fmt.Sprintf("r%d-%d", round, i))
		}
		hs.deliver(procs.Batch{Logs: map[string]uint64{"api": uint64(70 * (round + 1))}})
	}
	b := hs.m.logs.get("api")
	if len(b.lines) != 100 || b.lines[99].text != "r4-69" || b.have != 350 {
		t.Errorf("kept %d lines, last %q, have %d", len(b.lines), b.lines[len(b.lines)-1].text, b.have)
	}
	// Far behind (a unit shown again after a flood): the newest lines are
	// fetched with Tail rather than read through.
	for i := range 500 {
		fb.addLines("api", procs.Stdout, fmt.Sprintf("flood %d", i))
	}
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": 850}})
	calls := fb.Calls()
	if last := calls[len(calls)-1]; last != "tail api 100" {
		t.Errorf("last call = %q, want a tail", last)
	}
	if !strings.HasSuffix(bodyText(hs), "flood 499") {
		t.Errorf("pane after the flood:\n%s", bodyText(hs))
	}
}

func TestTimestampsToggle(t *testing.T) {
	fb := newFake(fixture()...)
	apiOutput(fb)
	hs := newHarness(t, fb, 120, 40)
	if strings.Contains(bodyText(hs), "11:59:") {
		t.Fatal("timestamps shown by default")
	}
	hs.key("t")
	if !strings.Contains(bodyText(hs), "11:59:23.074 listening on") {
		t.Errorf("no timestamps after t:\n%s", bodyText(hs))
	}
}

func TestStateChangesAndRemovals(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	hs.key("j") // worker
	w := fixture()[1]
	w.State, w.PID, w.ExitCode, w.Signal = procs.Crashed, 0, nil, "SIGSEGV"
	w.ExitedAt = epoch
	w.Reason = "killed by SIGSEGV"
	newUnit := running("late", 7000, 1, 1<<20, time.Second)
	hs.deliver(procs.Batch{States: []procs.Info{w, newUnit}, Removed: []string{"api"}})
	s := hs.screen()
	if strings.Contains(s, "▌ api") || !strings.Contains(s, "late") || !strings.Contains(s, "✖ crashed SIGSEGV") {
		t.Errorf("screen after changes:\n%s", s)
	}
	if got := selected(hs); got != "worker" {
		t.Errorf("selection moved to %q", got)
	}
	if !strings.Contains(s, "killed by SIGSEGV") {
		t.Errorf("reason not shown:\n%s", s)
	}
	if hs.m.logs.get("api") != nil {
		t.Error("removed unit's output still kept")
	}
	// Removing the selected unit moves the cursor to a neighbour.
	hs.deliver(procs.Batch{Removed: []string{"worker"}})
	if got := selected(hs); got == "" || got == "worker" {
		t.Errorf("selection after removal: %q", got)
	}
}

func TestBackoffCountdownTicksOnlyWhileNeeded(t *testing.T) {
	now := epoch
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	hs.m.opts.Now = func() time.Time { return now }
	if len(hs.timers) != 1 {
		t.Fatalf("timers = %v, want the countdown's", hs.timers)
	}
	tm := hs.timers[0]
	if _, ok := tm.msg.(clockMsg); !ok || tm.d != 801*time.Millisecond {
		t.Errorf("timer = %v after %v, want a clockMsg after 801ms (1.8s left shows 2s until 1s left)", tm.msg, tm.d)
	}
	if !strings.Contains(hs.screen(), "◌ backoff 2s") {
		t.Error("countdown missing")
	}
	now = now.Add(tm.d)
	hs.send(tm.msg)
	if !strings.Contains(hs.screen(), "◌ backoff 1s") {
		t.Errorf("countdown did not advance:\n%s", hs.screen())
	}
	// Once nothing is in backoff, no timer is armed.
	web := fixture()[2]
	web.State, web.PID, web.StartedAt, web.NextStart, web.Reason = procs.Running, 4300, now, time.Time{}, ""
	hs.timers = nil
	hs.deliver(procs.Batch{States: []procs.Info{web}})
	hs.send(hs.timersOrNil())
	for _, tm := range hs.timers {
		if _, ok := tm.msg.(clockMsg); ok {
			t.Errorf("clock armed with nothing in backoff: %v", tm)
		}
	}
}

// timersOrNil fires the pending clock timer, if any, so the test sees what
// it re-arms.
func (hs *harness) timersOrNil() tea.Msg {
	for i, tm := range hs.timers {
		if m, ok := tm.msg.(clockMsg); ok {
			hs.timers = append(hs.timers[:i], hs.timers[i+1:]...)
			return m
		}
	}
	return nil
}

func TestStatsUpdateTableAndHeader(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	st := stats(fixture())
	st.Units["api"] = procs.UnitStats{CPU: 150, RSS: 3 << 30}
	st.Units["docs"] = procs.UnitStats{CPU: 50} // stopped: ignored
	hs.deliver(procs.Batch{Stats: st})
	s := hs.screen()
	if !strings.Contains(s, "  150    3.0G") {
		t.Errorf("api's row lacks the new stats:\n%s", s)
	}
	if !strings.Contains(s, "0.4% 23.0M") {
		t.Errorf("header lacks kelpie's own use:\n%s", strings.SplitN(s, "\n", 2)[0])
	}
	if !strings.Contains(s, "cpu 194%") {
		t.Errorf("header total cpu:\n%s", strings.SplitN(s, "\n", 2)[0])
	}
}

func TestEngineShutdownFromOutsideQuits(t *testing.T) {
	// `kelpie down` or a signal stopped the engine: the screen goes too,
	// so the `down` client (waiting for kelpie to exit) returns.
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	fb.sub.Close()
	hs.send(<-hs.next)
	hs.next = nil
	if !hs.quit {
		t.Error("no tea.Quit after the engine shut down")
	}
}

func TestLostEventsAreReported(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	hs.send(subEndMsg{err: errors.New("connection reset")})
	if s := statusLine(hs); !strings.Contains(s, "lost the engine's events: connection reset") {
		t.Errorf("status = %q", s)
	}
}

func TestActionErrorIsNotLost(t *testing.T) {
	fb := newFake(fixture()...)
	fb.errs["restart api"] = errors.New("supervisor is shut down")
	hs := newHarness(t, fb, 80, 24)
	hs.key("r")
	if s := statusLine(hs); s != "restart api: supervisor is shut down" {
		t.Errorf("status = %q", s)
	}
}

func TestKeysTypedFastAreSeparatePresses(t *testing.T) {
	hs := newHarness(t, newFake(fixture()...), 80, 24)
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjj")})
	if got := selected(hs); got != "db-migrate" {
		t.Errorf("after \"jjj\": %q, want db-migrate", got)
	}
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("qq"), Paste: true})
	if hs.m.shutting {
		t.Error("pasted text acted as keys")
	}
}

// A log batch that changes nothing visible builds no frame: announcements
// of a flooding unit that is not on screen cost no render, while a batch
// with a state change or a stats tick still draws (the table shows them).
func TestLogBatchOfUnshownUnitBuildsNoFrame(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	if selected(hs) != "api" {
		t.Fatalf("selected %q", selected(hs))
	}
	before, frame := hs.m.renders, hs.m.View()
	for i := range 1000 {
		seq := fb.addLines("worker", procs.Stdout, fmt.Sprintf("flood %d", i))
		hs.deliver(procs.Batch{Logs: map[string]uint64{"worker": seq}})
	}
	if n := hs.m.renders - before; n != 0 {
		t.Errorf("1,000 batches of an unshown unit's lines built %d frames, want 0", n)
	}
	if hs.m.View() != frame {
		t.Error("the frame changed")
	}
	worker := fixture()[1]
	worker.Restarts++
	hs.deliver(procs.Batch{States: []procs.Info{worker}})
	hs.deliver(procs.Batch{Stats: &procs.Stats{Time: epoch}})
	if n := hs.m.renders - before; n != 2 {
		t.Errorf("a state change and a stats tick built %d frames, want 2", n)
	}
	// A batch of the shown unit's lines builds one frame: the lines come
	// through the pane's cursor, the announcement itself draws nothing.
	before = hs.m.renders
	seq := fb.addLines("api", procs.Stdout, "api line")
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": seq}})
	if n := hs.m.renders - before; n != 1 || !strings.HasSuffix(bodyText(hs), "api line") {
		t.Errorf("a batch of the shown unit's lines built %d frames, want 1; pane:\n%s", n, bodyText(hs))
	}
}
