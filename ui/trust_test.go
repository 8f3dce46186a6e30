package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// hostile holds what a process, a config or a file name can smuggle in: an
// OSC 52 clipboard write, a C1 CSI (U+009B) that VTE terminals act on, a
// clear screen, a title change.
const hostile = "\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\x1b[2J\x1b]0;pwned\x1b\\\u009d0;t\x07"

// unsafeSequence returns the first thing in s that is neither text nor an
// SGR colour sequence, or "".
func unsafeSequence(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			j := i + 1
			if j < len(s) && s[j] == '[' {
				j++
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
					j++
				}
				if j < len(s) && s[j] == 'm' {
					i = j + 1
					continue
				}
			}
			return s[i:min(len(s), i+8)]
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return s[i : i+1]
		case r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return s[i : i+n]
		}
		i += n
	}
	return ""
}

func TestUnsafeSequenceChecker(t *testing.T) {
	for _, s := range []string{"\x1b]52;c;x\x07", "\u009b2J", "a\x1b[2Jb", "\x9b", "\x07"} {
		if unsafeSequence(s) == "" {
			t.Errorf("the checker let %q pass", s)
		}
	}
	if got := unsafeSequence("\x1b[1;38;2;1;2;3mok\x1b[0m 注文\n"); got != "" {
		t.Errorf("the checker refused colour: %q", got)
	}
}

// TestHostileStringsNeverReachTheFrame feeds outside text to every place
// the screen shows it: unit names (from a config), commands and reasons, a
// grandchild's name in the process tree, argv and cwd in the Stats view, an
// error quoting outside text in the status line, a search echoed back.
func TestHostileStringsNeverReachTheFrame(t *testing.T) {
	name := "evil" + hostile
	in := running(name, 4242, 1, 1<<20, 0)
	in.Command = "run" + hostile
	in.Reason = "reason" + hostile
	in.Channel = procs.ChannelConnected
	fb := newFake(in, running("api", 7, 1, 1<<20, 0))
	fb.details[name] = procs.Details{Info: in, Argv: []string{"argv" + hostile}, Cwd: "/tmp/" + hostile, PPID: 1}
	fb.errs["restart "+name] = errors.New("cannot read " + hostile)
	fb.addLines(name, procs.Stdout, "line one", "line two")
	hs := newHarness(t, fb, 120, 30)
	st := stats(fb.infos)
	us := st.Units[name]
	us.Procs = 3
	us.Tree = []procs.ProcSample{
		{PID: 4242, Name: "main", Depth: 0},
		{PID: 4243, Name: "child" + hostile, Depth: 1},
		{PID: 4244, Name: "grandchild" + hostile, Depth: 2},
	}
	st.Units[name] = us
	hs.deliver(procs.Batch{Stats: st, Logs: map[string]uint64{name: 2}})

	check := func(what string) {
		t.Helper()
		if bad := unsafeSequence(hs.m.View()); bad != "" {
			t.Fatalf("%s: the frame holds %q", what, bad)
		}
	}
	check("table and pane title")
	hs.key("l") // unfold the process tree
	if !strings.Contains(hs.screen(), "grandchild") {
		t.Fatalf("the tree did not unfold:\n%s", hs.screen())
	}
	check("process tree")
	hs.key("h")
	hs.key("3") // Stats view: argv, cwd
	if s := hs.screen(); !strings.Contains(s, "argv") || !strings.Contains(s, "/tmp/") {
		t.Fatalf("the Stats view lacks the details:\n%s", s)
	}
	check("stats view")
	hs.key("1")
	hs.key("r", "y") // the error quotes outside text (y: the unit has children)
	if !strings.Contains(hs.screen(), "cannot read") {
		t.Fatalf("the error is not shown:\n%s", hs.screen())
	}
	check("status line error")
	hs.key("!") // the signal menu names the unit
	check("signal menu")
	hs.key("esc", "tab", "/")
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("line" + hostile), Paste: true})
	hs.key("enter")
	check("search echo")
	hs.key("tab", "S") // split needs marks: the hint names the unit
	hs.key("*", "S")
	check("split")
	hs.key("S", "M")
	check("merged")
}

