package procs

import (
	"syscall"
	"testing"
	"time"
)

// everySchedule is a run every d.
type everySchedule struct{ d time.Duration }

func (e everySchedule) Next(t time.Time) time.Time { return t.Add(e.d) }

// TestScheduleRunsOnTimeAndSkipsOverlap, on an injected clock: StartAll
// leaves a scheduled unit alone; each due time starts a run; a run still
// going when the next is due makes that one skipped (and logged); Info
// carries the next run's time throughout.
func TestScheduleRunsOnTimeAndSkipsOverlap(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.Now()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	spec := roleSpec("job", "sleep", "")
	spec.Schedule, spec.ScheduleText = everySchedule{30 * time.Second}, "@every 30s"
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	in, err := s.Get("job")
	if err != nil {
		t.Fatal(err)
	}
	if in.State != Stopped || !in.NextRun.Equal(t0.Add(30*time.Second)) || in.Schedule != "@every 30s" || in.Restart != RestartNever {
		t.Fatalf("after StartAll: %s next %v schedule %q restart %s", in.State, in.NextRun, in.Schedule, in.Restart)
	}

	clk.Advance(30 * time.Second)
	first := w.until("job", "first run", func(in Info) bool {
		return in.State == Running && in.NextRun.Equal(t0.Add(60*time.Second))
	})

	// Due again while the first run goes on: skipped, the run untouched.
	clk.Advance(30 * time.Second)
	in = w.until("job", "skip", func(in Info) bool { return in.NextRun.Equal(t0.Add(90 * time.Second)) })
	if in.State != Running || in.PID != first.PID || in.Restarts != 0 {
		t.Fatalf("after the skip: %s pid %d (was %d) restarts %d", in.State, in.PID, first.PID, in.Restarts)
	}
	if !hasLine(s, "job", Event, "skipped: the previous run is still going") {
		t.Error("the skipped run was not logged")
	}

	// The run ends (restart never is implied): the next time starts one.
	if err := s.Signal("job", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	w.until("job", "ended", func(in Info) bool { return !in.State.Live() })
	clk.Advance(30 * time.Second)
	in = w.until("job", "second run", func(in Info) bool {
		return in.State == Running && in.NextRun.Equal(t0.Add(120*time.Second))
	})
	if in.PID == first.PID {
		t.Error("the second run has the first run's pid")
	}

	// Removed, its schedule goes too.
	if err := s.Stop("job"); err != nil {
		t.Fatal(err)
	}
	w.state("job", Stopped)
	if err := s.Remove("job"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := s.Get("job"); err == nil {
		t.Error("the removed unit came back")
	}
}
