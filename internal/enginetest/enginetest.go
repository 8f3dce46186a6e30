// Package enginetest is the contract every procs.Engine keeps: one test
// suite, run against the in-process supervisor (procs) and against the
// control-socket client (control), so that the screen can be given either.
package enginetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/vterm"
)

// New makes a fresh engine running specs (added, not started), shut down
// with the test.
type New func(t *testing.T, specs []procs.Spec) procs.Engine

// Specs are the units every engine under test gets: "talk" prints two
// lines and waits; "echo" answers each message on its channel with the
// same message (cat, between the channel's descriptor and itself); "idle"
// is started only by the tests, and never restarted on its own.
func Specs() []procs.Spec {
	return []procs.Spec{
		{Name: "talk", Shell: "echo one; echo two; exec sleep 1000"},
		{Name: "echo", Shell: `exec cat <&"$NODE_CHANNEL_FD" >&"$NODE_CHANNEL_FD"`, IPC: true},
		{Name: "idle", Shell: "exec sleep 1000", Restart: procs.RestartNever},
	}
}

// Run runs the contract against the engines newEngine makes.
func Run(t *testing.T, newEngine New) {
	t.Run("Lifecycle", func(t *testing.T) { lifecycle(t, newEngine(t, Specs())) })
	t.Run("Output", func(t *testing.T) { output(t, newEngine(t, Specs())) })
	t.Run("Messages", func(t *testing.T) { messages(t, newEngine(t, Specs())) })
	t.Run("Errors", func(t *testing.T) { errorsOf(t, newEngine(t, Specs())) })
	t.Run("StatesNeverDropped", func(t *testing.T) { statesKept(t, newEngine(t, Specs())) })
	t.Run("Shutdown", func(t *testing.T) { shutdown(t, newEngine(t, Specs())) })
	t.Run("Terminals", func(t *testing.T) { terminals(t, newEngine(t, append(Specs(), TTYSpec()))) })
}

// TTYSpec is the tty unit of the Terminals case: a shell loop that sets a
// title, reports its terminal size and echoes what it reads.
func TTYSpec() procs.Spec {
	return procs.Spec{
		Name: "term", TTY: true, Restart: procs.RestartNever,
		Shell: `printf '\033]2;the title\a'; stty size; while read l; do echo "got:$l"; stty size; done`,
	}
}