// A channel state the screen does not know (from a kelpie over the socket)
// is outside text in the Messages view's title too.
func TestHostileChannelStateNeverReachesTheFrame(t *testing.T) {
	in := running("api", 4242, 0, 1<<20, 0)
	in.Channel = "odd" + hostile
	hs := newHarness(t, newFake(in), 120, 40)
	hs.key("2")
	if !strings.Contains(hs.screen(), "odd") {
		t.Fatalf("the Messages view does not show the channel state:\n%s", hs.screen())
	}
	if bad := unsafeSequence(hs.m.View()); bad != "" {
		t.Fatalf("the frame holds %q", bad)
	}
}

func TestPasteIsNotKeys(t *testing.T) {
	hs := overview(t, 120, 40)
	paste := func(s string) { hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true}) }
	paste("x")
	paste("K")
	paste("q")
	for _, c := range hs.fb.Calls() {
		if strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "signal") || strings.HasPrefix(c, "shutdown") {
			t.Fatalf("a paste acted as a key: %v", hs.fb.Calls())
		}
	}
	if hs.m.shutting || !strings.Contains(hs.screen(), "paste ignored") {
		t.Fatalf("want the paste ignored, and said so:\n%s", hs.screen())
	}
	// Into the filter it types, on one line and without controls.
	hs.key("/")
	paste("wor\x1b[2J\nker")
	if got := hs.m.table.filter; got != "wor ker" {
		t.Fatalf("filter = %q after a paste", got)
	}
	hs.key("esc", "/")
	paste("work")
	if got := hs.m.table.filter; got != "work" || hs.m.table.shownUnits() == len(hs.m.table.order) {
		t.Fatalf("filter = %q showing %d units", got, hs.m.table.shownUnits())
	}
}

func TestCtrlLRedrawsTheScreen(t *testing.T) {
	var out sbuf
	scr := newScreen(&out)
	defer scr.close()
	var f tea.Model = &framed{Model: New(newFake(), Options{}), scr: scr}
	f, _ = f.Update(tea.WindowSizeMsg{Width: 20, Height: 5})
	f.View()
	scr.idle() // the writer draws from its own goroutine
	if !strings.Contains(out.String(), seqClear) {
		t.Fatalf("first frame: %q", out.String())
	}
	out.Reset()
	f, _ = f.Update(tea.KeyMsg{Type: tea.KeyCtrlL})
	f.View()
	scr.idle()
	got := out.String()
	if !strings.Contains(got, seqClear) || strings.Count(got, seqEraseLine) != 5 {
		t.Fatalf("ctrl+l drew %q: want a clear and every row", got)
	}
}

func TestStoppedUnitDoesNotSayRestarting(t *testing.T) {
	web := fixture()[2] // in backoff, "restarting in 2s"
	hs := newHarness(t, newFake(web), 100, 20)
	if s := hs.screen(); !strings.Contains(s, "restarting in") || !strings.Contains(s, "backoff 2s") {
		t.Fatalf("backoff shows no countdown:\n%s", s)
	}
	// Stopped during its backoff: the engine may keep the last reason and
	// even the time it would have restarted at.
	web.State = procs.Stopped
	hs.deliver(procs.Batch{States: []procs.Info{web}})
	s := hs.screen()
	if strings.Contains(s, "restarting") || strings.Contains(s, "backoff") {
		t.Fatalf("a stopped unit still says it restarts:\n%s", s)
	}
	if !strings.Contains(s, "exit status 1") || !strings.Contains(s, "stopped") {
		t.Fatalf("the stopped unit lost its last failure or state:\n%s", s)
	}
}

