package procs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stopLog records the order in which workers saw their stop.
type stopLog struct {
	mu    sync.Mutex
	names []string
}

func (l *stopLog) add(name string) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
}

func (l *stopLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}

// svc is a worker that runs until stopped, noting its stop in log (if any).
func svc(name string, log *stopLog, deps ...Dependency) Spec {
	return Spec{Name: name, Kind: KindWorker, Restart: RestartNever, DependsOn: deps,
		Task: func(ctx context.Context, w Worker) error {
			<-ctx.Done()
			if log != nil {
				log.add(w.Name())
			}
			return nil
		}}
}

// job is a one-shot worker that ends with err once end is closed.
func job(name string, end chan struct{}, err error) Spec {
	return Spec{Name: name, Kind: KindWorker, Restart: RestartNever,
		Task: func(ctx context.Context, w Worker) error {
			select {
			case <-end:
				return err
			case <-ctx.Done():
				return nil
			}
		}}
}

func dep(name string, c Condition) Dependency { return Dependency{Name: name, Condition: c} }

// markReady makes the unit's run ready, as a probe or a message would.
func markReady(t *testing.T, s *Supervisor, name string) {
	t.Helper()
	if err := s.call(func() { s.setReady(s.units[name], "test") }); err != nil {
		t.Fatal(err)
	}
}

func addAll(t *testing.T, s *Supervisor, specs ...Spec) {
	t.Helper()
	for _, sp := range specs {
		if err := s.Add(sp); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDependsOnStartedWaitsThenStarts(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	db := svc("db", nil)
	db.Disabled = true
	// web comes first in the order: the wait must not depend on it.
	addAll(t, s, svc("web", nil, dep("db", CondStarted)), db)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("web", Waiting)
	// StartAll has returned: web has been decided on, and still waits.
	if in, _ := s.Get("web"); in.State != Waiting || in.Reason != "waiting for db (started)" || in.State.Live() {
		t.Fatalf("web before db started: %s %q", in.State, in.Reason)
	}
	if err := s.Start("db"); err != nil {
		t.Fatal(err)
	}
	w.state("web", Running)
	if db, _ := s.Get("db"); db.State != Running {
		t.Fatalf("web started while db is %s", db.State)
	}
}

func TestDependsOnReady(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	db := svc("db", nil)
	db.AwaitReady = true
	addAll(t, s, db, svc("web", nil, dep("db", CondReady)), svc("plain", nil), svc("api", nil, dep("plain", CondReady)))
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	// A unit without a readiness signal is ready once running.
	w.state("api", Running)
	if in, _ := s.Get("web"); in.State != Waiting || in.Reason != "waiting for db (ready)" {
		t.Fatalf("web before db is ready: %s %q", in.State, in.Reason)
	}
	markReady(t, s, "db")
	w.state("web", Running)
}

func TestDependsOnCompleted(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cond    Condition
		fail    error
		want    State
		wantWhy string
	}{
		{"completed after success", CondCompleted, nil, Running, ""},
		{"completed after failure", CondCompleted, errors.New("boom"), Running, ""},
		{"successfully after success", CondCompletedSuccessfully, nil, Running, ""},
		{"successfully after failure", CondCompletedSuccessfully, errors.New("boom"), Crashed, "dependency migrate (completed_successfully) can never hold: migrate crashed"},
		{"started after exit", CondStarted, nil, Crashed, "dependency migrate (started) can never hold: migrate exited and will not be restarted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSupervisor(t, Options{})
			end := make(chan struct{})
			web := svc("web", nil, dep("migrate", tt.cond))
			if tt.cond == CondStarted {
				web.DependsOn = append(web.DependsOn, dep("never", CondStarted)) // keeps it waiting until migrate ends
				never := svc("never", nil)
				never.Disabled = true
				addAll(t, s, never)
			}
			addAll(t, s, job("migrate", end, tt.fail), web)
			w := watch(t, s)
			if err := s.StartAll(); err != nil {
				t.Fatal(err)
			}
			w.state("web", Waiting)
			close(end)
			in := w.until("web", string(tt.want), func(in Info) bool { return in.State == tt.want })
			if !strings.HasPrefix(in.Reason, tt.wantWhy) {
				t.Fatalf("web %s with reason %q, want %q", in.State, in.Reason, tt.wantWhy)
			}
		})
	}
}

