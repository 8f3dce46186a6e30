package procs

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitLine waits until the unit's log holds a line containing substr and returns it.
func (w *watcher) waitLine(s *Supervisor, name, substr string) Line {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		lines, _ := s.Tail(name, 1000)
		for _, l := range lines {
			if strings.Contains(l.Text, substr) {
				return l
			}
		}
		b, err := w.sub.Next(ctx)
		if err != nil {
			w.t.Fatalf("waiting for %q in %s: %v; have %v", substr, name, err, lines)
		}
		w.absorb(b)
	}
}

func TestRestartBackoffAndCrashLoop(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, Jitter: func() float64 { return 0.5 }}) // jitter factor 1.0
	spec := roleSpec("crash", "exit", "3")
	spec.MaxRestarts = 3
	spec.BackoffInitial = time.Second
	spec.BackoffMax = 4 * time.Second
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	if err := s.Start("crash"); err != nil {
		t.Fatal(err)
	}
	// Failure 1 restarts at once; failure 2 waits the initial delay.
	in := w.state("crash", Backoff)
	if in.Restarts != 1 || in.ExitCode == nil || *in.ExitCode != 3 {
		t.Fatalf("after two runs: restarts=%d exit=%v, want 1 and 3", in.Restarts, in.ExitCode)
	}
	if got := in.NextStart.Sub(clk.Now()); got != time.Second {
		t.Fatalf("first backoff = %s, want 1s", got)
	}
	clk.Advance(time.Second)
	in = w.state("crash", Backoff)
	if got := in.NextStart.Sub(clk.Now()); got != 2*time.Second || in.Restarts != 2 {
		t.Fatalf("second backoff = %s restarts %d, want 2s and 2", got, in.Restarts)
	}
	clk.Advance(2 * time.Second)
	in = w.state("crash", Crashed)
	if !strings.Contains(in.Reason, "crash loop") || in.Restarts != 3 {
		t.Fatalf("parked with reason %q after %d restarts, want a crash loop after 3", in.Reason, in.Restarts)
	}
	// Start clears the failure count: the unit runs again.
	if err := s.Start("crash"); err != nil {
		t.Fatal(err)
	}
	w.until("crash", "restarted", func(in Info) bool { return in.Restarts == 4 })
}

func TestStaleTimerCannotRestartStoppedUnit(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, Jitter: func() float64 { return 0.5 }})
	spec := roleSpec("crash", "exit", "1")
	spec.BackoffInitial = time.Second
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	_ = s.Start("crash")
	in := w.state("crash", Backoff)
	if err := s.Stop("crash"); err != nil {
		t.Fatal(err)
	}
	w.state("crash", Stopped)
	clk.Advance(time.Minute)   // the old backoff timer fires now
	got, err := s.Get("crash") // runs after whatever the timer queued
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Stopped || got.Restarts != in.Restarts {
		t.Fatalf("after the stale timer: state %s restarts %d, want stopped and %d", got.State, got.Restarts, in.Restarts)
	}
}

func TestStopEscalatesToKillAfterTimeout(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	spec := roleSpec("stubborn", "ignore-term", "")
	spec.StopTimeout = 3 * time.Second
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("stubborn")
	w.waitLine(s, "stubborn", "ready") // SIGTERM is ignored from here on
	if err := s.Stop("stubborn"); err != nil {
		t.Fatal(err)
	}
	w.state("stubborn", Stopping)
	clk.Advance(3*time.Second - time.Millisecond)
	if in, _ := s.Get("stubborn"); in.State != Stopping {
		t.Fatalf("before the timeout: %s, want stopping", in.State)
	}
	clk.Advance(time.Millisecond)
	in := w.state("stubborn", Stopped)
	if in.Signal != "SIGKILL" {
		t.Fatalf("ended by %q, want SIGKILL", in.Signal)
	}
}

func TestStopKillsGrandchildrenEvenOutsideTheGroup(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(roleSpec("tree", "grandchildren", ""))
	w := watch(t, s)
	_ = s.Start("tree")
	line := w.waitLine(s, "tree", "pids ")
	var pids []int
	for _, f := range strings.Fields(strings.TrimPrefix(line.Text, "pids ")) {
		pid, _ := strconv.Atoi(f)
		pids = append(pids, pid)
	}
	if len(pids) != 2 || !alive(pids[0]) || !alive(pids[1]) {
		t.Fatalf("grandchildren %v not running", pids)
	}
	_ = s.Stop("tree")
	w.state("tree", Stopped)
	waitGone(t, pids)
}

