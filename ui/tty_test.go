package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
	vt "github.com/kelpie-dev/kelpie/vterm"
)

// ttyFake is a backend with a tty unit, shell (selected first), and a
// plain one, api.
func ttyFake() *fakeBackend {
	sh := running("shell", 4300, 0.1, 4<<20, time.Minute)
	sh.TTY, sh.Command, sh.Title = true, "bash -i", "bash"
	api := running("api", 4242, 12.5, 48<<20, time.Hour)
	fb := newFake(sh, api)
	fb.setScreen("shell", procs.Screen{
		Snapshot: vt.Snapshot{
			Cols: 80, Rows: 24,
			Lines:   []string{"\x1b[0;1;31mred\x1b[m text", "$ ls", "", ""},
			CursorX: 4, CursorY: 1, CursorVisible: true,
		},
		Title: "vim — main.go",
	})
	return fb
}

// ttyTimers are the refresh ticks armed so far, oldest first.
func ttyTimers(hs *harness) []timerCall {
	var out []timerCall
	for _, tm := range hs.timers {
		if _, ok := tm.msg.(ttyTickMsg); ok {
			out = append(out, tm)
		}
	}
	return out
}

// fireTick fires the newest refresh tick and returns its delay.
func fireTick(t *testing.T, hs *harness) time.Duration {
	t.Helper()
	ticks := ttyTimers(hs)
	if len(ticks) == 0 {
		t.Fatal("no refresh tick armed")
	}
	tm := ticks[len(ticks)-1]
	hs.timers = slices.DeleteFunc(hs.timers, func(c timerCall) bool { return c == tm })
	hs.send(tm.msg)
	return tm.d
}

func (f *fakeBackend) reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.screenReads
}

func (f *fakeBackend) keysOf(name string) []vt.Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.keys[name])
}

func callsOf(fb *fakeBackend, op string) []string {
	var out []string
	for _, c := range fb.Calls() {
		if strings.HasPrefix(c, op+" ") {
			out = append(out, c)
		}
	}
	return out
}

func TestTTYPaneDrawsScreenWithColoursAndCursor(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	if selected(hs) != "shell" {
		t.Fatalf("selected %q, want shell", selected(hs))
	}
	scr := hs.screen()
	for _, want := range []string{"red text", "$ ls", "shell “vim — main.go”", "terminal · 80×24"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the pane lacks %q:\n%s", want, scr)
		}
	}
	raw := hs.m.View()
	if !strings.Contains(raw, "\x1b[0;1;31mred") {
		t.Errorf("the screen's colours are lost:\n%q", raw)
	}
	// The cursor: the cell after "$ ls" in reverse video.
	if !strings.Contains(raw, "$ ls\x1b[0m\x1b[7m \x1b[0m") {
		t.Errorf("no cursor after $ ls:\n%q", raw)
	}
	// The cursor moves: the row it left is drawn without it.
	s, _ := fb.Screen("shell")
	s.CursorX, s.CursorY = 0, 0
	fb.setScreen("shell", s)
	fireTick(t, hs)
	raw = hs.m.View()
	if strings.Count(raw, "\x1b[7m") != 1 || !strings.Contains(raw, "\x1b[7mr\x1b[0m") {
		t.Errorf("the cursor did not move to the first cell:\n%q", raw)
	}
	if strings.Contains(raw, "$ ls\x1b[0m\x1b[7m") {
		t.Error("the cursor stays drawn on the row it left")
	}
	// A hidden cursor is not drawn.
	s.CursorVisible = false
	fb.setScreen("shell", s)
	fireTick(t, hs)
	if strings.Contains(hs.m.View(), "\x1b[7m") {
		t.Error("a hidden cursor is drawn")
	}
	// The log lines are not followed for a tty unit: its screen is shown.
	if n := len(callsOf(fb, "tail")); n != 0 {
		t.Errorf("the tty unit's log was read %d times", n)
	}
	checkFrame(t, hs.m.View(), 100, 30)
}

func TestTTYPaneCropsToThePaneAndKeepsTheCursorInView(t *testing.T) {
	fb := ttyFake()
	lines := make([]string, 24)
	for i := range lines {
		lines[i] = strings.Repeat(string(rune('a'+i%26)), 120)
	}
	fb.setScreen("shell", procs.Screen{Snapshot: vt.Snapshot{Cols: 120, Rows: 24, Lines: lines, CursorX: 3, CursorY: 23, CursorVisible: true}})
	hs := newHarness(t, fb, 60, 20)
	checkFrame(t, hs.m.View(), 60, 20)
	if scr := hs.screen(); !strings.Contains(scr, "xxx") || strings.Contains(scr, "aaaa") {
		t.Errorf("the pane should show the screen's bottom rows, where the cursor is:\n%s", scr)
	}
}

