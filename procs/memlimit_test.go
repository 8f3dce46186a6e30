package procs

import (
	"strings"
	"testing"
	"time"
)

// TestMemoryLimitRestarts: a child whose tree grows past max_memory is
// restarted gracefully (its stop signal, no SIGKILL) with the reason naming
// both figures, and counted as a restart.
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
	w.until("hog", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
	if !hasLine(s, "hog", Event, "restarting: memory limit (") {
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