// waitGone polls /proc until every pid is gone: the kernel offers no event for
// another process's death.
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still alive: %v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExitCodesAndPolicies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	ok := roleSpec("ok", "exit", "0")
	bad := roleSpec("bad", "exit", "7")
	bad.Restart = RestartNever
	_ = s.Add(ok)
	_ = s.Add(bad)
	w := watch(t, s)
	_ = s.StartAll()
	in := w.state("ok", Exited)
	if in.ExitCode == nil || *in.ExitCode != 0 || in.Restarts != 0 {
		t.Fatalf("ok: exit %v restarts %d", in.ExitCode, in.Restarts)
	}
	in = w.state("bad", Crashed)
	if in.ExitCode == nil || *in.ExitCode != 7 || in.Reason != "exit status 7" {
		t.Fatalf("bad: exit %v reason %q", in.ExitCode, in.Reason)
	}
	if err := s.Stop("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stop of an unknown unit: %v", err)
	}
	if err := s.Signal("bad", syscall.SIGTERM); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("signal to an ended unit: %v", err)
	}
}

func TestStartFailureIsReported(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(Spec{Name: "missing", Argv: []string{"/nonexistent/kelpie-test"}, Restart: RestartNever})
	w := watch(t, s)
	_ = s.Start("missing")
	in := w.state("missing", Crashed)
	if !strings.Contains(in.Reason, "failed to start") {
		t.Fatalf("reason %q", in.Reason)
	}
}

func TestKillRestartsImmediatelyAfterHealthyRun(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	spec := roleSpec("svc", "sleep", "")
	spec.Restart = RestartAlways
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("svc")
	first := w.state("svc", Running)
	w.waitLine(s, "svc", "ready")
	clk.Advance(time.Minute) // a healthy uptime
	if err := s.Kill("svc"); err != nil {
		t.Fatal(err)
	}
	in := w.until("svc", "running again", func(in Info) bool { return in.State == Running && in.PID != first.PID })
	if in.Restarts != 1 || !in.NextStart.IsZero() {
		t.Fatalf("restarts %d next %v: want an immediate first restart", in.Restarts, in.NextStart)
	}
}

func TestFloodIsReadWholeWithinTheCap(t *testing.T) {
	const n = 200000
	s := newTestSupervisor(t, Options{})
	spec := roleSpec("flood", "flood", strconv.Itoa(n))
	spec.LogBuffer = 256 << 10
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("flood")
	w.state("flood", Exited)
	// All lines arrive: 1 "started" event + n lines + 1 exit event.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for s.ring("flood").Last() < n+2 {
		b, err := w.sub.Next(ctx)
		w.absorb(b)
		if err != nil {
			t.Fatalf("lines: %d of %d", s.ring("flood").Last(), n+2)
		}
	}
	r := s.ring("flood")
	r.mu.Lock()
	used, limit := r.used, r.limit
	r.mu.Unlock()
	if used > limit {
		t.Fatalf("ring holds %d bytes, cap %d", used, limit)
	}
	lines, missed := r.Since(0, 10)
	if missed == 0 || len(lines) != 10 {
		t.Fatalf("missed %d, got %d lines: the oldest should have been evicted", missed, len(lines))
	}
	ys := 0
	for _, l := range r.Tail(5000) {
		if l.Stream == Stdout {
			if len(l.Text) != 99 {
				t.Fatalf("line %d has %d bytes", l.Seq, len(l.Text))
			}
			ys++
		}
	}
	if ys < 1000 {
		t.Fatalf("only %d output lines kept in the tail", ys)
	}
}

func TestMegabyteLineWithoutNewline(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	spec := roleSpec("big", "bigline", strconv.Itoa(1<<20))
	spec.LogBuffer = 4 << 20
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("big")
	// The child closed stdout but keeps running: the line is complete on EOF.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	total := 0
	for total < 1<<20 {
		total = 0
		for _, l := range s.ring("big").Tail(1000) {
			if l.Stream == Stdout {
				total += len(strings.TrimSuffix(l.Text, cutMarker))
			}
		}
		if total >= 1<<20 {
			break
		}
		b, err := w.sub.Next(ctx)
		w.absorb(b)
		if err != nil {
			t.Fatalf("got %d of %d bytes", total, 1<<20)
		}
	}
	pieces := 0
	for _, l := range s.ring("big").Tail(1000) {
		if l.Stream == Stdout {
			pieces++
			if len(strings.TrimSuffix(l.Text, cutMarker)) > DefaultMaxLine {
				t.Fatalf("a piece of %d bytes", len(l.Text))
			}
			// Every piece but the last is marked cut, in its text and JSON.
			if cut := strings.HasSuffix(l.Text, cutMarker); cut != l.Truncated {
				t.Fatalf("piece %d: cut mark %v, truncated %v", l.Seq, cut, l.Truncated)
			}
		}
	}
	if pieces != (1<<20)/DefaultMaxLine || total != 1<<20 {
		t.Fatalf("%d pieces, %d bytes", pieces, total)
	}
	if in, _ := s.Get("big"); in.State != Running {
		t.Fatalf("the child should still be running, is %s", in.State)
	}
}