func TestTTYHostileScreenNeverReachesTheFrame(t *testing.T) {
	fb := ttyFake()
	fb.setScreen("shell", procs.Screen{
		Snapshot: vt.Snapshot{Cols: 80, Rows: 24, Lines: []string{
			"\x1b]0;pwned\x07title",
			"\x1b]52;c;ZXZpbA==\x07clip",
			"\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
			"\u009b2J c1 \u009d0;x\u009c",
			"\x1bP+q544e\x1b\\dcs \x1b[2J\x1b[6n\x1b[?1049l",
			"ok \x1b[0;32mgreen\x1b[m",
		}},
		Title: "\x1b]0;evil\x07\u009b31mtitle\r\n",
	})
	hs := newHarness(t, fb, 100, 30)
	raw := hs.m.View()
	for i, line := range strings.Split(raw, "\n") {
		if !termClean(line) {
			t.Errorf("line %d holds more than text and SGR: %q", i, line)
		}
	}
	for _, bad := range []string{"\x1b]", "\x1bP", "\x1b[2J", "\x1b[6n", "\x1b[?1049", "\u009b", "\u009d", "\u009c", "\a", "\r"} {
		if strings.Contains(raw, bad) {
			t.Errorf("the frame holds %q", bad)
		}
	}
	if !strings.Contains(raw, "\x1b[0;32mgreen") {
		t.Error("SGR colour was lost with the rest")
	}
}

func TestTypingModeSendsEveryKeyInOrder(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	if f := footer(hs); !strings.Contains(f, "i type") {
		t.Errorf("the footer does not offer typing: %q", f)
	}
	hs.key("i")
	if f := footer(hs); !strings.Contains(f, "typing into shell — ctrl+a to leave") {
		t.Fatalf("footer %q does not say typing mode is on", f)
	}
	keys := []tea.KeyMsg{
		{Type: tea.KeyRunes, Runes: []rune("l")},
		{Type: tea.KeyRunes, Runes: []rune("s é")}, // typed faster than read
		{Type: tea.KeyEnter},
		{Type: tea.KeyUp}, {Type: tea.KeyCtrlShiftLeft}, {Type: tea.KeyHome}, {Type: tea.KeyPgDown},
		{Type: tea.KeyF5}, {Type: tea.KeyF12}, {Type: tea.KeyTab}, {Type: tea.KeyShiftTab},
		{Type: tea.KeyBackspace}, {Type: tea.KeyDelete}, {Type: tea.KeyEsc},
		{Type: tea.KeyCtrlC}, {Type: tea.KeyCtrlL}, {Type: tea.KeyCtrlZ}, {Type: tea.KeyCtrlBackslash},
		{Type: tea.KeyRunes, Runes: []rune("x"), Alt: true},
		{Type: tea.KeyRunes, Runes: []rune("q")}, // not quit: the child's
		{Type: tea.KeySpace, Runes: []rune(" ")},
	}
	for _, k := range keys {
		hs.send(k)
	}
	want := []vt.Key{
		{Rune: 'l'}, {Text: "s é"}, {Code: vt.KeyEnter},
		{Code: vt.KeyUp}, {Code: vt.KeyLeft, Ctrl: true, Shift: true}, {Code: vt.KeyHome}, {Code: vt.KeyPageDown},
		{Code: vt.KeyF5}, {Code: vt.KeyF12}, {Code: vt.KeyTab}, {Code: vt.KeyTab, Shift: true},
		{Code: vt.KeyBackspace}, {Code: vt.KeyDelete}, {Code: vt.KeyEsc},
		{Rune: 'c', Ctrl: true}, {Rune: 'l', Ctrl: true}, {Rune: 'z', Ctrl: true}, {Rune: '\\', Ctrl: true},
		{Rune: 'x', Alt: true}, {Rune: 'q'}, {Code: vt.KeySpace},
	}
	if got := fb.keysOf("shell"); !slices.Equal(got, want) {
		t.Errorf("keys sent:\n%v\nwant\n%v", got, want)
	}
	if hs.quit || hs.m.shutting {
		t.Fatal("a key typed into the child quit kelpie")
	}
	// ctrl+a leaves; the next key is kelpie's again.
	hs.send(tea.KeyMsg{Type: tea.KeyCtrlA})
	if f := footer(hs); strings.Contains(f, "typing") || !strings.Contains(f, "i type") {
		t.Errorf("after ctrl+a the footer is %q", f)
	}
	n := len(fb.keysOf("shell"))
	hs.key("3")
	if len(fb.keysOf("shell")) != n || hs.m.view != viewStats {
		t.Error("a key after ctrl+a went to the child")
	}
}

