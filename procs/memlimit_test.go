package procs

import (
	"strings"
	"testing"
	"time"
)

// TestMemoryLimitRestarts: a child whose tree grows past max_memory is
// restarted gracefully (its stop signal, no SIGKILL) with the reason naming
// both figures, and counted as a restart; the new run says why.
func TestMemoryLimitRestarts(t *testing.T) {
	s := newTestSupervisor(t, Options{Tick: 20 * time.Millisecond})
	w := watch(t, s)
	// tail keeps a newline-less input whole: 60 MB held until EOF.
	spec := Spec{Name: "hog", Shell: "(head -c 60000000 /dev/zero; exec sleep 60) | tail",
		MaxMemory: 40 << 20, StopTimeout: 5 * time.Second}
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("hog"); err != nil {
		t.Fatal(err)
	}
	w.until("hog", "stopping for its memory", func(in Info) bool {
		return in.State == Stopping && strings.HasPrefix(in.Reason, "memory limit (") && strings.HasSuffix(in.Reason, " MiB > 40 MiB)")
	})
	in := w.until("hog", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
	if !strings.HasPrefix(in.Reason, "last run: memory limit (") {
		t.Errorf("the new run's reason %q does not say why", in.Reason)
	}
	if !hasLine(s, "hog", Event, "unhealthy: memory limit (") {
		t.Error("no event line for the memory restart")
	}
	if !hasLine(s, "hog", Event, "stopping: SIGTERM to the process group") {
		t.Error("the memory restart was not a graceful stop")
	}
	if hasLine(s, "hog", Event, "still running after") {
		t.Error("the unit needed SIGKILL: the stop was not graceful")
	}
}

// TestMemoryLimitNeedsThreeInARow: a sample under the limit resets the
// count, so only three samples over in a row restart the unit.
func TestMemoryLimitNeedsThreeInARow(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	if err := s.Add(Spec{Name: "u", Shell: "exec sleep 60", MaxMemory: 100 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("u"); err != nil {
		t.Fatal(err)
	}
	w.state("u", Running)
	feed := func(rss uint64) State {
		var st State
		if err := s.call(func() { s.checkMemory(s.units["u"], rss); st = s.units["u"].info.State }); err != nil {
			t.Fatal(err)
		}
		return st
	}
	for i, rss := range []uint64{200 << 20, 200 << 20, 50 << 20, 200 << 20, 200 << 20} {
		if st := feed(rss); st != Running {
			t.Fatalf("sample %d (%d MiB): state %s, want running", i, rss>>20, st)
		}
	}
	if st := feed(412 << 20); st != Stopping {
		t.Fatalf("third sample over in a row: state %s, want stopping", st)
	}
	in := w.state("u", Stopping)
	if in.Reason != "memory limit (412 MiB > 100 MiB)" {
		t.Errorf("reason %q", in.Reason)
	}
	w.until("u", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
}

// overLimit feeds the unit memLimitSamples samples over its limit, as the
// sampler would, and returns its state after them.
func overLimit(t *testing.T, s *Supervisor, name string) State {
	t.Helper()
	var st State
	if err := s.call(func() {
		u := s.units[name]
		for range memLimitSamples {
			s.checkMemory(u, u.spec.MaxMemory+1)
		}
		st = u.info.State
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMemoryLimitCrashLoop: a memory-limit restart is a failed run for the
// restart policy: the second waits out the backoff, and MaxRestarts quick
// failures in a row park the unit as crashed, the reason saying why, as a
// crashing unit is; a run seen under its limit for MinUptime resets the
// count.
func TestMemoryLimitCrashLoop(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, Jitter: func() float64 { return 0.5 }})
	w := watch(t, s)
	spec := roleSpec("hog", "sleep", "")
	spec.MaxMemory, spec.MaxRestarts = 100<<20, 2
	spec.BackoffInitial, spec.MinUptime = time.Second, 5*time.Second
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("hog"); err != nil {
		t.Fatal(err)
	}
	w.state("hog", Running)
	if st := overLimit(t, s, "hog"); st != Stopping {
		t.Fatalf("over the limit: state %s, want stopping", st)
	}
	w.until("hog", "restarted at once (first failure)", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
	// Seen under the limit MinUptime after its start: a healthy run, the
	// count starts again (restarted at once, no backoff).
	clk.Advance(6 * time.Second)
	_ = s.call(func() { s.checkMemory(s.units["hog"], 1<<20) })
	overLimit(t, s, "hog")
	w.until("hog", "restarted at once after a healthy run", func(in Info) bool { return in.State == Running && in.Restarts == 2 })
	// Over the limit from the start: quick failures.
	overLimit(t, s, "hog")
	in := w.state("hog", Backoff)
	if !strings.HasPrefix(in.Reason, "memory limit (") || !strings.Contains(in.Reason, "failure 2 in a row") {
		t.Fatalf("backoff reason %q", in.Reason)
	}
	clk.Advance(time.Second)
	w.until("hog", "restarted after the backoff", func(in Info) bool { return in.State == Running && in.Restarts == 3 })
	overLimit(t, s, "hog")
	in = w.state("hog", Crashed)
	if !strings.HasPrefix(in.Reason, "crash loop: 3 quick failures") || !strings.Contains(in.Reason, "last: memory limit (") {
		t.Fatalf("parked with reason %q", in.Reason)
	}
	if in.Restarts != 3 {
		t.Fatalf("restarts %d, want 3", in.Restarts)
	}
}

// TestMemoryLimitRestartPolicy: restart never parks a unit over its limit
// as crashed, the limit as its reason; on-failure restarts it (a memory
// limit is a failure).
func TestMemoryLimitRestartPolicy(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	for name, policy := range map[string]RestartPolicy{"never": RestartNever, "onfail": RestartOnFailure} {
		spec := roleSpec(name, "sleep", "")
		spec.MaxMemory, spec.Restart = 100<<20, policy
		if err := s.Add(spec); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(name); err != nil {
			t.Fatal(err)
		}
		w.state(name, Running)
		overLimit(t, s, name)
	}
	in := w.state("never", Crashed)
	if !strings.HasPrefix(in.Reason, "memory limit (") || in.Restarts != 0 {
		t.Fatalf("restart never: reason %q, restarts %d", in.Reason, in.Restarts)
	}
	w.until("onfail", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
}
