package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

// visibleNames lists the table's lines: unit names, and "pid:comm" for the
// processes of an unfolded tree.
func visibleNames(hs *harness) []string {
	var out []string
	for _, v := range hs.m.table.visible {
		if v.proc >= 0 {
			p := v.u.tree[v.proc]
			out = append(out, fmt.Sprintf("%d:%s", p.PID, p.Name))
			continue
		}
		out = append(out, v.u.info.Name)
	}
	return out
}

func wantNames(t *testing.T, hs *harness, want ...string) {
	t.Helper()
	if got := visibleNames(hs); !slices.Equal(got, want) {
		t.Errorf("table lines:\n got %q\nwant %q", got, want)
	}
}

func TestFilterFlow(t *testing.T) {
	hs := rich(t, 120, 40)
	hs.key("/", "H", "t", "T", "p", "-")
	// Live as typed, case-insensitive, on names: the group row stays as
	// the members' context.
	wantNames(t, hs, "http-cluster", "http-1", "http-2")
	if s := statusLine(hs); !strings.Contains(s, "/HtTp-") || !strings.Contains(s, "3 of 10 units") {
		t.Errorf("status while typing: %q", s)
	}
	if f := footer(hs); !strings.Contains(f, "enter keep filter") || !strings.Contains(f, "esc clear filter") {
		t.Errorf("footer while typing: %q", f)
	}
	// Keys typed into the filter are not actions: "x" is text, not stop.
	hs.key("x")
	if slices.Contains(hs.fb.Calls(), "stop api") || slices.Contains(hs.fb.Calls(), "stop http-cluster") {
		t.Error("a key typed into the filter acted")
	}
	hs.key("backspace", "enter") // the x goes again
	if s := statusLine(hs); !strings.Contains(s, "filter “http-”: 3 of 10 units") {
		t.Errorf("status with the filter kept: %q", s)
	}
	if got := selected(hs); got != "http-cluster" {
		t.Errorf("selection after filtering = %q", got)
	}
	// The filter matches states and commands too.
	hs.key("/", "ctrl+u")
	hs.key(strings.Split("crashed", "")...)
	hs.key("enter")
	wantNames(t, hs, "db-migrate")
	hs.key("/", "ctrl+u")
	hs.key(strings.Split("echo.js", "")...)
	hs.key("enter")
	wantNames(t, hs, "echo")
	// Nothing matches: the table says so.
	hs.key("/", "ctrl+u", "z", "z", "z")
	if !strings.Contains(hs.screen(), "no unit matches “zzz”") {
		t.Errorf("empty filter result:\n%s", hs.screen())
	}
	// esc while typing clears it; esc in the table clears a kept one.
	hs.key("esc")
	if len(visibleNames(hs)) != 10 {
		t.Errorf("esc did not clear the filter: %q", visibleNames(hs))
	}
	hs.key("/", "w", "o", "r", "enter", "esc")
	if len(visibleNames(hs)) != 10 || hs.m.table.filter != "" {
		t.Errorf("esc in the table did not clear the filter: %q", visibleNames(hs))
	}
}

func TestSortFlow(t *testing.T) {
	hs := rich(t, 120, 40)
	order := func() []string {
		var out []string
		for _, n := range visibleNames(hs) {
			if !strings.HasPrefix(n, "http-") || n == "http-cluster" {
				out = append(out, n)
			}
		}
		return out
	}
	head := func() string { return strings.Split(hs.screen(), "\n")[1] }
	hs.key("o") // by CPU, busiest first
	if !strings.Contains(head(), "▼CPU%") {
		t.Errorf("header does not show the sort: %q", head())
	}
	if got := order(); !slices.Equal(got[:4], []string{"api", "http-cluster", "worker", "echo"}) {
		t.Errorf("by cpu: %q", got)
	}
	// Members stay under their group, sorted among themselves.
	names := visibleNames(hs)
	i := slices.Index(names, "http-cluster")
	if names[i+1] != "http-1" || names[i+2] != "http-2" {
		t.Errorf("members left their group: %q", names)
	}
	hs.key("O") // reversed: idle first, units without a process last
	if !strings.Contains(head(), "▲CPU%") {
		t.Errorf("header after O: %q", head())
	}
	if got := order(); got[0] != "echo" || got[len(got)-1] != "docs" {
		t.Errorf("by cpu reversed: %q", got)
	}
	hs.key("o", "o") // memory, then name
	if !strings.Contains(head(), "NAME▲") {
		t.Errorf("header by name: %q", head())
	}
	if got := order(); !slices.IsSorted(got) {
		t.Errorf("by name: %q", got)
	}
	hs.key("o") // state: trouble first
	if got := order(); got[0] != "db-migrate" || got[1] != "web" {
		t.Errorf("by state: %q", got)
	}
	// The cursor stays on its unit through every sort.
	hs.key("g", "j")
	name := selected(hs)
	hs.key("o", "o", "O")
	if got := selected(hs); got != name {
		t.Errorf("sorting moved the cursor from %q to %q", name, got)
	}
	// Round the cycle back to the engine's order.
	for range len(sortCycle) {
		if hs.m.table.sortBy == colNone {
			break
		}
		hs.key("o")
	}
	if got := order(); !slices.Equal(got, []string{"api", "worker", "web", "db-migrate", "cron-once", "docs", "http-cluster", "echo"}) {
		t.Errorf("engine order: %q", got)
	}
}