func TestDependsOnCrashLoopingDependencyFailsTheWaiter(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	db := Spec{Name: "db", Kind: KindWorker, AwaitReady: true, MaxRestarts: 1,
		Task: func(ctx context.Context, w Worker) error { return errors.New("no disk") }}
	addAll(t, s, db, svc("web", nil, dep("db", CondReady)))
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	in := w.state("web", Crashed)
	if !strings.Contains(in.Reason, "dependency db (ready) can never hold: db crashed: crash loop") {
		t.Fatalf("web crashed with reason %q", in.Reason)
	}
}

func TestDependsOnChainOfThree(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	a, b, c := svc("a", nil), svc("b", nil, dep("a", CondReady)), svc("c", nil, dep("b", CondReady))
	a.AwaitReady, b.AwaitReady = true, true
	addAll(t, s, c, b, a)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("a", Running)
	w.state("b", Waiting)
	w.state("c", Waiting)
	markReady(t, s, "a")
	w.state("b", Running)
	if in, _ := s.Get("c"); in.State != Waiting || in.Reason != "waiting for b (ready)" {
		t.Fatalf("c after a is ready: %s %q", in.State, in.Reason)
	}
	markReady(t, s, "b")
	w.state("c", Running)
}

func TestDependsOnGroup(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	g := svc("g", nil)
	g.AwaitReady = true
	if err := s.AddGroup(g, 2); err != nil {
		t.Fatal(err)
	}
	addAll(t, s, svc("web", nil, dep("g", CondReady)))
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("g/1", Running)
	markReady(t, s, "g/0")
	if in, _ := s.Get("web"); in.State != Waiting {
		t.Fatalf("web with one of two members ready: %s", in.State)
	}
	markReady(t, s, "g/1")
	w.state("web", Running)
}

// stack is a -> b -> c (c depends on b, b on a), each logging its stop.
func stack(t *testing.T, s *Supervisor, log *stopLog) {
	t.Helper()
	addAll(t, s, svc("a", log), svc("b", log, dep("a", CondStarted)), svc("c", log, dep("b", CondStarted)))
}

func TestStopAllStopsDependentsFirst(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	log := &stopLog{}
	stack(t, s, log)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("c", Running)
	if err := s.StopAll(); err != nil {
		t.Fatal(err)
	}
	w.state("a", Stopped)
	if got := log.get(); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("stop order %v, want [c b a]", got)
	}
}

func TestShutdownStopsDependentsFirst(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	log := &stopLog{}
	stack(t, s, log)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("c", Running)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := log.get(); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("stop order %v, want [c b a]", got)
	}
}

func TestStartOfDependentStartsItsDependencies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	stack(t, s, nil)
	w := watch(t, s)
	if err := s.Start("c"); err != nil {
		t.Fatal(err)
	}
	w.state("a", Running)
	w.state("b", Running)
	w.state("c", Running)
	w.waitLine(s, "c", "starting its dependencies first: a, b")
}

func TestDependencyRestartLeavesDependentRunning(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	stack(t, s, nil)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	before := w.state("c", Running)
	if err := s.Restart("b"); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Get("c"); in.State != Running || in.Restarts != 0 || in.StartedAt != before.StartedAt {
		t.Fatalf("c after b restarted: %s, %d restarts", in.State, in.Restarts)
	}
}

func TestAddRejectsBadDependencies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	for _, sp := range []Spec{
		svc("self", nil, dep("self", CondStarted)),
		svc("odd", nil, dep("db", "healthy")),
		svc("blank", nil, dep("", CondReady)),
	} {
		if err := s.Add(sp); err == nil {
			t.Errorf("Add(%s with %v) accepted it", sp.Name, sp.DependsOn)
		}
	}
	g := svc("g", nil, dep("g", CondStarted))
	if err := s.AddGroup(g, 1); err == nil {
		t.Error("a group member depending on its own group was accepted")
	}
}