// screenHas polls a tty unit's screen until a row holds want (the screen
// has no events of its own; a hang, not a timing assertion).
func screenHas(t *testing.T, tm procs.Terminals, name, want string) procs.Screen {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		sc, err := tm.Screen(name)
		must(t, err)
		for _, l := range sc.Lines {
			if strings.Contains(l, want) {
				return sc
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen of %s never showed %q: %q", name, want, sc.Lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminals: the engine is procs.Terminals; a tty unit's screen shows what
// its child writes, keys and pastes reach the child, a resize reaches its
// terminal, its title reaches Info; a unit without a terminal, an unknown
// one and a stopped one are refused as such.
func terminals(t *testing.T, e procs.Engine) {
	tm, ok := e.(procs.Terminals)
	if !ok {
		t.Fatalf("%T is not procs.Terminals", e)
	}
	w, snap := subscribe(t, e)
	if in := snap[len(snap)-1]; in.Name != "term" || !in.TTY {
		t.Fatalf("snapshot %+v, want term with TTY", in)
	}
	if err := tm.Keys("term", vterm.ParseKeys([]string{"x"})); !errors.Is(err, procs.ErrNotRunning) {
		t.Errorf("keys to a stopped tty unit: %v, want ErrNotRunning", err)
	}
	must(t, e.Start("term"))
	w.state("term", procs.Running)
	screenHas(t, tm, "term", "24 80")
	w.until("the title", func() bool { return w.cur["term"].Title == "the title" })
	must(t, tm.Keys("term", vterm.ParseKeys([]string{"hello", "Enter"})))
	screenHas(t, tm, "term", "got:hello")
	must(t, tm.Resize("term", 100, 30))
	must(t, tm.Paste("term", "pasted\n"))
	sc := screenHas(t, tm, "term", "30 100")
	if sc.Cols != 100 || sc.Rows != 30 || len(sc.Lines) != 30 || sc.Title != "the title" {
		t.Fatalf("screen %dx%d, %d rows, title %q", sc.Cols, sc.Rows, len(sc.Lines), sc.Title)
	}
	if _, err := tm.Scrollback("term", 0, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Screen("talk"); !errors.Is(err, procs.ErrNotTTY) {
		t.Errorf("screen of a pipe unit: %v, want ErrNotTTY", err)
	}
	if err := tm.Keys("nope", nil); !errors.Is(err, procs.ErrNotFound) {
		t.Errorf("keys to an unknown unit: %v, want ErrNotFound", err)
	}
	// Each row is text and SGR only: Clean keeps it as it is.
	for _, l := range sc.Lines {
		if procs.Clean(l) != l {
			t.Errorf("screen row %q is more than text and SGR", l)
		}
	}
	must(t, e.Stop("term"))
	w.state("term", procs.Stopped)
	if sc, err := tm.Screen("term"); err != nil || len(sc.Lines) != 30 {
		t.Fatalf("the last screen of a stopped tty unit: %v, %d rows", err, len(sc.Lines))
	}
}

// events follows an engine's events so a test can await a unit's state.
type events struct {
	t   *testing.T
	ev  procs.Events
	cur map[string]procs.Info
	log map[string]uint64
}

func subscribe(t *testing.T, e procs.Engine) (*events, []procs.Info) {
	t.Helper()
	snap, ev := e.Subscribe()
	t.Cleanup(ev.Close)
	w := &events{t: t, ev: ev, cur: map[string]procs.Info{}, log: map[string]uint64{}}
	for _, in := range snap {
		w.cur[in.Name] = in
	}
	return w, snap
}

// until waits for a batch after which ok holds, failing after a generous
// bound (a hang, not a timing assertion).
func (w *events) until(what string, ok func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !ok() {
		b, err := w.ev.Next(ctx)
		if err != nil {
			w.t.Fatalf("waiting for %s: %v", what, err)
		}
		for _, in := range b.States {
			w.cur[in.Name] = in
		}
		for name, seq := range b.Logs {
			w.log[name] = max(w.log[name], seq)
		}
	}
}

func (w *events) state(name string, st procs.State) procs.Info {
	w.t.Helper()
	w.until(name+" "+string(st), func() bool { return w.cur[name].State == st })
	return w.cur[name]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func lifecycle(t *testing.T, e procs.Engine) {
	w, snap := subscribe(t, e)
	var names []string
	for _, in := range snap {
		names = append(names, in.Name)
		if in.State != procs.Stopped {
			t.Fatalf("%s starts %s, want stopped", in.Name, in.State)
		}
	}
	if strings.Join(names, " ") != "talk echo idle" {
		t.Fatalf("snapshot %v, want the units in order", names)
	}
	if got := e.List(); len(got) != 3 || got[0].Name != "talk" {
		t.Fatalf("List: %v", got)
	}
	must(t, e.Start("idle"))
	in := w.state("idle", procs.Running)
	if in.PID == 0 {
		t.Fatal("running without a pid")
	}
	d, err := e.Details("idle")
	must(t, err)
	if d.Info.Name != "idle" || d.Info.PID != in.PID || len(d.Argv) == 0 {
		t.Fatalf("details: %+v", d)
	}
	must(t, e.Restart("idle"))
	w.until("idle restarted", func() bool {
		c := w.cur["idle"]
		return c.State == procs.Running && c.PID != in.PID
	})
	must(t, e.Signal("idle", syscall.SIGTERM))
	w.until("idle ended by the signal", func() bool { return !w.cur["idle"].State.Live() })
	if got := w.cur["idle"].Signal; got != "SIGTERM" {
		t.Fatalf("ended by %q, want SIGTERM", got)
	}
	must(t, e.Start("idle"))
	w.state("idle", procs.Running)
	must(t, e.Stop("idle"))
	w.state("idle", procs.Stopped)
}

func output(t *testing.T, e procs.Engine) {
	w, _ := subscribe(t, e)
	cur, err := procs.Follow(e, []string{"talk"}, 0)
	must(t, err)
	defer cur.Close()
	must(t, e.Start("talk"))
	var followed []string
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !slices.Contains(followed, "two") {
		out, err := cur.Next(ctx)
		must(t, err)
		for _, o := range out {
			for _, l := range o.Lines {
				if l.Stream == procs.Stdout {
					followed = append(followed, l.Text)
				}
			}
		}
	}
	if strings.Join(followed, " ") != "one two" {
		t.Fatalf("followed %q, want one two", followed)
	}
	w.until("talk's output announced", func() bool { return w.log["talk"] > 0 })
	tail, err := e.Tail("talk", 1000)
	must(t, err)
	var texts []string
	var first uint64
	for _, l := range tail {
		if l.Stream == procs.Stdout {
			texts = append(texts, l.Text)
			if first == 0 {
				first = l.Seq
			}
		}
	}
	if strings.Join(texts, " ") != "one two" {
		t.Fatalf("tail %q, want one two", texts)
	}
	lines, missed, err := e.Since("talk", first, 1)
	must(t, err)
	if len(lines) != 1 || lines[0].Seq != first+1 || missed != 0 {
		t.Fatalf("since %d: %+v missed %d, want the line after it", first, lines, missed)
	}
	if none, err := e.Tail("talk", 0); err != nil || len(none) != 0 {
		t.Fatalf("tail of 0: %v %v", none, err)
	}
}

func messages(t *testing.T, e procs.Engine) {
	w, _ := subscribe(t, e)
	must(t, e.Start("echo"))
	w.until("echo's channel", func() bool { return w.cur["echo"].Channel == procs.ChannelConnected })
	must(t, e.Send("echo", []byte(`{"n":1}`)))
	var msgs []procs.Message
	w.until("the echo", func() bool {
		var err error
		msgs, _, err = e.Messages("echo", 0, 10)
		must(t, err)
		return len(msgs) == 2
	})
	if msgs[0].Stream != procs.IPCOut || msgs[1].Stream != procs.IPCIn || !json.Valid(msgs[1].Msg) ||
		string(msgs[1].Msg) != `{"n":1}` {
		t.Fatalf("messages %+v, want the one sent and its echo", msgs)
	}
	if after, _, err := e.Messages("echo", msgs[0].Seq, 10); err != nil || len(after) != 1 || after[0].Seq != msgs[1].Seq {
		t.Fatalf("messages after the first: %+v %v", after, err)
	}
	if err := e.Send("echo", []byte(`{"cmd":"NODE_X"}`)); err == nil {
		t.Fatal("a NODE_ message was sent")
	}
	if err := e.Send("echo", []byte(`{nope`)); err == nil {
		t.Fatal("invalid JSON was sent")
	}
}

func errorsOf(t *testing.T, e procs.Engine) {
	for what, err := range map[string]error{
		"start":    e.Start("nope"),
		"stop":     e.Stop("nope"),
		"restart":  e.Restart("nope"),
		"signal":   e.Signal("nope", syscall.SIGTERM),
		"send":     e.Send("nope", []byte(`{}`)),
		"tail":     second(e.Tail("nope", 5)),
		"since":    third(e.Since("nope", 0, 5)),
		"messages": third(e.Messages("nope", 0, 5)),
		"details":  second(e.Details("nope")),
	} {
		if !errors.Is(err, procs.ErrNotFound) {
			t.Errorf("%s of an unknown unit: %v, want ErrNotFound", what, err)
		}
	}
	if err := e.Signal("idle", syscall.SIGTERM); !errors.Is(err, procs.ErrNotRunning) {
		t.Errorf("signal to a stopped unit: %v, want ErrNotRunning", err)
	}
}

// statesKept: a subscriber that does not read while a unit starts and
// stops three times still gets every one of those states, in order.
func statesKept(t *testing.T, e procs.Engine) {
	w, _ := subscribe(t, e)
	for range 3 {
		must(t, e.Start("idle"))
		// Wait on the engine, not on the events (they are not being read).
		deadline := time.Now().Add(20 * time.Second)
		for stateOf(e.List(), "idle") != procs.Running {
			if time.Now().After(deadline) {
				t.Fatal("idle never ran")
			}
			time.Sleep(time.Millisecond)
		}
		must(t, e.Stop("idle"))
		for stateOf(e.List(), "idle") != procs.Stopped {
			if time.Now().After(deadline) {
				t.Fatal("idle never stopped")
			}
			time.Sleep(time.Millisecond)
		}
	}
	var seen []procs.State
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for count(seen, procs.Stopped) < 3 {
		b, err := w.ev.Next(ctx)
		must(t, err)
		for _, in := range b.States {
			if in.Name == "idle" && (in.State == procs.Running || in.State == procs.Stopped) {
				seen = append(seen, in.State)
			}
		}
	}
	want := []procs.State{procs.Running, procs.Stopped, procs.Running, procs.Stopped, procs.Running, procs.Stopped}
	if !slices.Equal(seen, want) {
		t.Fatalf("states seen %v, want %v", seen, want)
	}
}

func stateOf(units []procs.Info, name string) procs.State {
	for _, in := range units {
		if in.Name == name {
			return in.State
		}
	}
	return ""
}

func count(states []procs.State, st procs.State) int {
	n := 0
	for _, s := range states {
		if s == st {
			n++
		}
	}
	return n
}

func second[A any](_ A, err error) error        { return err }
func third[A, B any](_ A, _ B, err error) error { return err }

func shutdown(t *testing.T, e procs.Engine) {
	w, _ := subscribe(t, e)
	must(t, e.Start("idle"))
	w.state("idle", procs.Running)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	must(t, e.Shutdown(ctx))
	// The events end: what was pending, then ErrClosed.
	for {
		b, err := w.ev.Next(ctx)
		if errors.Is(err, procs.ErrClosed) {
			break
		}
		must(t, err)
		for _, in := range b.States {
			w.cur[in.Name] = in
		}
	}
	if st := w.cur["idle"].State; st.Live() {
		t.Fatalf("idle is %s after shutdown", st)
	}
}