func TestTypingCtrlATwiceSendsOneCtrlA(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.key("tab", "enter") // enter on the focused pane types too
	if !hs.m.tty.typing.on {
		t.Fatal("enter on the tty pane did not start typing mode")
	}
	hs.send(tea.KeyMsg{Type: tea.KeyCtrlA})
	hs.send(tea.KeyMsg{Type: tea.KeyCtrlA})
	if got, want := fb.keysOf("shell"), []vt.Key{{Rune: 'a', Ctrl: true}}; !slices.Equal(got, want) {
		t.Errorf("ctrl+a ctrl+a sent %v, want %v", got, want)
	}
	if !hs.m.tty.typing.on || !strings.Contains(footer(hs), "typing into shell") {
		t.Error("ctrl+a ctrl+a left typing mode")
	}
	hs.key("k")
	if got := fb.keysOf("shell"); len(got) != 2 || got[1] != (vt.Key{Rune: 'k'}) {
		t.Errorf("keys after ctrl+a ctrl+a: %v", got)
	}
}

func TestTypingKeysQueueWhileASendIsRunning(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.key("i")
	release := make(chan struct{})
	fb.mu.Lock()
	fb.blockKeys = release
	fb.mu.Unlock()
	hs.key("a") // parks in Keys
	if len(hs.parked) != 1 {
		t.Fatalf("parked %d sends, want 1", len(hs.parked))
	}
	hs.key("b", "c")
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("pasted\ntext"), Paste: true})
	hs.key("d")
	if len(hs.parked) != 1 {
		t.Fatalf("a second send started while one runs (%d parked)", len(hs.parked))
	}
	fb.mu.Lock()
	fb.blockKeys = nil
	fb.mu.Unlock()
	close(release)
	hs.settle()
	if got, want := fb.keysOf("shell"), []vt.Key{{Rune: 'a'}, {Rune: 'b'}, {Rune: 'c'}, {Rune: 'd'}}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	// One send for a, then one for all that queued meanwhile, in order:
	// keys b c, the paste, key d.
	var ops []string
	for _, c := range fb.Calls() {
		if strings.HasPrefix(c, "keys ") || strings.HasPrefix(c, "paste ") {
			ops = append(ops, c)
		}
	}
	if want := []string{"keys shell 1", "keys shell 2", "paste shell", "keys shell 1"}; !slices.Equal(ops, want) {
		t.Errorf("sends %q, want %q", ops, want)
	}
	if got := fb.pastes["shell"]; len(got) != 1 || got[0] != "pasted\ntext" {
		t.Errorf("pastes %q", got)
	}
}

func TestTypingPasteGoesAsOnePaste(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.key("i")
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("echo hi\nx"), Paste: true})
	if got := fb.pastes["shell"]; !slices.Equal(got, []string{"echo hi\nx"}) {
		t.Errorf("pastes %q", got)
	}
	if n := len(fb.keysOf("shell")); n != 0 {
		t.Errorf("a paste became %d key presses", n)
	}
	if hs.m.shutting || len(callsOf(fb, "stop")) > 0 {
		t.Error("a pasted x acted on the unit")
	}
}

func TestTypingEndsWhenTheUnitGoesAway(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.key("i")
	plain := hs.m.table.byName["shell"].info
	plain.TTY = false
	hs.deliver(procs.Batch{States: []procs.Info{plain}})
	if hs.m.tty.typing.on || strings.Contains(footer(hs), "typing into") {
		t.Error("typing mode outlived the unit's terminal")
	}
	if s := statusLine(hs); !strings.Contains(s, "typing mode ended") {
		t.Errorf("status %q does not say typing ended", s)
	}

	fb = ttyFake()
	hs = newHarness(t, fb, 100, 30)
	hs.key("i")
	hs.deliver(procs.Batch{Removed: []string{"shell"}})
	if hs.m.tty.typing.on {
		t.Error("typing mode outlived the unit")
	}
	hs.key("x") // a plain key again: stop the unit now selected
	if len(fb.keysOf("shell")) != 0 {
		t.Error("a key went to a unit that is gone")
	}
}