func TestPolicyRestartWaitsForDependencies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	fail := make(chan struct{})
	web := Spec{Name: "web", Kind: KindWorker, Restart: RestartOnFailure, DependsOn: []Dependency{dep("db", CondStarted)},
		Task: func(ctx context.Context, w Worker) error {
			select {
			case <-fail:
				return errors.New("lost the database")
			case <-ctx.Done():
				return nil
			}
		}}
	addAll(t, s, svc("db", nil), web)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("web", Running)
	if err := s.Stop("db"); err != nil {
		t.Fatal(err)
	}
	w.state("db", Stopped)
	if in, _ := s.Get("web"); in.State != Running {
		t.Fatalf("web after its dependency stopped: %s (a stop of one unit leaves its dependents)", in.State)
	}
	close(fail) // every run of web fails from now on, at once
	in := w.state("web", Waiting)
	if in.Reason != "waiting for db (started)" || in.Restarts != 0 {
		t.Fatalf("web's restart: %s %q after %d restarts", in.State, in.Reason, in.Restarts)
	}
	// Its restart is pending on db, not spinning: starting db lets it run
	// (and fail again, under its policy).
	if err := s.Start("db"); err != nil {
		t.Fatal(err)
	}
	w.until("web", "restarted", func(in Info) bool { return in.Restarts >= 1 })
}

func TestStopAllStopsGroupAfterItsDependents(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	log := &stopLog{}
	if err := s.AddGroup(svc("g", log), 2); err != nil {
		t.Fatal(err)
	}
	addAll(t, s, svc("web", log, dep("g", CondStarted)), svc("other", nil))
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("web", Running)
	if err := s.StopAll(); err != nil {
		t.Fatal(err)
	}
	w.state("g/0", Stopped)
	w.state("g/1", Stopped)
	if got := log.get(); len(got) != 3 || got[0] != "web" {
		t.Fatalf("stop order %v, want web before g/0 and g/1", got)
	}
}

// A `ready` dependency on a unit with a `ready:` probe waits for the probe
// to pass, not merely for the unit to run.
func TestDependsOnReadyProbe(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	flag := filepath.Join(t.TempDir(), "go")
	db := Spec{Name: "db", Shell: "echo booting; while [ ! -e " + flag + " ]; do sleep 0.01; done; echo ready now; exec sleep 60",
		Ready: &Probe{Kind: ProbeLog, Log: "ready now", SuccessThreshold: 1, FailureThreshold: 3, Period: time.Second, Timeout: time.Second}}
	web := Spec{Name: "web", Shell: "exec sleep 60", DependsOn: []Dependency{dep("db", CondReady)}}
	addAll(t, s, db, web)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("db", Running)
	if in, _ := s.Get("web"); in.State != Waiting {
		t.Fatalf("web started before db's probe passed: %s %q", in.State, in.Reason)
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w.state("web", Running)
	if in, _ := s.Get("db"); !in.Ready {
		t.Fatalf("web runs but db is not ready: %+v", in)
	}
}

// TestScaleWaitsForDependencies: a member added by Scale waits, its reason
// shown, while the group's dependency does not hold, as the members StartAll
// started do, and starts with them once it holds; Start of a member starts
// what it depends on first.
func TestScaleWaitsForDependencies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	db := svc("db", nil)
	db.Disabled, db.AwaitReady = true, true
	addAll(t, s, db)
	if err := s.AddGroup(svc("w", nil, dep("db", CondReady)), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("w/0", Waiting)
	if err := s.Scale("w", 3); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"w/1", "w/2"} {
		if in, _ := s.Get(m); in.State != Waiting || in.Reason != "waiting for db (ready)" {
			t.Fatalf("%s after scale: %s %q, want waiting for db (ready)", m, in.State, in.Reason)
		}
	}
	// Start of one member pulls the dependency up; every member starts once
	// it is ready.
	if err := s.Stop("w/2"); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Get("w/2"); in.State != Stopped { // a waiting unit stops at once
		t.Fatalf("w/2 after stop: %s", in.State)
	}
	if err := s.Start("w/2"); err != nil {
		t.Fatal(err)
	}
	w.state("db", Running)
	if in, _ := s.Get("w/2"); in.State != Waiting {
		t.Fatalf("w/2 started before db was ready: %s", in.State)
	}
	markReady(t, s, "db")
	for _, m := range []string{"w/0", "w/1", "w/2"} {
		w.state(m, Running)
	}
}

