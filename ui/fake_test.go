package ui

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
	vt "github.com/kelpie-dev/kelpie/vterm"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	// Colours on, so the tests see (and strip) real escape sequences, and a
	// fixed zone so timestamps read the same everywhere.
	lipgloss.SetColorProfile(termenv.TrueColor)
	lipgloss.SetHasDarkBackground(true)
	time.Local = time.UTC
	os.Exit(m.Run())
}

// epoch is the fixed "now" of every test.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// call is one backend call the fake saw.
type call struct {
	op   string
	name string
	arg  string
}

func (c call) String() string {
	if c.arg != "" {
		return c.op + " " + c.name + " " + c.arg
	}
	return c.op + " " + c.name
}

// fakeBackend records calls and serves scripted output.
type fakeBackend struct {
	mu    sync.Mutex
	infos []procs.Info
	lines map[string][]procs.Line // per unit, seq = index+1
	first map[string]uint64       // oldest seq still held, per unit (for missed)
	calls []call
	errs  map[string]error // "stop api" -> error to return

	sent    map[string][]string        // per unit, the messages Send accepted
	msgs    map[string][]procs.Message // per unit, its message store (seq = index+1)
	details map[string]procs.Details

	sub        *fakeSub
	subscribed bool // the screen has subscribed: later subscribers are cursors
	// followers are the subscriptions of the panes' cursors (every
	// Subscribe after the screen's own), by id; publish hands each a batch.
	followers []*fakeSub
	// parked tells the harness a command is blocked waiting (Next, a
	// blocking Shutdown).
	parked chan string
	// blockShutdown makes Shutdown wait for its context.
	blockShutdown bool
	// onTail runs after each Tail has read its lines (a test writes lines
	// between a pane's tail and its cursor).
	onTail func(name string)

	// The tty units' terminals (Terminals): each one's screen and
	// scrollback, the keys and pastes it got, how often its screen was
	// read. echo types the runes of Keys into the screen's last row, as
	// a shell would echo them.
	screens     map[string]*procs.Screen
	scrollback  map[string][]string
	keys        map[string][]vt.Key
	pastes      map[string][]string
	screenReads int
	sizeScreens bool // Resize sets the screen's size, as the engine does
	echo        bool
	// blockKeys makes Keys and Paste wait (parked as "keys") until it is
	// closed.
	blockKeys chan struct{}
}

func newFake(infos ...procs.Info) *fakeBackend {
	f := &fakeBackend{
		infos:   infos,
		lines:   make(map[string][]procs.Line),
		first:   make(map[string]uint64),
		errs:    make(map[string]error),
		sent:    make(map[string][]string),
		msgs:    make(map[string][]procs.Message),
		details: make(map[string]procs.Details),
		parked:  make(chan string, 16),

		screens:    make(map[string]*procs.Screen),
		scrollback: make(map[string][]string),
		keys:       make(map[string][]vt.Key),
		pastes:     make(map[string][]string),
	}
	f.sub = &fakeSub{ch: make(chan procs.Batch, 16), closed: make(chan struct{}), parked: f.parked, tag: "next"}
	return f
}

func (f *fakeBackend) record(op, name, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{op, name, arg})
	return f.errs[op+" "+name]
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.String()
	}
	return out
}

// addLines appends output lines to a unit and returns the newest seq.
func (f *fakeBackend) addLines(name string, stream procs.Stream, texts ...string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range texts {
		seq := uint64(len(f.lines[name]) + 1)
		at := epoch.Add(-time.Duration(1000-seq) * 37 * time.Millisecond)
		if stream == procs.IPCIn || stream == procs.IPCOut {
			// Like the engine: the message is stored, then noted in the log.
			f.msgs[name] = append(f.msgs[name], procs.Message{
				Seq: uint64(len(f.msgs[name]) + 1), Time: at, Stream: stream, Msg: []byte(t), Size: len(t),
			})
		}
		f.lines[name] = append(f.lines[name], procs.Line{Seq: seq, Time: at, Stream: stream, Text: t})
	}
	return uint64(len(f.lines[name]))
}