func TestTTYResizeSentOncePerChange(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	first := callsOf(fb, "resize")
	if len(first) != 1 {
		t.Fatalf("resizes %q, want one at once", first)
	}
	// Frames that do not change the pane's size send nothing.
	hs.key("tab", "tab", "3", "1")
	hs.deliver(procs.Batch{Stats: &procs.Stats{Time: epoch}})
	if got := callsOf(fb, "resize"); len(got) != 1 {
		t.Fatalf("resizes %q without a size change", got)
	}
	// A burst of sizes: one resize, the last, after the debounce.
	hs.send(tea.WindowSizeMsg{Width: 110, Height: 32})
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	var timers []timerCall
	for _, tm := range hs.timers {
		if _, ok := tm.msg.(ttyResizeMsg); ok {
			timers = append(timers, tm)
		}
	}
	if len(timers) != 1 || timers[0].d != ttyResizeDelay {
		t.Fatalf("debounce timers %v, want one", timers)
	}
	if got := callsOf(fb, "resize"); len(got) != 1 {
		t.Fatalf("resized before the debounce: %q", got)
	}
	hs.send(timers[0].msg)
	got := callsOf(fb, "resize")
	if len(got) != 2 || got[1] == got[0] || !strings.HasPrefix(got[1], "resize shell 120x") {
		t.Fatalf("resizes %q, want a second one at 120 columns", got)
	}
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	hs.send(timers[0].msg) // stale
	if n := len(callsOf(fb, "resize")); n != 2 {
		t.Errorf("%d resizes, want 2", n)
	}
}

func TestTTYRefreshBacksOffAndStopsWhenHidden(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	if fb.reads() == 0 {
		t.Fatal("the screen was never read")
	}
	// An unchanged screen: the waits (probing after the first resize)
	// double up to ttyIdle, and no frame is built.
	frames := hs.m.renders
	var waits []time.Duration
	for range 10 {
		waits = append(waits, fireTick(t, hs))
	}
	if hs.m.renders != frames {
		t.Errorf("an unchanged screen built %d frames", hs.m.renders-frames)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] != min(2*waits[i-1], ttyIdle) {
			t.Fatalf("waits %v do not double up to %v", waits, ttyIdle)
		}
	}
	if waits[len(waits)-1] != ttyIdle {
		t.Errorf("waits %v never reach %v", waits, ttyIdle)
	}
	// A change is drawn; changes halve the wait, down to the pace.
	s, _ := fb.Screen("shell")
	for i := range 6 {
		s.Lines[2] = "new " + strings.Repeat("!", i)
		fb.setScreen("shell", s)
		fireTick(t, hs)
		if !strings.Contains(hs.screen(), s.Lines[2]) {
			t.Fatalf("change %d was not drawn:\n%s", i, hs.screen())
		}
		d := ttyTimers(hs)[len(ttyTimers(hs))-1].d
		if want := max(ttyIdle>>(i+1), ttyPace); d != want {
			t.Errorf("after change %d the next fetch waits %v, want %v", i, d, want)
		}
	}
	// Output of the unit (its log grew) asks within the pace.
	// The pane hidden (another unit selected): ticks fetch nothing.
	hs.key("j")
	if selected(hs) != "api" {
		t.Fatalf("selected %q", selected(hs))
	}
	reads := fb.reads()
	for _, tm := range ttyTimers(hs) {
		hs.send(tm.msg)
	}
	if fb.reads() != reads {
		t.Error("a hidden tty pane's screen was read")
	}
}

func TestTTYOutputAsksForTheScreenWithinThePace(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	for fireTick(t, hs) < ttyIdle { // back off to ttyIdle
	}
	hs.timers = nil
	hs.deliver(procs.Batch{Logs: map[string]uint64{"shell": 7}})
	ticks := ttyTimers(hs)
	if len(ticks) != 1 || ticks[0].d != ttyPace {
		t.Fatalf("after output: ticks %v, want one in %v", ticks, ttyPace)
	}
	// More output before the tick arms nothing more.
	hs.deliver(procs.Batch{Logs: map[string]uint64{"shell": 9}})
	if n := len(ttyTimers(hs)); n != 1 {
		t.Errorf("%d ticks armed for two batches", n)
	}
}

