package procs

import (
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logText is the unit's whole log, one line per entry.
func logText(s *Supervisor, name string) string {
	lines, _ := s.Tail(name, 10000)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// A `sh -c` wrapper dies at once on SIGTERM; its child traps TERM and takes
// 300 ms to shut down. The group gets that time: the child's last line is in
// the log, and nothing needed SIGKILL.
func TestStopLetsTheGroupDrainAfterTheShellDies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	// The inner sh is a child of the outer one (the `; true` keeps the
	// outer sh from exec'ing it) and survives it.
	inner := `trap "sleep 0.3; echo drained; exit 0" TERM; echo ready; while :; do sleep 0.05; done`
	spec := Spec{Name: "app", Shell: "sh -c '" + inner + "'; true", StopTimeout: 20 * time.Second}
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	_ = s.Start("app")
	w.waitLine(s, "app", "ready")
	if err := s.Stop("app"); err != nil {
		t.Fatal(err)
	}
	w.state("app", Stopped)
	log := logText(s, "app")
	d := strings.Index(log, "drained")
	st := strings.LastIndex(log, "stopped")
	if d < 0 || st < d {
		t.Fatalf("want \"drained\" before \"stopped\" in the log:\n%s", log)
	}
	if strings.Contains(log, "SIGKILL to the process group") {
		t.Fatalf("SIGKILL was sent:\n%s", log)
	}
}

// A SIGSTOPped unit gets SIGCONT after its stop signal, so it stops at once
// instead of waiting out the timeout (the fake clock never moves here).
func TestStopOfAStoppedProcessDoesNotWaitForTheTimeout(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	spec := roleSpec("frozen", "sleep", "")
	spec.StopTimeout = time.Hour
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("frozen")
	w.waitLine(s, "frozen", "ready")
	if err := s.Signal("frozen", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop("frozen"); err != nil {
		t.Fatal(err)
	}
	in := w.state("frozen", Stopped)
	if in.Signal == "SIGKILL" {
		t.Fatalf("ended by SIGKILL, want the stop signal")
	}
}

// A child that ignores TERM, left behind by its dead `sh -c` wrapper, gets
// SIGKILL when the stop timeout (counted from the stop request) passes, and
// only then is the unit stopped.
func TestStopKillsWhatIgnoresTermAtTheTimeout(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	inner := `trap "" TERM; echo ready $$; while :; do sleep 0.05; done`
	spec := Spec{Name: "deaf", Shell: "sh -c '" + inner + "'; true", StopTimeout: 3 * time.Second}
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("deaf")
	line := w.waitLine(s, "deaf", "ready ")
	pid, _ := strconv.Atoi(strings.TrimPrefix(line.Text, "ready "))
	if err := s.Stop("deaf"); err != nil {
		t.Fatal(err)
	}
	w.waitLine(s, "deaf", "waiting for the rest of the process group")
	if in, _ := s.Get("deaf"); in.State != Stopping || !alive(pid) {
		t.Fatalf("after the shell ended: %s, child alive %v; want stopping and alive", in.State, alive(pid))
	}
	clk.Advance(3 * time.Second)
	w.state("deaf", Stopped)
	if !strings.Contains(logText(s, "deaf"), "SIGKILL to the process group") {
		t.Fatalf("no SIGKILL in the log:\n%s", logText(s, "deaf"))
	}
	waitGone(t, []int{pid})
}

func TestBackoffJitterNeverPassesTheCeiling(t *testing.T) {
	for n := 1; n < 12; n++ {
		if d := backoffDelay(n, time.Second, 4*time.Second, func() float64 { return 0.999 }); d > 4*time.Second {
			t.Fatalf("failure %d: delay %s past the 4s ceiling", n, d)
		}
	}
	// Through the supervisor, with the injected clock and jitter.
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, Jitter: func() float64 { return 0.999 }})
	spec := roleSpec("crash", "exit", "1")
	spec.BackoffInitial = time.Second
	spec.BackoffMax = time.Second
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("crash")
	in := w.state("crash", Backoff)
	if got := in.NextStart.Sub(clk.Now()); got != time.Second {
		t.Fatalf("backoff %s, want the 1s ceiling", got)
	}
}

// A unit stopped while waiting in backoff shows nothing about a restart.
func TestStoppedDuringBackoffShowsNoRestart(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, Jitter: func() float64 { return 0.5 }})
	spec := roleSpec("crash", "exit", "1")
	spec.BackoffInitial = time.Second
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("crash")
	w.state("crash", Backoff)
	_ = s.Stop("crash")
	in := w.state("crash", Stopped)
	if !in.NextStart.IsZero() || strings.Contains(in.Reason, "restarting") {
		t.Fatalf("stopped unit: next %v reason %q", in.NextStart, in.Reason)
	}
}

// Restart of a unit that never ran returns with it running.
func TestRestartOfANeverStartedUnit(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(roleSpec("idle", "sleep", ""))
	if err := s.Restart("idle"); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Get("idle"); in.State != Running || in.PID == 0 {
		t.Fatalf("after restart: %s pid %d", in.State, in.PID)
	}
}

// Fifty concurrent restarts all return with the unit running.
func TestConcurrentRestartsAllReturnRunning(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(roleSpec("svc", "sleep", ""))
	w := watch(t, s)
	_ = s.Start("svc")
	w.state("svc", Running)
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, err := s.RestartInfo("svc")
			if err != nil {
				errs <- err.Error()
				return
			}
			if in.State != Running {
				errs <- "returned with the unit " + string(in.State)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A Stop while a Restart waits for the old run to end cancels the restart,
// and the waiting call says so instead of hanging.
func TestRestartCancelledByStop(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	spec := roleSpec("deaf", "ignore-term", "")
	spec.StopTimeout = time.Second
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("deaf")
	w.waitLine(s, "deaf", "ready")
	done := make(chan error, 1)
	go func() { done <- s.Restart("deaf") }()
	w.state("deaf", Stopping)
	_ = s.Stop("deaf")
	if err := <-done; err == nil {
		t.Fatal("restart cancelled by a stop returned no error")
	}
	clk.Advance(time.Second)
	w.state("deaf", Stopped)
}

// A unit whose main process is stopped shows as paused, and as running again
// once continued.
func TestStoppedProcessShowsPaused(t *testing.T) {
	s := newTestSupervisor(t, Options{Tick: 20 * time.Millisecond})
	_ = s.Add(roleSpec("svc", "sleep", ""))
	w := watch(t, s)
	_ = s.Start("svc")
	w.waitLine(s, "svc", "ready")
	_ = s.Signal("svc", syscall.SIGSTOP)
	w.state("svc", Paused)
	_ = s.Signal("svc", syscall.SIGCONT)
	w.state("svc", Running)
	_ = s.Signal("svc", syscall.SIGSTOP)
	w.state("svc", Paused)
	_ = s.Stop("svc")
	w.state("svc", Stopped)
}