// addMessage stores one message as given (a cut one, a hostile one) and a
// note of it in the log; it returns the newest log seq.
func (f *fakeBackend) addMessage(name string, m procs.Message) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := uint64(len(f.lines[name]) + 1)
	m.Seq, m.Time = uint64(len(f.msgs[name])+1), epoch.Add(-time.Duration(1000-seq)*37*time.Millisecond)
	f.msgs[name] = append(f.msgs[name], m)
	f.lines[name] = append(f.lines[name], procs.Line{Seq: seq, Time: m.Time, Stream: m.Stream, Text: "(note)"})
	return seq
}

func (f *fakeBackend) Messages(name string, after uint64, limit int) ([]procs.Message, uint64, error) {
	err := f.record("messages", name, fmt.Sprint(after))
	f.mu.Lock()
	defer f.mu.Unlock()
	all := f.msgs[name]
	if after >= uint64(len(all)) {
		return nil, 0, err
	}
	out := all[after:]
	if len(out) > limit {
		out = out[:limit]
	}
	return append([]procs.Message(nil), out...), 0, err
}

// Subscribe gives the screen (the first to subscribe) the scripted
// subscription, recorded among the calls; every later subscriber is a
// pane's cursor, which gets one of its own, fed by publish, and a snapshot
// with each unit's newest line (Info.LastSeq) as the engine's has.
func (f *fakeBackend) Subscribe() ([]procs.Info, Subscription) {
	f.mu.Lock()
	first := !f.subscribed
	f.subscribed = true
	f.mu.Unlock()
	if first {
		_ = f.record("subscribe", "", "")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	infos := append([]procs.Info(nil), f.infos...)
	if first {
		return infos, f.sub
	}
	for i := range infos {
		infos[i].LastSeq = uint64(len(f.lines[infos[i].Name]))
	}
	s := &fakeSub{
		ch: make(chan procs.Batch, 256), closed: make(chan struct{}), shut: f.sub.closed,
		parked: f.parked, tag: fmt.Sprintf("follow %d", len(f.followers)),
	}
	f.followers = append(f.followers, s)
	return infos, s
}

// follower is the cursor subscription with this id.
func (f *fakeBackend) follower(id int) *fakeSub {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.followers[id]
}

// publish hands a batch to every cursor's subscription still open, as the
// engine's broker does (the screen's own gets it through its harness).
func (f *fakeBackend) publish(b procs.Batch) {
	f.mu.Lock()
	subs := slices.Clone(f.followers)
	f.mu.Unlock()
	for _, s := range subs {
		if !s.isClosed() {
			s.ch <- b
		}
	}
}

// List is the snapshot Subscribe gives (the screen itself never calls it).
func (f *fakeBackend) List() []procs.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]procs.Info(nil), f.infos...)
}

func (f *fakeBackend) Start(name string) error   { return f.record("start", name, "") }
func (f *fakeBackend) Stop(name string) error    { return f.record("stop", name, "") }
func (f *fakeBackend) Restart(name string) error { return f.record("restart", name, "") }
func (f *fakeBackend) Signal(name string, sig syscall.Signal) error {
	return f.record("signal", name, procs.SignalName(sig))
}

func (f *fakeBackend) Send(name string, msg []byte) error {
	err := f.record("send", name, string(msg))
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.sent[name] = append(f.sent[name], string(msg))
	f.mu.Unlock()
	f.addLines(name, procs.IPCOut, string(msg))
	return nil
}

func (f *fakeBackend) Details(name string) (procs.Details, error) {
	err := f.record("details", name, "")
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.details[name]
	if !ok {
		for _, in := range f.infos {
			if in.Name == name {
				d.Info = in
			}
		}
	}
	return d, err
}

func (f *fakeBackend) Tail(name string, n int) ([]procs.Line, error) {
	err := f.record("tail", name, fmt.Sprint(n))
	f.mu.Lock()
	defer f.mu.Unlock()
	all := f.lines[name][f.first[name]:]
	if len(all) > n {
		all = all[len(all)-n:]
	}
	out := append([]procs.Line(nil), all...)
	if f.onTail != nil {
		f.mu.Unlock()
		f.onTail(name)
		f.mu.Lock()
	}
	return out, err
}

func (f *fakeBackend) Since(name string, after uint64, limit int) ([]procs.Line, uint64, error) {
	err := f.record("since", name, fmt.Sprint(after))
	f.mu.Lock()
	defer f.mu.Unlock()
	from := after
	var missed uint64
	if first := f.first[name]; from < first {
		missed, from = first-from, first
	}
	all := f.lines[name]
	if from >= uint64(len(all)) {
		return nil, missed, err
	}
	out := all[from:]
	if len(out) > limit {
		out = out[:limit]
	}
	return append([]procs.Line(nil), out...), missed, err
}