func TestTTYScrollbackScrollsAndEndReturnsLive(t *testing.T) {
	fb := ttyFake()
	s, _ := fb.Screen("shell")
	s.Scrollback = 100
	fb.setScreen("shell", s)
	for i := range 100 {
		fb.scrollback["shell"] = append(fb.scrollback["shell"], "old line "+strings.Repeat("·", i%3)+string(rune('A'+i%26)))
	}
	hs := newHarness(t, fb, 100, 30)
	hs.key("tab", "pgup")
	if len(callsOf(fb, "scrollback")) == 0 {
		t.Fatal("pgup read no scrollback")
	}
	scr := hs.screen()
	if !strings.Contains(scr, "old line") || !strings.Contains(scr, "scrollback · line") {
		t.Errorf("pgup does not show the scrollback:\n%s", scr)
	}
	if strings.Contains(hs.m.View(), "\x1b[7m") {
		t.Error("the cursor is drawn over the scrollback")
	}
	hs.key("g")
	if scr := hs.screen(); !strings.Contains(scr, "old line A") || !strings.Contains(scr, "line 1/100") {
		t.Errorf("g does not go to the oldest line:\n%s", scr)
	}
	hs.key("G")
	if scr := hs.screen(); strings.Contains(scr, "old line") || !strings.Contains(scr, "$ ls") {
		t.Errorf("G does not return to the live screen:\n%s", scr)
	}
}

func TestTTYErrorsAreSaid(t *testing.T) {
	fb := ttyFake()
	fb.errs["keys shell"] = errors.New("not running")
	hs := newHarness(t, fb, 100, 30)
	hs.key("i", "a")
	if s := statusLine(hs); !strings.Contains(s, "typing into shell: not running") {
		t.Errorf("status %q", s)
	}
}

func TestNonTTYUnitsAskNoTerminal(t *testing.T) {
	fb := newFake(fixture()...)
	apiOutput(fb)
	hs := newHarness(t, fb, 120, 40)
	hs.key("j", "j", "tab", "i", "k")
	if fb.reads() != 0 || len(callsOf(fb, "resize")) != 0 || len(callsOf(fb, "keys")) != 0 {
		t.Errorf("a plain unit's pane used the terminal calls: %d reads, %q", fb.reads(), fb.Calls())
	}
	if hs.m.tty.typing.on {
		t.Error("i started typing mode on a plain unit")
	}
}

func TestTypingEndsWhenTheChildEnds(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.key("i", "q") // q quits the child (htop, less...)
	ended := hs.m.table.byName["shell"].info
	ended.State, ended.PID, ended.ExitCode = procs.Exited, 0, intp(0)
	hs.deliver(procs.Batch{States: []procs.Info{ended}})
	if hs.m.tty.typing.on {
		t.Fatal("typing mode outlived the child")
	}
	if s := statusLine(hs); !strings.Contains(s, "typing mode ended: shell is exited") {
		t.Errorf("status %q", s)
	}
	hs.key("i")
	if hs.m.tty.typing.on {
		t.Error("i typed into a child that has ended")
	}
}

// TestTypingStartedMidRunTakesTheRest: keys typed faster than the terminal
// is read arrive as one message; those after i are the child's, not lost.
func TestTypingStartedMidRunTakesTheRest(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("iqx")})
	if got, want := fb.keysOf("shell"), []vt.Key{{Rune: 'q'}, {Rune: 'x'}}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if hs.m.shutting || len(callsOf(fb, "stop")) > 0 {
		t.Error("a key after i acted on kelpie")
	}
}

// TestTTYHelpListsTypingAndKeepsTheScreen: with a tty unit the `?` screen
// lists typing mode and still fits 80x24; closing it shows the last screen
// at once, not "loading…".
func TestTTYHelpListsTypingAndKeepsTheScreen(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 80, 24)
	hs.key("?")
	checkFrame(t, hs.m.View(), 80, 24)
	for _, want := range []string{"i/enter", "type into tty", "ctrl+a", "stop typing"} {
		if !strings.Contains(hs.screen(), want) {
			t.Errorf("help lacks %q:\n%s", want, hs.screen())
		}
	}
	reads := fb.reads()
	hs.key("esc")
	if scr := hs.screen(); strings.Contains(scr, "loading") || !strings.Contains(scr, "$ ls") {
		t.Errorf("after help the pane shows:\n%s", scr)
	}
	if fb.reads() == reads {
		t.Error("the screen was not read again after help")
	}
}