// TestReloadWaitsForDependencies: a rolling reload's new member waits for
// the group's dependency (the old member serving meanwhile), then replaces
// the old one; for a group that signals readiness, it must then be ready.
func TestReloadWaitsForDependencies(t *testing.T) {
	for _, signals := range []bool{false, true} {
		t.Run(map[bool]string{false: "running", true: "ready"}[signals], func(t *testing.T) {
			s := newTestSupervisor(t, Options{})
			w := watch(t, s)
			db := svc("db", nil)
			db.AwaitReady = true
			addAll(t, s, db)
			g := svc("w", nil, dep("db", CondReady))
			g.AwaitReady = signals
			if err := s.AddGroup(g, 1); err != nil {
				t.Fatal(err)
			}
			if err := s.StartAll(); err != nil {
				t.Fatal(err)
			}
			markReady(t, s, "db")
			w.state("w/0", Running)
			if signals {
				markReady(t, s, "w/0")
			}
			// A dependency stopping leaves its dependents running.
			if err := s.Stop("db"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "db stopped", func() bool { in, _ := s.Get("db"); return in.State == Stopped })
			done := make(chan error, 1)
			go func() { done <- s.Reload("w") }()
			in := w.state("w/1", Waiting)
			if in.Reason != "waiting for db (ready)" {
				t.Fatalf("new member's reason %q", in.Reason)
			}
			if in, _ := s.Get("w/0"); in.State != Running {
				t.Fatalf("the old member did not keep serving: %s", in.State)
			}
			if err := s.Start("db"); err != nil {
				t.Fatal(err)
			}
			markReady(t, s, "db")
			w.state("w/1", Running)
			if signals {
				select {
				case err := <-done:
					t.Fatalf("reload ended before the new member was ready: %v", err)
				default:
				}
				markReady(t, s, "w/1")
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if m := s.Members("w"); !slices.Equal(m, []string{"w/1"}) {
				t.Fatalf("members after reload: %v", m)
			}
		})
	}
}

// TestScheduledRunWaitsForDependencies: a scheduled run is a start like any
// other: it waits while its dependency does not hold, and a due time that
// finds it still waiting is skipped.
func TestScheduledRunWaitsForDependencies(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.Now()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	db := svc("db", nil)
	db.Disabled = true
	job := svc("job", nil, dep("db", CondStarted))
	job.Schedule, job.ScheduleText = everySchedule{30 * time.Second}, "@every 30s"
	addAll(t, s, db, job)
	clk.Advance(30 * time.Second)
	in := w.state("job", Waiting)
	if in.Reason != "waiting for db (started)" {
		t.Fatalf("reason %q", in.Reason)
	}
	awaitArmed(t, clk, t0.Add(60*time.Second))
	clk.Advance(30 * time.Second)
	w.waitLine(s, "job", "skipped: the previous run is still going (waiting)")
	if err := s.Start("db"); err != nil {
		t.Fatal(err)
	}
	w.state("job", Running)
}

// TestWatchStartWaitsForDependencies: a crashed unit that a watched file's
// change starts again waits for its dependency like any start.
func TestWatchStartWaitsForDependencies(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	db := svc("db", nil)
	db.Disabled = true
	end := make(chan struct{})
	app := job("app", end, errors.New("boom"))
	app.DependsOn = []Dependency{dep("db", CondStarted)}
	app.Dir = t.TempDir()
	app.Watch = &Watch{Paths: []string{"*.go"}}
	addAll(t, s, db, app)
	if err := s.Start("app"); err != nil { // pulls db up
		t.Fatal(err)
	}
	w.state("app", Running)
	close(end)
	w.state("app", Crashed)
	if err := s.Stop("db"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "db stopped", func() bool { in, _ := s.Get("db"); return in.State == Stopped })
	if err := s.call(func() {
		u := s.units["app"]
		u.watch.first = "main.go"
		u.watch.changed["main.go"] = true
		s.burstEnded(u)
	}); err != nil {
		t.Fatal(err)
	}
	in := w.state("app", Waiting)
	if in.Reason != "waiting for db (started)" {
		t.Fatalf("reason %q", in.Reason)
	}
}