func TestSubscribeSnapshotThenEvents(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(roleSpec("a", "sleep", ""))
	snap, sub := s.Subscribe()
	defer sub.Close()
	if len(snap) != 1 || snap[0].State != Stopped {
		t.Fatalf("snapshot %+v", snap)
	}
	_ = s.Start("a")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := sub.Next(ctx)
	if err != nil || len(b.States) == 0 || b.States[0].State != Running {
		t.Fatalf("first batch %+v, %v", b, err)
	}
}

func TestDetailsAndTree(t *testing.T) {
	s := newTestSupervisor(t, Options{Tick: 20 * time.Millisecond})
	_ = s.Add(roleSpec("tree", "grandchildren", ""))
	quick := roleSpec("quick", "exit", "4")
	quick.Restart = RestartNever
	_ = s.Add(quick)
	w := watch(t, s)
	_ = s.StartAll()
	w.waitLine(s, "tree", "pids ")
	// Wait for a stats tick that sees all three processes of the tree.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var us UnitStats
	for us.Procs < 3 {
		b, err := w.sub.Next(ctx)
		if err != nil {
			t.Fatalf("no tick with the whole tree: %+v", us)
		}
		w.absorb(b)
		if b.Stats != nil {
			us = b.Stats.Units["tree"]
		}
	}
	if us.Tree[0].Depth != 0 || us.Tree[0].PID == 0 || us.RSS == 0 {
		t.Fatalf("tree %+v", us.Tree)
	}
	d, err := s.Details("tree")
	if err != nil {
		t.Fatal(err)
	}
	if d.PPID != os.Getpid() || d.Threads < 1 || d.OpenFiles < 3 || d.StartTime.IsZero() || len(d.Argv) == 0 {
		t.Fatalf("details %+v", d)
	}
	w.state("quick", Crashed)
	d, _ = s.Details("quick")
	if len(d.Exits) == 0 || d.Exits[len(d.Exits)-1].ExitCode == nil || *d.Exits[len(d.Exits)-1].ExitCode != 4 {
		t.Fatalf("exit history %+v", d.Exits)
	}
}

func TestRemove(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(roleSpec("a", "sleep", ""))
	w := watch(t, s)
	_ = s.Start("a")
	w.state("a", Running)
	if err := s.Remove("a"); !errors.Is(err, ErrRunning) {
		t.Fatalf("remove of a running unit: %v", err)
	}
	_ = s.Stop("a")
	w.state("a", Stopped)
	if err := s.Remove("a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		b, err := w.sub.Next(ctx)
		if err != nil {
			t.Fatal("no Removed in any batch")
		}
		if slices.Contains(b.Removed, "a") {
			break
		}
	}
	if len(s.List()) != 0 {
		t.Fatalf("still listed: %v", s.List())
	}
	if _, err := s.Tail("a", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("log still there: %v", err)
	}
}

// The start of a run is logged before anything the run prints, for a
// process (whose first line may be read before the owner loop moves on) and
// for a worker goroutine alike, so `kelpie logs` reads in order.
func TestStartedEventComesBeforeOutput(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	hello := func(ctx context.Context, w Worker) error {
		_, err := io.WriteString(w.Stdout(), "first words\n")
		<-ctx.Done()
		return err
	}
	if err := s.Add(Spec{Name: "p", Shell: "echo first words; exec sleep 424296"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Spec{Name: "w", Task: hello}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	for _, name := range []string{"p", "w"} {
		if err := s.Start(name); err != nil {
			t.Fatal(err)
		}
		w.waitLine(s, name, "first words")
		lines, _ := s.Tail(name, 10)
		if len(lines) < 2 || lines[0].Stream != Event || !strings.HasPrefix(lines[0].Text, "started: ") || lines[1].Text != "first words" {
			t.Fatalf("%s's log: %+v; want the start event, then its output", name, lines)
		}
		want := "started: goroutine"
		if in := w.until(name, "a pid", func(in Info) bool { return name == "w" || in.PID > 0 }); name == "p" {
			want = "started: pid " + strconv.Itoa(in.PID)
		}
		if lines[0].Text != want {
			t.Fatalf("%s's start event %q, want %q", name, lines[0].Text, want)
		}
	}
}