func TestPausedUnitHasItsOwnLook(t *testing.T) {
	api := running("api", 4242, 0, 1<<20, time.Minute)
	api.State = procs.Paused
	hs := newHarness(t, newFake(api, running("web", 7, 0, 1<<20, time.Minute)), 100, 20)
	s := hs.screen()
	if !strings.Contains(s, "‖ paused") || !strings.Contains(s, "‖ 1 paused") {
		t.Fatalf("no paused state in the table or the header:\n%s", s)
	}
	pal := hs.m.pal
	if pal.rows[rowNormal].state[tonePaused] == pal.rows[rowNormal].state[toneStopped] ||
		pal.rows[rowNormal].state[tonePaused] == pal.rows[rowNormal].state[toneRunning] {
		t.Fatal("paused shares a colour with stopped or running")
	}
	if _, _, tone := stateText(&api, epoch); tone != tonePaused {
		t.Fatalf("tone %v", tone)
	}
	// A paused unit can still be stopped (the engine continues it first).
	if !hs.m.keys.Stop.Enabled() {
		t.Fatal("x is off for a paused unit")
	}
}

// TestSearchStepShowsTheMatch walks n and N through matches spread over a
// long output in a short pane: each match it lands on is on screen.
func TestSearchStepShowsTheMatch(t *testing.T) {
	for _, sz := range []struct {
		w, h int
		unit string
		down int // rows down the table to the unit
	}{{80, 14, "api", 0}, {60, 12, "api", 0}, {200, 16, "api", 0}, {80, 14, "web", 2}, {70, 13, "db-migrate", 3}, {180, 12, "db-migrate", 3}} {
		fb := newFake(fixture()...)
		var texts []string
		for i := range 300 {
			if i%37 == 5 {
				texts = append(texts, fmt.Sprintf("needle %03d", i))
			} else {
				texts = append(texts, fmt.Sprintf("hay %03d %s", i, strings.Repeat("straw ", i%31)))
			}
		}
		last := fb.addLines(sz.unit, procs.Stdout, texts...)
		hs := newHarness(t, fb, sz.w, sz.h)
		hs.deliver(procs.Batch{Logs: map[string]uint64{sz.unit: last}})
		for range sz.down {
			hs.key("j")
		}
		hs.key("tab", "/")
		hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("needle")})
		hs.key("enter")
		p, b := hs.m.activePane()
		for step, k := range []string{"n", "n", "n", "N", "N", "N", "N", "N", "n", "w", "n", "n", "N"} {
			hs.key(k)
			if k == "w" {
				continue
			}
			cur := p.search.matches[p.search.cur]
			want := b.lines[cur-b.base].text
			if s := hs.screen(); !strings.Contains(s, want) {
				t.Fatalf("%s %dx%d step %d (%s): %q is not on screen:\n%s", sz.unit, sz.w, sz.h, step, k, want, s)
			}
		}
	}
}

// TestSearchStepShowsAMatchDeepInALongLine: a match far into a line that
// wraps over more rows than the pane has is brought on screen, not just
// the line's first rows.
func TestSearchStepShowsAMatchDeepInALongLine(t *testing.T) {
	fb := newFake(fixture()...)
	fb.addLines("api", procs.Stdout, "first needle here")
	for i := range 30 {
		fb.addLines("api", procs.Stdout, fmt.Sprintf("filler %d", i))
	}
	long := strings.Repeat("abcdefghij ", 150) + "NEEDLE-AT-END " + strings.Repeat("klmnop ", 10)
	fb.addLines("api", procs.Stdout, long)
	last := fb.addLines("api", procs.Stdout, "after 1", "after 2", "after 3")
	hs := newHarness(t, fb, 80, 14)
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": last}})
	hs.key("tab", "/")
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("needle")})
	hs.key("enter")
	for step, k := range []string{"N", "n", "n", "N"} {
		hs.key(k)
		p, _ := hs.m.activePane()
		want := "first needle here"
		if p.search.cur == 1 {
			want = "NEEDLE-AT-END"
		}
		if s := hs.screen(); !strings.Contains(s, want) {
			t.Fatalf("step %d (%s): %q is not on screen:\n%s", step, k, want, s)
		}
	}
}