// TestTypingIntoAStoppedUnitIsExplained: i on a tty unit that is not
// running says why nothing happens.
func TestTypingIntoAStoppedUnitIsExplained(t *testing.T) {
	fb := ttyFake()
	fb.infos[0].State, fb.infos[0].PID, fb.infos[0].ExitCode = procs.Exited, 0, intp(0)
	hs := newHarness(t, fb, 100, 30)
	hs.key("i")
	if hs.m.tty.typing.on {
		t.Fatal("typing into a unit that is not running")
	}
	if s := statusLine(hs); !strings.Contains(s, "type into shell: it is exited (s starts it)") {
		t.Errorf("status %q", s)
	}
	// The wheel scrolls the terminal's scrollback too.
	s, _ := fb.Screen("shell")
	s.Scrollback = 10
	fb.setScreen("shell", s)
	fb.scrollback["shell"] = strings.Split("a b c d e f g h i j", " ")
	for tk := ttyTimers(hs); len(tk) > 0; tk = nil {
		fireTick(t, hs)
	}
	hs.key("@")
	hs.send(tea.MouseMsg{X: 5, Y: hs.m.lay.paneY + 3, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if !hs.m.tty.back || !strings.Contains(hs.screen(), "scrollback") {
		t.Errorf("the wheel did not scroll the terminal:\n%s", hs.screen())
	}
}

// Two screens attached to one kelpie show the same tty unit at different
// sizes: the one typing into it gives it its size back (once per fetched
// screen, not per key), as tmux gives a window to its latest client.
func TestTTYTypingReclaimsTheSize(t *testing.T) {
	fb := ttyFake()
	fb.sizeScreens = true
	hs := newHarness(t, fb, 100, 30)
	ours := callsOf(fb, "resize")
	if len(ours) != 1 {
		t.Fatalf("resizes %q, want one at once", ours)
	}
	hs.key("i")
	hs.key("a")
	if got := callsOf(fb, "resize"); len(got) != 1 {
		t.Fatalf("typing at our own size resized: %q", got)
	}
	// Another screen sizes the unit to 70x20; this one fetches that.
	if err := fb.Resize("shell", 70, 20); err != nil {
		t.Fatal(err)
	}
	hs.send(ttyTimers(hs)[len(ttyTimers(hs))-1].msg)
	if hs.m.tty.scr.Cols != 70 {
		t.Fatalf("the fetched screen is %dx%d, want the other screen's 70x20", hs.m.tty.scr.Cols, hs.m.tty.scr.Rows)
	}
	hs.key("b")
	hs.key("c")
	got := callsOf(fb, "resize")
	if len(got) != 3 || got[2] != ours[0] {
		t.Fatalf("resizes %q, want ours (%q) sent again once", got, ours[0])
	}
}

// TestTTYEnterIsThePanesKey: enter types into a tty unit only where its
// pane has the keyboard, by the pane's own binding: the root's Type key is
// i alone, whatever has the focus, and enter on the table does not type.
// On a stopped unit the pane's enter is explained as i is.
func TestTTYEnterIsThePanesKey(t *testing.T) {
	fb := ttyFake()
	hs := newHarness(t, fb, 100, 30)
	hs.key("enter")
	if hs.m.tty.typing.on {
		t.Fatal("enter on the table started typing mode")
	}
	hs.key("tab")
	if got := hs.m.keys.Type.Keys(); !slices.Equal(got, []string{"i"}) {
		t.Errorf("root Type keys with the pane focused: %q, want only i", got)
	}
	if !hs.m.tty.enter.Enabled() {
		t.Fatal("the tty pane's enter is off on a running unit's focused pane")
	}
	hs.key("enter")
	if !hs.m.tty.typing.on {
		t.Fatal("enter on the tty pane did not start typing mode")
	}

	fb = ttyFake()
	fb.infos[0].State, fb.infos[0].PID, fb.infos[0].ExitCode = procs.Exited, 0, intp(0)
	hs = newHarness(t, fb, 100, 30)
	hs.key("tab")
	if hs.m.tty.enter.Enabled() {
		t.Error("the tty pane's enter is on for a stopped unit")
	}
	hs.key("enter")
	if hs.m.tty.typing.on {
		t.Fatal("typing into a unit that is not running")
	}
	if s := statusLine(hs); !strings.Contains(s, "type into shell: it is exited (s starts it)") {
		t.Errorf("status %q", s)
	}
}