func (f *fakeBackend) Shutdown(ctx context.Context) error {
	err := f.record("shutdown", "", "")
	f.mu.Lock()
	block := f.blockShutdown
	f.mu.Unlock()
	if block {
		f.parked <- "shutdown"
		<-ctx.Done()
		return fmt.Errorf("shutdown: %w; killing what is left", ctx.Err())
	}
	return err
}

// setScreen gives a tty unit its screen.
func (f *fakeBackend) setScreen(name string, s procs.Screen) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.Lines = slices.Clone(s.Lines)
	f.screens[name] = &s
}

func (f *fakeBackend) Screen(name string) (procs.Screen, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.screenReads++
	s, ok := f.screens[name]
	if !ok {
		return procs.Screen{}, procs.ErrNotTTY
	}
	out := *s
	out.Lines = slices.Clone(s.Lines)
	return out, nil
}

func (f *fakeBackend) Scrollback(name string, from, to int) ([]string, error) {
	err := f.record("scrollback", name, fmt.Sprintf("%d-%d", from, to))
	f.mu.Lock()
	defer f.mu.Unlock()
	sb := f.scrollback[name]
	to = min(to, len(sb))
	if from >= to {
		return nil, err
	}
	return slices.Clone(sb[from:to]), err
}

// waitKeys parks a Keys or Paste while blockKeys is set.
func (f *fakeBackend) waitKeys() {
	f.mu.Lock()
	block := f.blockKeys
	f.mu.Unlock()
	if block != nil {
		f.parked <- "keys"
		<-block
	}
}

func (f *fakeBackend) Keys(name string, keys []vt.Key) error {
	f.waitKeys()
	err := f.record("keys", name, strconv.Itoa(len(keys)))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[name] = append(f.keys[name], keys...)
	if s := f.screens[name]; s != nil && f.echo && len(s.Lines) > 0 {
		last := len(s.Lines) - 1
		for _, k := range keys {
			switch {
			case k.Code == vt.KeyRune && k.Text != "":
				s.Lines[last] += k.Text
			case k.Code == vt.KeyRune && !k.Ctrl:
				s.Lines[last] += string(k.Rune)
			}
		}
		s.CursorX = len(s.Lines[last])
	}
	return err
}

func (f *fakeBackend) Paste(name, text string) error {
	f.waitKeys()
	err := f.record("paste", name, "")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pastes[name] = append(f.pastes[name], text)
	return err
}

func (f *fakeBackend) Resize(name string, cols, rows int) error {
	err := f.record("resize", name, fmt.Sprintf("%dx%d", cols, rows))
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.screens[name]; s != nil && err == nil && f.sizeScreens { // as the engine's emulator takes the size
		s.Cols, s.Rows = cols, rows
	}
	return err
}

var _ procs.Terminals = (*fakeBackend)(nil)

type fakeSub struct {
	ch     chan procs.Batch
	closed chan struct{}
	shut   chan struct{} // a cursor's: the screen's subscription closed (the engine shut down)
	once   sync.Once
	parked chan string
	tag    string // what it reports on parked when it waits: "next", "follow N"
}

func (s *fakeSub) Next(ctx context.Context) (procs.Batch, error) {
	select {
	case b := <-s.ch:
		return b, nil
	default:
	}
	if ctx.Err() != nil {
		return procs.Batch{}, ctx.Err()
	}
	select {
	case s.parked <- s.tag:
	case <-s.closed:
		return procs.Batch{}, procs.ErrClosed
	case <-s.shut:
		return procs.Batch{}, procs.ErrClosed
	case <-ctx.Done():
		return procs.Batch{}, ctx.Err()
	}
	select {
	case b := <-s.ch:
		return b, nil
	case <-ctx.Done():
		return procs.Batch{}, ctx.Err()
	case <-s.closed:
		return procs.Batch{}, procs.ErrClosed
	case <-s.shut:
		return procs.Batch{}, procs.ErrClosed
	}
}

func (s *fakeSub) Close() { s.once.Do(func() { close(s.closed) }) }