// TestFullHelpListsEveryBindingDimmingTheOff: every key of every binding
// is on the `?` screen, whatever the selected unit's state; the ones that
// do nothing now are drawn dim, the others are not.
func TestFullHelpListsEveryBindingDimmingTheOff(t *testing.T) {
	shown := map[string]string{ // key name -> how the help writes it
		"up": "↑", "down": "↓", "left": "←", "right": "→", " ": "spc", "pgdown": "pgdn",
		"ctrl+d": "ctrl+u/d", "ctrl+z": "ctrl+l/z",
	}
	for _, unit := range []string{"api", "docs", "web"} { // running, stopped, backoff
		hs := newHarness(t, newFake(fixture()...), 200, 60)
		for selected(hs) != unit {
			hs.key("j")
		}
		hs.key("?")
		view := hs.m.View()
		text := hs.screen()
		km := DefaultKeyMap()
		for _, b := range km.all() {
			if b == &km.views || b == &km.CloseHelp {
				continue // the footer's and the `?` screen's own
			}
			if b == &km.ScaleUp || b == &km.ScaleDown || b == &km.Reload {
				continue // only where the engine can (TestClusterKeysOnlyWhereTheEngineCan)
			}
			if b == &km.StopAll {
				continue // only on an attached screen (TestAttachedHelpListsStopAll)
			}
			for _, k := range b.Keys() {
				if k == "Y" {
					continue // y's other case
				}
				want := k
				if s, ok := shown[k]; ok {
					want = s
				}
				if !strings.Contains(text, want) {
					t.Errorf("%s: help lacks key %q (%s)", unit, k, b.Help().Desc)
				}
			}
		}
		off, on := hs.m.pal.helpOff, hs.m.pal.helpKey
		entry := func(p paint, k, desc string) bool {
			return strings.Contains(view, p.on(k)+" "+p.on(desc)) || strings.Contains(view, p.on(k)+" "+hs.m.pal.helpDesc.on(desc))
		}
		switch unit {
		case "api":
			if !entry(off, "s", "start") || !entry(on, "x", "stop") || !entry(on, "K", "kill") {
				t.Errorf("api: wrong dimming of s/x/K")
			}
		case "docs":
			if !entry(on, "s", "start") || !entry(off, "x", "stop") || !entry(off, "K", "kill") || !entry(off, "!", "signal…") {
				t.Errorf("docs: wrong dimming of s/x/K/!")
			}
		case "web":
			if !entry(on, "s", "start now") || !entry(on, "x", "cancel restart") {
				t.Errorf("web: s/x not worded for backoff")
			}
		}
		// Inputs' keys do nothing while the `?` screen stands for the table.
		if !strings.Contains(view, off.on("y/n")) || !strings.Contains(view, on.on("q/ctrl+c")) {
			t.Errorf("%s: y/n not dim or q/ctrl+c dim", unit)
		}
	}
}

func TestCursorAndFoldMarksDiffer(t *testing.T) {
	if cursorMark == "▸" || cursorMark == "▾" {
		t.Fatalf("the cursor is drawn like a fold mark: %q", cursorMark)
	}
	hs := rich(t, 120, 40) // api is selected and has a folded process tree
	line := lineWith(hs.screen(), "api ")
	if !strings.HasPrefix(line, cursorMark+" ▸ api") {
		t.Fatalf("selected folded row: %q", line)
	}
	hs.key("l")
	if line := lineWith(hs.screen(), "api "); !strings.HasPrefix(line, cursorMark+" ▾ api") {
		t.Fatalf("selected unfolded row: %q", line)
	}
}