func TestFoldFlow(t *testing.T) {
	hs := rich(t, 120, 40)
	if slices.Contains(visibleNames(hs), "4300:esbuild") {
		t.Fatal("a process tree is unfolded by default")
	}
	hs.key("enter")
	wantNames(t, hs, "api", "4300:esbuild", "4301:sh", "4302:sleep", "worker", "web", "db-migrate", "cron-once",
		"docs", "http-cluster", "http-1", "http-2", "echo")
	s := hs.screen()
	for _, want := range []string{"▾ api", "├─ esbuild", "└─ sh", "   └─ sleep"} {
		if !strings.Contains(s, want) {
			t.Errorf("tree lacks %q:\n%s", want, s)
		}
	}
	// Down into the tree; the pane still shows the unit.
	hs.key("j", "j")
	if got := hs.m.table.selectedKey(); got != (rowKey{name: "api", pid: 4301}) {
		t.Errorf("cursor = %+v", got)
	}
	if hs.m.shown != "api" {
		t.Errorf("pane shows %q", hs.m.shown)
	}
	// A new tick keeps the cursor on the same process.
	hs.deliver(procs.Batch{Stats: richStats(richFixture(), 40)})
	if got := hs.m.table.selectedKey(); got != (rowKey{name: "api", pid: 4301}) {
		t.Errorf("cursor after a tick = %+v", got)
	}
	// h on a process folds its unit and goes to it.
	hs.key("h")
	if got := hs.m.table.selectedKey(); got != (rowKey{name: "api"}) || slices.Contains(visibleNames(hs), "4301:sh") {
		t.Errorf("after h: cursor %+v, lines %q", hs.m.table.selectedKey(), visibleNames(hs))
	}
	hs.key("l")
	if !slices.Contains(visibleNames(hs), "4302:sleep") {
		t.Error("l did not unfold")
	}
	hs.key("left")
	if slices.Contains(visibleNames(hs), "4302:sleep") {
		t.Error("← did not fold")
	}
	hs.key("right", " ")
	if slices.Contains(visibleNames(hs), "4302:sleep") {
		t.Error("space did not fold")
	}
	// A group row folds its members away.
	for selected(hs) != "http-cluster" {
		hs.key("j")
	}
	hs.key("enter")
	if slices.Contains(visibleNames(hs), "http-1") || !strings.Contains(hs.screen(), "▸ http-cluster") {
		t.Errorf("group not folded: %q", visibleNames(hs))
	}
	hs.key("enter", "j", "h") // unfold, down to http-1, h folds its group
	if got := selected(hs); got != "http-cluster" || slices.Contains(visibleNames(hs), "http-1") {
		t.Errorf("h on a member: selected %q, lines %q", got, visibleNames(hs))
	}
	// A unit whose tree vanishes (it stopped) loses its process lines and
	// the cursor moves to the unit.
	hs.key("g", "enter", "j")
	api := richFixture()[0]
	api.State, api.PID = procs.Stopped, 0
	hs.deliver(procs.Batch{States: []procs.Info{api}})
	if got := hs.m.table.selectedKey(); got != (rowKey{name: "api"}) || slices.Contains(visibleNames(hs), "4300:esbuild") {
		t.Errorf("after api stopped: cursor %+v, lines %q", got, visibleNames(hs))
	}
	checkFrame(t, hs.m.View(), 120, 40)
}