func (s *fakeSub) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// harness drives a Model the way Bubble Tea would, but synchronously: every
// command runs to its message, except those that park (a Next waiting for
// a batch, a blocking Shutdown), which stay pending until fed.
type harness struct {
	t    testing.TB
	m    Model
	fb   *fakeBackend
	next chan tea.Msg // the parked Next's result
	// follows are the panes' cursors waiting in Next for a batch, by the
	// id of their subscription: each one's result.
	follows map[int]chan tea.Msg
	parked  []chan tea.Msg
	timers  []timerCall
	quit    bool
	raw     []string // sequences the model asked the screen to write
	mouse   []bool   // mouse reporting switched on or off
}

type timerCall struct {
	d   time.Duration
	msg tea.Msg
}

func newHarness(t testing.TB, fb *fakeBackend, w, h int) *harness {
	t.Helper()
	return newHarnessOn(t, fb, fb, w, h)
}

// newHarnessOn drives a Model of backend b, which is fb or wraps it.
func newHarnessOn(t testing.TB, b Backend, fb *fakeBackend, w, h int) *harness {
	t.Helper()
	hs := &harness{t: t, fb: fb, follows: make(map[int]chan tea.Msg)}
	hs.m = New(b, Options{Version: "v0.1.0", Now: func() time.Time { return epoch }})
	hs.m.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return timerCall{d, msg} }
	}
	t.Cleanup(fb.sub.Close)
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	if hs.next == nil {
		t.Fatal("the model did not wait for events after subscribing")
	}
	return hs
}

// send applies a message and runs the commands it returns.
func (hs *harness) send(msg tea.Msg) {
	hs.t.Helper()
	nm, cmd := hs.m.Update(msg)
	hs.m = nm.(Model)
	hs.run(cmd)
}

func (hs *harness) run(cmd tea.Cmd) {
	hs.t.Helper()
	if cmd == nil {
		return
	}
	res := make(chan tea.Msg, 1)
	go func() { res <- cmd() }()
	hs.wait(res)
}

// wait waits for a command to return or park, and applies what it returned.
func (hs *harness) wait(res chan tea.Msg) {
	hs.t.Helper()
	var msg tea.Msg
	select {
	case msg = <-res:
	case what := <-hs.fb.parked:
		var id int
		switch {
		case what == "next":
			if hs.next != nil {
				hs.t.Fatal("two Next calls waiting at once")
			}
			hs.next = res
		case strings.HasPrefix(what, "follow "):
			fmt.Sscan(strings.TrimPrefix(what, "follow "), &id)
			hs.follows[id] = res
		default:
			hs.parked = append(hs.parked, res)
		}
		return
	}
	hs.handle(msg)
}

// handle applies a command's message the way Bubble Tea would.
func (hs *harness) handle(msg tea.Msg) {
	hs.t.Helper()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			hs.run(c)
		}
	case timerCall:
		hs.timers = append(hs.timers, msg)
	case rawMsg:
		hs.raw = append(hs.raw, string(msg))
	case mouseMsg:
		hs.mouse = append(hs.mouse, bool(msg))
	case tea.QuitMsg:
		hs.quit = true
	default:
		hs.send(msg)
	}
}

// deliver hands the model a batch through its waiting Next, then to the
// panes' cursors that were waiting before it (one at a time, each run
// until it returns or waits again), as the engine's broker would.
func (hs *harness) deliver(b procs.Batch) {
	hs.t.Helper()
	if hs.next == nil {
		hs.t.Fatal("no Next waiting for a batch")
	}
	ids := make([]int, 0, len(hs.follows))
	for id := range hs.follows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	res := hs.next
	hs.next = nil
	hs.fb.sub.ch <- b
	hs.send((<-res).(batchMsg))
	for _, id := range ids {
		res, ok := hs.follows[id]
		if !ok {
			continue
		}
		delete(hs.follows, id)
		if s := hs.fb.follower(id); !s.isClosed() {
			s.ch <- b
		}
		hs.wait(res)
	}
}

// settle waits for the parked commands (after their wait was ended) and
// applies their messages.
func (hs *harness) settle() {
	hs.t.Helper()
	parked := hs.parked
	hs.parked = nil
	for _, res := range parked {
		msg := <-res
		hs.send(msg)
	}
}

func (hs *harness) key(keys ...string) {
	hs.t.Helper()
	for _, k := range keys {
		hs.send(keyMsg(k))
	}
}

