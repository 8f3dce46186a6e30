package procs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing after a generous bound (a hang,
// not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// hasLine reports whether the unit's log holds a line of stream containing sub.
func hasLine(s *Supervisor, name string, stream Stream, sub string) bool {
	lines, _ := s.Tail(name, 1000)
	for _, l := range lines {
		if l.Stream == stream && strings.Contains(l.Text, sub) {
			return true
		}
	}
	return false
}

func echoWorker(ctx context.Context, w Worker) error {
	w.Printf("ready \x1b]0;title\x07%s", w.Name())
	for {
		m, err := w.Recv(ctx)
		if err != nil {
			return err
		}
		if err := w.Send(map[string]json.RawMessage{"echo": m}); err != nil {
			return err
		}
	}
}

func TestWorkerMessagesBothWays(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	if err := s.Add(Spec{Name: "w", Task: echoWorker, TaskName: "echo"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("w"); err != nil {
		t.Fatal(err)
	}
	in := w.state("w", Running)
	if in.Kind != KindWorker || in.PID != 0 || in.TID == 0 || in.Channel != ChannelConnected {
		t.Fatalf("running worker: %+v", in)
	}
	waitFor(t, "ready line", func() bool { return hasLine(s, "w", Stdout, "ready") })
	// Output is sanitised like a child's: the OSC title sequence is gone.
	lines, _ := s.Tail("w", 10)
	for _, l := range lines {
		if strings.Contains(l.Text, "\x1b]") || strings.Contains(l.Text, "\x07") {
			t.Fatalf("unsanitised worker output: %q", l.Text)
		}
	}
	if err := s.Send("w", []byte(`{"n": 1}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reply", func() bool {
		msgs, _, _ := s.Messages("w", 0, 10)
		return len(msgs) == 2
	})
	msgs, _, _ := s.Messages("w", 0, 10)
	if msgs[0].Stream != IPCOut || string(msgs[0].Msg) != `{"n":1}` || msgs[1].Stream != IPCIn || string(msgs[1].Msg) != `{"echo":{"n":1}}` {
		t.Fatalf("messages: %+v", msgs)
	}
	if !hasLine(s, "w", IPCOut, `{"n":1}`) || !hasLine(s, "w", IPCIn, `{"echo":{"n":1}}`) {
		t.Fatal("messages left no ipc-in/ipc-out lines in the log")
	}
	if err := s.Send("w", []byte(`{"__proto__"`)); err == nil {
		t.Fatal("invalid JSON was sent")
	}
	if err := s.Stop("w"); err != nil {
		t.Fatal(err)
	}
	w.state("w", Stopped)
	if err := s.Send("w", []byte(`1`)); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("send to a stopped worker: %v", err)
	}
}

func TestWorkerStuckThenReturns(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	release := make(chan struct{})
	deaf := func(ctx context.Context, w Worker) error {
		<-release // ignores its context
		return nil
	}
	if err := s.Add(Spec{Name: "deaf", Task: deaf, StopTimeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("deaf"); err != nil {
		t.Fatal(err)
	}
	w.state("deaf", Running)
	if err := s.Kill("deaf"); !errors.Is(err, ErrUnkillable) {
		t.Fatalf("Kill on a worker: %v, want ErrUnkillable", err)
	}
	if err := s.Signal("deaf", syscall.SIGTERM); err == nil || !strings.Contains(err.Error(), "takes no signals") {
		t.Fatalf("Signal on a worker: %v", err)
	}
	for len(clk.added) > 0 {
		<-clk.added
	}
	if err := s.Stop("deaf"); err != nil {
		t.Fatal(err)
	}
	w.state("deaf", Stopping)
	<-clk.added // the stop timeout's timer
	clk.Advance(2 * time.Second)
	in := w.state("deaf", Stuck)
	if !strings.Contains(in.Reason, "cannot be killed") || !in.State.Live() {
		t.Fatalf("stuck: %+v", in)
	}
	if err := s.Start("deaf"); !errors.Is(err, ErrRunning) {
		t.Fatalf("start of a stuck worker: %v", err)
	}
	close(release)
	w.state("deaf", Stopped)
	if !hasLine(s, "deaf", Event, "stuck: did not return") {
		t.Fatal("no stuck event in the log")
	}
}

func TestWorkerPanicCrashRestartBackoff(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, Jitter: func() float64 { return 0 }})
	w := watch(t, s)
	var mu sync.Mutex
	runs := 0
	boom := func(ctx context.Context, w Worker) error {
		mu.Lock()
		runs++
		mu.Unlock()
		panic("kaboom")
	}
	if err := s.Add(Spec{Name: "boom", Task: boom, BackoffInitial: time.Second, MaxRestarts: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("boom"); err != nil {
		t.Fatal(err)
	}
	// The first failure restarts at once; the second waits (backoff).
	in := w.state("boom", Backoff)
	if !strings.Contains(in.Reason, "panic: kaboom") || in.ExitCode != nil || in.Restarts != 1 {
		t.Fatalf("after a panic: %+v", in)
	}
	if !hasLine(s, "boom", Stderr, "panic: kaboom") || !hasLine(s, "boom", Stderr, "worker_test.go") {
		t.Fatal("the panic's stack is not in the worker's output")
	}
	clk.Advance(time.Second)
	in = w.state("boom", Crashed) // the third quick failure parks it
	if in.Restarts != 2 || !strings.Contains(in.Reason, "crash loop") {
		t.Fatalf("parked: %+v", in)
	}
	mu.Lock()
	defer mu.Unlock()
	if runs != 3 {
		t.Fatalf("%d runs, want 3", runs)
	}
}

func TestWorkerErrorAndCleanExit(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	failing := func(ctx context.Context, w Worker) error { return fmt.Errorf("no input") }
	fine := func(ctx context.Context, w Worker) error { return nil }
	for _, sp := range []Spec{
		{Name: "bad", Task: failing, Restart: RestartNever},
		{Name: "good", Task: fine, Restart: RestartOnFailure},
	} {
		if err := s.Add(sp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	if in := w.state("bad", Crashed); in.Reason != "error: no input" {
		t.Fatalf("bad: %+v", in)
	}
	if in := w.state("good", Exited); in.ExitCode == nil || *in.ExitCode != 0 {
		t.Fatalf("good: %+v", in)
	}
}

func TestAddValidatesByKind(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	fn := func(ctx context.Context, w Worker) error { return nil }
	for _, sp := range []Spec{
		{Name: "a", Kind: KindWorker},                       // no function
		{Name: "b", Task: fn, Argv: []string{"true"}},       // both
		{Name: "c", Kind: KindProcess, Task: fn},            // process with a function
		{Name: "d"},                                         // nothing to run
		{Name: "e/1", Argv: []string{"true"}},               // '/' outside a group
		{Name: "f/x", Group: "f", Task: fn},                 // not GROUP/INDEX
		{Name: "g", Kind: KindCluster, Argv: []string{"x"}}, // not addable
	} {
		if err := s.Add(sp); err == nil {
			t.Errorf("Add(%+v) accepted", sp)
		}
	}
}

func TestGroupsAndSharedCounters(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	const n, adds = 4, 1000
	var started sync.WaitGroup
	started.Add(n)
	adder := func(ctx context.Context, w Worker) error {
		started.Done()
		for range adds {
			w.Add("found", 1)
			w.Add("checked", 2)
		}
		<-ctx.Done()
		return ctx.Err()
	}
	if err := s.AddGroup(Spec{Name: "adders", Kind: KindWorker, Task: adder, Shared: []string{"found", "checked", "idle"}}, n); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Spec{Name: "adders", Argv: []string{"true"}}); !errors.Is(err, ErrExists) {
		t.Fatalf("a unit named like a group: %v", err)
	}
	if got := s.Members("adders"); len(got) != n || got[0] != "adders/0" || got[3] != "adders/3" {
		t.Fatalf("members: %v", got)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if in := w.state(MemberName("adders", i), Running); in.Group != "adders" {
			t.Fatalf("member: %+v", in)
		}
	}
	started.Wait()
	waitFor(t, "every add", func() bool {
		in, _ := s.Get("adders/2")
		return in.Counters["found"] == n*adds && in.Counters["checked"] == 2*n*adds
	})
	in, _ := s.Get("adders/0")
	if v, ok := in.Counters["idle"]; !ok || v != 0 {
		t.Fatalf("declared counter: %v", in.Counters)
	}
	for i := range n {
		if err := s.Stop(MemberName("adders", i)); err != nil {
			t.Fatal(err)
		}
	}
	w.state("adders/3", Stopped)
}

func TestWorkerCPUBusyAndIdle(t *testing.T) {
	s := newTestSupervisor(t, Options{Tick: 200 * time.Millisecond})
	w := watch(t, s)
	spin := func(ctx context.Context, w Worker) error {
		for ctx.Err() == nil {
			for i := 0; i < 1e6; i++ {
			}
		}
		return nil
	}
	idle := func(ctx context.Context, w Worker) error { <-ctx.Done(); return nil }
	for _, sp := range []Spec{{Name: "spin", Task: spin}, {Name: "idle", Task: idle}} {
		if err := s.Add(sp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	// On a shared 2-core machine the spinner gets what it is given: wait for
	// a tick that shows it clearly busy while the idle one shows nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		b, err := w.sub.Next(ctx)
		if err != nil {
			t.Fatalf("no tick showed a busy and an idle worker: %v", err)
		}
		w.absorb(b)
		if b.Stats == nil {
			continue
		}
		sp, id := b.Stats.Units["spin"], b.Stats.Units["idle"]
		if sp.CPU > 50 && id.CPU < 1 {
			if sp.RSS != 0 || id.RSS != 0 {
				t.Fatalf("a worker has memory of its own: %+v %+v", sp, id)
			}
			break
		}
	}
}

func TestDetailsThreadList(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	spin := func(ctx context.Context, w Worker) error {
		for ctx.Err() == nil {
		}
		return nil
	}
	if err := s.Add(Spec{Name: "spin", Task: spin}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Spec{Name: "proc", Argv: []string{"sleep", "60"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	in := w.state("spin", Running)
	p := w.state("proc", Running)
	d, err := s.Details("proc")
	if err != nil || len(d.ThreadList) != 1 || d.ThreadList[0].TID != p.PID || d.ThreadList[0].Name != "sleep" {
		t.Fatalf("a process's threads: %+v, %v", d.ThreadList, err)
	}
	// CPU is measured between two calls: the spinning worker's thread shows it.
	waitFor(t, "the worker's thread busy", func() bool {
		d, err := s.Details("spin")
		if err != nil {
			t.Fatal(err)
		}
		return len(d.ThreadList) == 1 && d.ThreadList[0].TID == in.TID && d.ThreadList[0].CPU > 20
	})
}

// TestShutdownDoesNotWaitForAStuckWorker: a worker that ignores its context
// is given its stop timeout, then the shutdown goes on without it.
func TestShutdownDoesNotWaitForAStuckWorker(t *testing.T) {
	s, err := New(Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	block := make(chan struct{})
	defer close(block)
	deaf := func(ctx context.Context, w Worker) error { <-block; return nil }
	if err := s.Add(Spec{Name: "deaf", Task: deaf, StopTimeout: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("deaf"); err != nil {
		t.Fatal(err)
	}
	w.state("deaf", Running)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }() // no deadline: only the stuck rule ends it
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown waited for a stuck worker")
	}
}

// SendRaw's verdict is encoding/json's: valid JSON is recorded (compacted),
// Node's own messages included (only kelpie's sends to a child refuse
// those), and anything else is refused and not recorded.
func TestWorkerSendRawVerdict(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	inputs := []string{`{"cmd":"NODE_X"}`, `{"a": 1}`, `{"a"`, ``, `1 2`, "\"\xff\"", `[1,]`}
	errs := make(chan []error, 1)
	fn := func(ctx context.Context, w Worker) error {
		var out []error
		for _, in := range inputs {
			out = append(out, w.SendRaw([]byte(in)))
		}
		errs <- out
		return nil
	}
	if err := s.Add(Spec{Name: "w", Task: fn}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("w"); err != nil {
		t.Fatal(err)
	}
	got := <-errs
	for i, in := range inputs {
		if valid := json.Valid([]byte(in)); (got[i] == nil) != valid {
			t.Errorf("SendRaw(%q): %v; json.Valid says %v", in, got[i], valid)
		}
	}
	msgs, _, _ := s.Messages("w", 0, 10)
	var kept []string
	for _, m := range msgs {
		kept = append(kept, string(m.Msg))
	}
	if want := []string{`{"cmd":"NODE_X"}`, `{"a":1}`, "\"\xff\""}; !slices.Equal(kept, want) {
		t.Fatalf("recorded %q, want %q", kept, want)
	}
}

// A worker's reply tries for the store's lock a bounded while (it then
// falls back to Lock): it takes a free lock, and gives up on a held one
// without taking it.
func TestTryLockSpin(t *testing.T) {
	var mu sync.Mutex
	if !tryLockSpin(&mu) {
		t.Fatal("a free lock was not taken")
	}
	if tryLockSpin(&mu) {
		t.Fatal("a held lock was taken")
	}
	mu.Unlock()
}