func TestSearchFlow(t *testing.T) {
	fb := newFake(fixture()...)
	for i := range 200 {
		fb.addLines("api", procs.Stdout, fmt.Sprintf("GET /item/%d 200", i))
		if i%50 == 7 {
			fb.addLines("api", procs.Stderr, fmt.Sprintf("\x1b[31mERROR\x1b[0m item %d failed", i))
		}
	}
	hs := newHarness(t, fb, 120, 40)
	hs.key("tab", "/", "e", "r", "r")
	p := &hs.m.pane
	if len(p.search.matches) != 4 {
		t.Fatalf("matches = %d, want 4", len(p.search.matches))
	}
	if s := statusLine(hs); !strings.Contains(s, "/err") || !strings.Contains(s, "match 4/4") {
		t.Errorf("status while typing: %q", s)
	}
	hs.key("enter")
	if !strings.Contains(hs.screen(), "match 4/4") {
		t.Errorf("title lacks the match count:\n%s", hs.screen())
	}
	// Matches are highlighted, keeping the line's own colours after them.
	var hl string
	for _, r := range p.rows {
		if strings.Contains(ansi.Strip(r), "ERROR item 157") {
			hl = r
		}
	}
	cur := hs.m.pal.curMatch
	if !strings.Contains(hl, cur.open+"\x1b[31mERR") && !strings.Contains(hl, cur.open+"ERR") {
		t.Errorf("current match not highlighted: %q", hl)
	}
	// N goes to older matches, scrolling them into view; n wraps around.
	hs.key("N", "N")
	if !strings.Contains(hs.screen(), "match 2/4") || !strings.Contains(bodyText(hs), "ERROR item 57 failed") {
		t.Errorf("after N N:\n%s", hs.screen())
	}
	if p.follow {
		t.Error("a jump up did not pause the pane")
	}
	hs.key("n", "n", "n")
	if !strings.Contains(hs.screen(), "match 1/4") || !strings.Contains(bodyText(hs), "ERROR item 7 failed") {
		t.Errorf("n did not wrap:\n%s", hs.screen())
	}
	// New lines are searched as they come.
	fb.addLines("api", procs.Stdout, "another error")
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": 205}})
	if len(p.search.matches) != 5 {
		t.Errorf("matches after new lines = %d", len(p.search.matches))
	}
	// w turns wrapping off: one row per line.
	hs.key("w")
	if !strings.Contains(hs.screen(), "no wrap") {
		t.Errorf("no wrap indicator:\n%s", hs.screen())
	}
	// esc ends the search and its highlights.
	hs.key("esc")
	if p.search.query != "" || strings.Contains(hs.screen(), "match") {
		t.Errorf("esc did not end the search:\n%s", hs.screen())
	}
	for _, r := range p.rows {
		if strings.Contains(r, cur.open) {
			t.Errorf("highlight left after esc: %q", r)
		}
	}
}

func TestHighlightKeepsColours(t *testing.T) {
	hl := paint{open: "<", close: ">"}
	for _, tc := range []struct{ text, q, want string }{
		{"hello world", "O", "hell<o>R w<o>Rrld"},
		{"\x1b[31mred text\x1b[0m plain", "text", "\x1b[31mred <text>R\x1b[31m\x1b[0m plain"},
		{"Straße STRASSE", "straße", "<Straße>R STRASSE"},
		{"界界 abc", "界 a", "界<界 a>Rbc"},
		{"nothing", "x", "nothing"},
	} {
		if got := highlight(tc.text, tc.q, hl, "R"); got != tc.want {
			t.Errorf("highlight(%q, %q) = %q, want %q", tc.text, tc.q, got, tc.want)
		}
	}
}