// keyMsg builds the tea.KeyMsg whose String() is k.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "home":
		return tea.KeyMsg{Type: tea.KeyHome}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "ctrl+u":
		return tea.KeyMsg{Type: tea.KeyCtrlU}
	case "ctrl+d":
		return tea.KeyMsg{Type: tea.KeyCtrlD}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// screen is the ANSI-stripped frame.
func (hs *harness) screen() string { return ansi.Strip(hs.m.View()) }

// checkFrame asserts the frame is exactly w x h cells at most.
func checkFrame(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%dx%d: frame has %d lines, want %d", w, h, len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("%dx%d: line %d is %d cells wide: %q", w, h, i, lw, ansi.Strip(l))
		}
	}
}

// Unit fixtures.

func intp(n int) *int { return &n }

func running(name string, pid int, cpu float64, rss uint64, up time.Duration) procs.Info {
	return procs.Info{
		Name: name, Kind: procs.KindProcess, State: procs.Running, PID: pid, CPU: cpu, RSS: rss, Procs: 1,
		Command: "./bin/" + name + " --port 80" + fmt.Sprint(pid%10), StartedAt: epoch.Add(-up), Restart: procs.RestartOnFailure,
	}
}

// fixture is a varied set of units: every state, a group with members.
func fixture() []procs.Info {
	api := running("api", 4242, 12.5, 48<<20, 3*time.Hour+12*time.Minute)
	api.Command = "node server.js --port 8080"
	worker := running("worker", 4250, 0.3, 23<<20, 95*time.Second)
	worker.Restarts = 2
	web := procs.Info{
		Name: "web", Kind: procs.KindProcess, State: procs.Backoff, Command: "python -m http.server 9000",
		Restarts: 3, ExitCode: intp(1), StartedAt: epoch.Add(-3 * time.Second), ExitedAt: epoch.Add(-1500 * time.Millisecond),
		NextStart: epoch.Add(1800 * time.Millisecond),
		Reason:    "exit status 1; restarting in 2s (failure 3 in a row)",
	}
	db := procs.Info{
		Name: "db-migrate", Kind: procs.KindProcess, State: procs.Crashed, Command: "./migrate up",
		Restarts: 10, ExitCode: intp(2), StartedAt: epoch.Add(-10 * time.Second), ExitedAt: epoch.Add(-9 * time.Second),
		Reason: "crash loop: 11 quick failures in a row (each under 5s), not restarting; last: exit status 2",
	}
	cron := procs.Info{
		Name: "cron-once", Kind: procs.KindProcess, State: procs.Exited, Command: "sh -c 'echo done'",
		ExitCode: intp(0), StartedAt: epoch.Add(-60 * time.Second), ExitedAt: epoch.Add(-60*time.Second + 1200*time.Millisecond),
	}
	docs := procs.Info{Name: "docs", Kind: procs.KindProcess, State: procs.Stopped, Command: "mkdocs serve", Reason: "disabled"}
	cl := running("http-cluster", 5000, 1.2, 12<<20, 20*time.Minute)
	cl.Kind = procs.KindCluster
	cl.Command = "cluster: 2 workers on :3000"
	w1 := running("http-1", 5001, 22.5, 96<<20, 20*time.Minute)
	w1.Group = "http-cluster"
	w2 := running("http-2", 5002, 19.75, 101<<20, 4*time.Minute)
	w2.Group = "http-cluster"
	w2.Restarts = 1
	return []procs.Info{api, worker, web, db, cron, docs, cl, w1, w2}
}

// apiOutput writes api's scripted output into the fake.
func apiOutput(fb *fakeBackend) uint64 {
	fb.addLines("api", procs.Event, "started: pid 4242")
	fb.addLines("api", procs.Stdout,
		"listening on http://0.0.0.0:8080",
		"\x1b[32mGET\x1b[0m /health 200 0.4ms",
		"GET /api/users 200 12.1ms\tuser=42",
		"POST /api/orders 201 31.0ms — 注文を受け付けました",
	)
	fb.addLines("api", procs.Stderr, "warning: slow query (812ms): SELECT * FROM orders WHERE customer_id = $1 AND created_at > now() - interval '30 days' ORDER BY created_at DESC LIMIT 500")
	return fb.addLines("api", procs.Stdout, "GET /api/orders 200 840.2ms")
}