func TestHintsGoWithTheNextKey(t *testing.T) {
	hs := overview(t, 120, 40)
	hs.key("S") // nothing marked: a hint
	if !strings.Contains(statusLine(hs), "mark units with *") {
		t.Fatalf("no hint: %q", statusLine(hs))
	}
	hs.key("j") // another unit: the hint is stale
	if s := statusLine(hs); strings.TrimSpace(s) != "" {
		t.Fatalf("the hint stayed: %q", s)
	}
	// Outcomes stay their time.
	hs.key("k", "r")
	hs.key("j")
	if !strings.Contains(statusLine(hs), "restarting api") {
		t.Fatalf("an outcome went with the next key: %q", statusLine(hs))
	}
	// The filter's own keys are offered only where they work.
	hs.m.status = status{}
	hs.key("/", "w", "o", "r", "enter")
	if !strings.Contains(statusLine(hs), "esc clears") {
		t.Fatalf("filter line: %q", statusLine(hs))
	}
	hs.key("tab")
	if strings.Contains(statusLine(hs), "esc clears") {
		t.Fatalf("the filter's keys offered in the pane: %q", statusLine(hs))
	}
}

func TestHeaderNamesTheConfigAndKelpieApart(t *testing.T) {
	hs := newHarness(t, newFake(fixture()...), 120, 30)
	hs.m.opts.Title = "shop"
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 30})
	head := strings.SplitN(hs.screen(), "\n", 2)[0]
	if !strings.HasPrefix(head, "shop ") || strings.Contains(head, "shop v0.1.0") || !strings.HasSuffix(strings.TrimSpace(head), "kelpie v0.1.0") {
		t.Fatalf("header %q", head)
	}
	if !strings.Contains(hs.m.View(), hs.m.pal.dim.on("kelpie v0.1.0")) {
		t.Fatal("kelpie's version is not dim")
	}
}

func TestCommandColumnWhenThereIsRoom(t *testing.T) {
	for _, sz := range [][2]int{{160, 45}, {200, 60}, {250, 80}, {120, 40}} {
		hs := overview(t, sz[0], sz[1])
		head := strings.Split(hs.screen(), "\n")[1]
		if !strings.Contains(head, "COMMAND") || !strings.Contains(hs.screen(), "node server.js") {
			t.Errorf("%dx%d: no COMMAND column: %q", sz[0], sz[1], head)
		}
		if !strings.Contains(head, "CPU 60s") {
			t.Errorf("%dx%d: the sparkline gave way: %q", sz[0], sz[1], head)
		}
		checkFrame(t, hs.m.View(), sz[0], sz[1])
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"api":                        "api",
		"注文":                         "注文",
		"a\x1b[31mred\x1b[0m":        "ared",
		"x\x1b]52;c;aGk=\x07y":       "xy",
		"c1\u009b2J\u009dz":          "c12Jz",
		"two\nlines\r\nand\ttab\rcr": "two lines and tab cr",
		"bad\xffutf8":                "bad\ufffdutf8",
		"bel\x07del\x7f":             "beldel",
	} {
		if got := safe(in); got != want {
			t.Errorf("safe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScheduleAndListenAreMadeSafeInSetInfo: a unit's schedule (its config)
// and listen address (a cluster's) are outside text, made safe once per
// change where the row stores them: the views put them as they are.
func TestScheduleAndListenAreMadeSafeInSetInfo(t *testing.T) {
	var r unitRow
	r.setInfo(procs.Info{Name: "nightly", Schedule: "0 3 * * *" + hostile, Listen: "127.0.0.1:8080" + hostile})
	for what, s := range map[string]string{"schedule": r.info.Schedule, "listen": r.info.Listen} {
		if bad := unsafeSequence(s); bad != "" {
			t.Errorf("the row's %s holds %q", what, bad)
		}
	}
	if !strings.HasPrefix(r.info.Schedule, "0 3 * * *") || !strings.HasPrefix(r.info.Listen, "127.0.0.1:8080") {
		t.Errorf("the text itself was lost: %q, %q", r.info.Schedule, r.info.Listen)
	}
}