func TestSignalMenuFlow(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 40)
	hs.key("j", "!") // worker: a lone process
	if !strings.Contains(hs.screen(), "send a signal to worker") || !strings.Contains(hs.screen(), "SIGWINCH") {
		t.Fatalf("menu:\n%s", hs.screen())
	}
	// Every common signal is listed.
	for _, sig := range procs.CommonSignals() {
		if !strings.Contains(hs.screen(), procs.SignalName(sig)) {
			t.Errorf("menu lacks %s", procs.SignalName(sig))
		}
	}
	// Keys move the menu, not the table.
	hs.key("j", "j", "k")
	if selected(hs) != "worker" {
		t.Errorf("j in the menu moved the table to %q", selected(hs))
	}
	hs.key("enter")
	if s := statusLine(hs); s != "sent SIGINT to worker" {
		t.Errorf("status = %q", s)
	}
	if strings.Contains(hs.screen(), "send a signal") {
		t.Error("menu still open after sending")
	}
	hs.key("!", "G", "esc")
	if strings.Contains(hs.screen(), "send a signal") {
		t.Error("esc did not close the menu")
	}
	wantCalls(t, fb, "subscribe ", "tail api 2000", "tail worker 2000", "signal worker SIGINT")
}

func TestGroupActionsAskFirst(t *testing.T) {
	hs := rich(t, 120, 40)
	fb := hs.fb
	before := len(fb.Calls())
	newCalls := func() []string { return fb.Calls()[before:] }
	// api has 3 child processes: kill asks.
	hs.key("K")
	if s := statusLine(hs); s != "kill api and its 3 child processes?  y/n" {
		t.Errorf("question = %q", s)
	}
	if f := footer(hs); f != "y yes • n/esc no" {
		t.Errorf("footer = %q", f)
	}
	hs.key("j") // any other key is ignored, not an answer
	hs.key("n")
	if len(newCalls()) != 0 || statusLine(hs) != "cancelled" {
		t.Errorf("n: calls %q, status %q", newCalls(), statusLine(hs))
	}
	hs.key("x", "y")
	if !slices.Equal(newCalls(), []string{"stop api"}) {
		t.Errorf("x y: calls %q", newCalls())
	}
	// A signal from the menu asks too, unless it is harmless.
	hs.key("!", "enter")
	if s := statusLine(hs); !strings.HasPrefix(s, "send SIGTERM to api and its 3 child processes?") {
		t.Errorf("question = %q", s)
	}
	hs.key("esc")
	hs.key("!")
	for hs.m.menu.selected() != syscall.SIGCONT {
		hs.key("j")
	}
	hs.key("enter")
	if got := newCalls(); got[len(got)-1] != "signal api SIGCONT" {
		t.Errorf("SIGCONT asked first or was not sent: %q", got)
	}
	// A group row with members asks too; a lone unit does not.
	for selected(hs) != "http-cluster" {
		hs.key("j")
	}
	hs.key("r")
	if s := statusLine(hs); s != "restart http-cluster and its 2 members?  y/n" {
		t.Errorf("question = %q", s)
	}
	hs.key("esc", "j", "r")
	if got := newCalls(); got[len(got)-1] != "restart http-1" {
		t.Errorf("a lone unit's restart: %q", got)
	}
}

func TestComposerFlow(t *testing.T) {
	hs := rich(t, 120, 40)
	fb := hs.fb
	// api has no channel: m explains, the messages view key is off.
	hs.key("m")
	if s := statusLine(hs); !strings.Contains(s, "api has no message channel") {
		t.Errorf("m on api: %q", s)
	}
	if f := footer(hs); strings.Contains(f, "messages") || strings.Contains(f, "m message") {
		t.Errorf("footer offers messages for api: %q", f)
	}
	hs.key("G", "m") // echo
	if hs.m.shownView() != viewMessages || !hs.m.composer.open || hs.m.focus != focusOutput {
		t.Fatalf("m did not open the composer on the messages view")
	}
	s := hs.screen()
	for _, want := range []string{"● connected", "→ {", `"cmd": "ping"`, `"tags": [`, "← {", "11:59:23.111 ← {"} {
		if !strings.Contains(s, want) {
			t.Errorf("messages view lacks %q:\n%s", want, s)
		}
	}
	// Invalid JSON: a live verdict with the offset, and enter refuses.
	hs.key(`{"a":1,}`)
	if !strings.Contains(hs.screen(), "✗ invalid character '}' looking for beginning of object key string at offset 7") {
		t.Errorf("verdict:\n%s", hs.screen())
	}
	hs.key("enter")
	if slices.ContainsFunc(fb.Calls(), func(c string) bool { return strings.HasPrefix(c, "send") }) {
		t.Error("invalid JSON was sent")
	}
	if s := statusLine(hs); !strings.HasPrefix(s, "not sent: invalid character") {
		t.Errorf("status = %q", s)
	}
	// Node's own messages are refused too.
	hs.key("ctrl+u")
	hs.key(`{"cmd":"NODE_HANDLE"}`)
	hs.key("enter")
	if !strings.Contains(statusLine(hs), "reserved") || len(fb.sent["echo"]) != 0 {
		t.Errorf("NODE_ cmd: status %q, sent %q", statusLine(hs), fb.sent["echo"])
	}
	// Valid: sent as typed (trimmed), the line clears, the traffic shows it.
	hs.key("ctrl+u")
	hs.key(` {"cmd": "ping", "n": 2} `)
	if !strings.Contains(hs.screen(), "✓ valid JSON") {
		t.Errorf("no valid verdict:\n%s", hs.screen())
	}
	hs.key("enter")
	if got := fb.sent["echo"]; !slices.Equal(got, []string{`{"cmd": "ping", "n": 2}`}) {
		t.Errorf("sent %q", got)
	}
	if s := statusLine(hs); s != "sent to echo" {
		t.Errorf("status = %q", s)
	}
	if v := hs.m.composer.input.Value(); v != "" {
		t.Errorf("composer kept %q after sending", v)
	}
	hs.deliver(procs.Batch{Logs: map[string]uint64{"echo": uint64(len(fb.lines["echo"]))}})
	if !strings.Contains(hs.screen(), `"n": 2`) {
		t.Errorf("the sent message is not in the traffic:\n%s", hs.screen())
	}
	hs.key(`[1,2]`, "enter", `"draft`)
	// History: up walks back through what was sent, down comes back to
	// the draft.
	walk := func(k, want string) {
		t.Helper()
		hs.key(k)
		if v := hs.m.composer.input.Value(); v != want {
			t.Errorf("after %s: %q, want %q", k, v, want)
		}
	}
	walk("up", "[1,2]")
	walk("up", `{"cmd": "ping", "n": 2}`)
	walk("up", `{"cmd": "ping", "n": 2}`) // the oldest stays
	walk("down", "[1,2]")
	walk("down", `"draft`)
	// A history entry is sent again as it was.
	hs.key("up", "enter")
	if got := fb.sent["echo"]; len(got) != 3 || got[2] != "[1,2]" {
		t.Errorf("sent %q", got)
	}
	// The keys typed never acted on the unit.
	for _, c := range fb.Calls() {
		if strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "restart") || strings.HasPrefix(c, "signal") {
			t.Errorf("typing acted: %q", c)
		}
	}
	// esc closes the composer; the view stays.
	hs.key("esc")
	if hs.m.composer.open || hs.m.shownView() != viewMessages {
		t.Error("esc: composer still open or view changed")
	}
}

func TestSendErrorsGoToTheStatusLine(t *testing.T) {
	hs := rich(t, 120, 40)
	hs.fb.errs["send echo"] = fmt.Errorf("send to %q: %w", "echo", errors.New("ipc: outbound queue full"))
	hs.key("G", "m", `{"x":1}`, "enter")
	if s := statusLine(hs); s != "send to echo: ipc: outbound queue full" {
		t.Errorf("status = %q", s)
	}
	if v := hs.m.composer.input.Value(); v != `{"x":1}` {
		t.Errorf("the message was lost on error: %q", v)
	}
}

func TestCheckMessage(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:               "✓ valid JSON",
		`  "text"`:              "✓ valid JSON",
		`42`:                    "✓ valid JSON",
		``:                      "type one JSON value",
		`{"a":`:                 "✗ unexpected end of JSON input at offset 5",
		`  {"a" 1}`:             "✗ invalid character '1' after object key at offset 7",
		`1 2`:                   "✗ invalid character '2' after top-level value at offset 2",
		`{"cmd":"NODE_HANDLE"}`: `✗ messages whose cmd starts with NODE_ are reserved for Node's internal use`,
		`{"CMD":"NODE_X"}`:      "✓ valid JSON",
		`{"cmd":"NODE_"}`:       "✓ valid JSON",
		`{"cmd":"NODE"}`:        "✓ valid JSON",
		`[{"cmd":"NODE_X"}]`:    "✓ valid JSON",
	} {
		if _, got := checkMessage(in); got != want {
			t.Errorf("checkMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
