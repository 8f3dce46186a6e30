package procs

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// probeRole plays the children of the probe tests.
func probeRole(role, arg string) (int, bool) {
	switch role {
	case "http-ok":
		return serveOK(), true
	case "lines": // print arg's |-separated lines, then wait
		for l := range strings.SplitSeq(arg, "|") {
			fmt.Println(l)
		}
		select {}
	case "say-ready": // {"ready":true} on the channel, then wait
		conn, err := ipc.FromParent()
		if err != nil {
			fmt.Println("no channel:", err)
			return 1, true
		}
		_ = conn.Send(map[string]bool{"ready": true})
		fmt.Println("said ready")
		select {}
	case "notify": // send arg's |-separated datagrams to NOTIFY_SOCKET, then wait
		path := os.Getenv("NOTIFY_SOCKET")
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			fmt.Println("dial:", err)
			return 1, true
		}
		fmt.Println("socket", path, "usec", os.Getenv("WATCHDOG_USEC"))
		for d := range strings.SplitSeq(arg, "|") {
			switch d {
			case "@big":
				d = "STATUS=" + strings.Repeat("x", notifyMax)
			case "@bad":
				d = "no equals sign here"
			case "@pings": // WATCHDOG=1 every 10 ms, for ever
				for {
					_, _ = c.Write([]byte("WATCHDOG=1"))
					time.Sleep(10 * time.Millisecond)
				}
			}
			if _, err := c.Write([]byte(d)); err != nil {
				fmt.Println("write:", err)
			}
		}
		fmt.Println("sent")
		select {}
	}
	return 0, false
}

// awaitTimer waits until the clock is asked for a timer of d: a probe
// scheduling its next check says its last one is done.
func awaitTimer(t *testing.T, clk *fakeClock, d time.Duration) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case got := <-clk.added:
			if got == d {
				return
			}
		case <-deadline:
			t.Fatalf("no %s timer was set", d)
		}
	}
}

// awaitArmed waits until the clock has a pending timer due at at.
func awaitArmed(t *testing.T, clk *fakeClock, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		clk.mu.Lock()
		for _, tm := range clk.timers {
			if !tm.dead && tm.at.Equal(at) {
				clk.mu.Unlock()
				return
			}
		}
		clk.mu.Unlock()
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
	t.Fatalf("no timer armed for %s", at)
}

// statusServer answers with the status in code, counting requests.
func statusServer(t *testing.T, code *atomic.Int32, hits *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(code.Load()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestProbeHTTPReadinessThresholds(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	var code, hits atomic.Int32
	code.Store(500)
	srv := statusServer(t, &code, &hits)
	spec := roleSpec("web", "sleep", "")
	spec.Ready = &Probe{Kind: ProbeHTTP, URL: srv.URL + "/health", Period: time.Second, SuccessThreshold: 2, FailureThreshold: 2}
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("web"); err != nil {
		t.Fatal(err)
	}
	w.state("web", Running)
	clk.Advance(0) // initial_delay 0: the first check now
	awaitTimer(t, clk, time.Second)
	clk.Advance(time.Second)
	awaitTimer(t, clk, time.Second)
	w.waitLine(s, "web", "not ready: http "+srv.URL+"/health failed 2 times in a row; last: HTTP status 500")
	code.Store(302) // a redirect passes, and is not followed
	clk.Advance(time.Second)
	awaitTimer(t, clk, time.Second)
	if in, _ := s.Get("web"); in.Ready {
		t.Fatal("ready after one pass; success_threshold is 2")
	}
	clk.Advance(time.Second)
	in := w.until("web", "ready", func(in Info) bool { return in.Ready })
	if b, _ := json.Marshal(in); !strings.Contains(string(b), `"ready":true`) {
		t.Fatalf("ps --json lacks ready: %s", b)
	}
	// A readiness probe stops once the run is ready.
	n := hits.Load()
	clk.Advance(time.Minute)
	_, _ = s.Get("web")
	if hits.Load() != n {
		t.Fatalf("the probe kept polling after ready: %d checks, then %d", n, hits.Load())
	}
	// A restart makes the run unready until its probe passes again.
	go func() { _ = s.Restart("web") }()
	w.until("web", "restarted, not ready", func(in Info) bool { return in.Restarts == 1 && in.State == Running && !in.Ready })
}

func TestProbeHTTPLivenessRestarts(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	var code, hits atomic.Int32
	code.Store(200)
	srv := statusServer(t, &code, &hits)
	for _, name := range []string{"api", "once"} {
		spec := roleSpec(name, "sleep", "")
		spec.Liveness = &Probe{Kind: ProbeHTTP, URL: srv.URL, Period: time.Second, FailureThreshold: 2}
		if name == "once" {
			spec.Restart = RestartNever
		}
		if err := s.Add(spec); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(name); err != nil {
			t.Fatal(err)
		}
		w.state(name, Running)
	}
	clk.Advance(0)
	awaitTimer(t, clk, time.Second)
	awaitTimer(t, clk, time.Second)
	code.Store(503)
	clk.Advance(time.Second)
	awaitTimer(t, clk, time.Second)
	awaitTimer(t, clk, time.Second)
	if in, _ := s.Get("api"); in.State != Running {
		t.Fatalf("restarted after one failure of 2: %+v", in)
	}
	clk.Advance(time.Second)
	in := w.until("api", "restarted", func(in Info) bool { return in.Restarts == 1 && in.State == Running })
	if !strings.Contains(in.Reason, "liveness http "+srv.URL+" failed 2 times in a row: HTTP status 503") {
		t.Fatalf("reason %q", in.Reason)
	}
	w.waitLine(s, "api", "unhealthy: liveness http")
	in = w.state("once", Crashed)
	if !strings.Contains(in.Reason, "HTTP status 503") {
		t.Fatalf("restart never: reason %q", in.Reason)
	}
}

func TestProbeTCP(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	for name, addr := range map[string]string{"up": ln.Addr().String(), "down": closedAddr} {
		spec := roleSpec(name, "sleep", "")
		spec.Ready = &Probe{Kind: ProbeTCP, Addr: addr, Period: time.Second, FailureThreshold: 1}
		if name == "up" {
			spec.Ready.InitialDelay = 5 * time.Second
		}
		if err := s.Add(spec); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(name); err != nil {
			t.Fatal(err)
		}
		w.state(name, Running)
	}
	clk.Advance(0)
	w.waitLine(s, "down", "not ready: tcp "+closedAddr+" failed 1 time in a row")
	if in, _ := s.Get("down"); in.Ready {
		t.Fatal("ready with nothing listening")
	}
	if in, _ := s.Get("up"); in.Ready {
		t.Fatal("checked before its initial_delay")
	}
	clk.Advance(5 * time.Second)
	w.until("up", "ready", func(in Info) bool { return in.Ready })
}

func TestProbeExec(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	flag := filepath.Join(t.TempDir(), "up")
	spec := roleSpec("db", "sleep", "")
	spec.Ready = &Probe{Kind: ProbeExec, Exec: []string{"/bin/sh", "-c", `echo checking && test -f "$0"`, flag}, Period: time.Second, FailureThreshold: 1}
	slow := roleSpec("slow", "sleep", "")
	slow.Ready = &Probe{Kind: ProbeExec, Exec: []string{"/bin/sh", "-c", "exec sleep 30"}, Timeout: 50 * time.Millisecond, FailureThreshold: 1}
	for _, sp := range []Spec{spec, slow} {
		if err := s.Add(sp); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(sp.Name); err != nil {
			t.Fatal(err)
		}
		w.state(sp.Name, Running)
	}
	clk.Advance(0)
	w.waitLine(s, "db", "not ready: exec")
	w.waitLine(s, "db", "exit status 1")
	_, _ = s.Get("db") // the owner goroutine has scheduled the next check
	// The check's process group is killed on timeout and reaped by the
	// supervisor (its status comes back through the reaper, not os/exec).
	w.waitLine(s, "slow", "timed out after 50ms")
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	w.until("db", "ready", func(in Info) bool { return in.Ready })
}

func TestProbeLogReadiness(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	for name, need := range map[string]int{"two": 2, "three": 3} {
		spec := roleSpec(name, "lines", "booting|up: 1|noise|up: 2|done")
		spec.Ready = &Probe{Kind: ProbeLog, Log: `^up: \d`, SuccessThreshold: need}
		if err := s.Add(spec); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(name); err != nil {
			t.Fatal(err)
		}
	}
	w.until("two", "ready", func(in Info) bool { return in.Ready })
	w.waitLine(s, "two", `ready (its output matched "^up: \\d")`)
	w.waitLine(s, "three", "done")
	if in, _ := s.Get("three"); in.Ready {
		t.Fatal("ready after 2 matching lines; success_threshold is 3")
	}
}

func TestProbeLogLiveness(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	spec := roleSpec("beat", "lines", "beat")
	spec.Liveness = &Probe{Kind: ProbeLog, Log: "^beat$", Period: time.Second, FailureThreshold: 2}
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("beat"); err != nil {
		t.Fatal(err)
	}
	awaitTimer(t, clk, time.Second) // the first check, a period after the start
	w.waitLine(s, "beat", "beat")
	for range 2 { // a line in the first period passes; none in the second fails once
		clk.Advance(time.Second)
		awaitTimer(t, clk, time.Second)
	}
	if in, _ := s.Get("beat"); in.Restarts != 0 || in.State != Running {
		t.Fatalf("restarted early: %+v", in)
	}
	clk.Advance(time.Second)
	in := w.until("beat", "restarted", func(in Info) bool { return in.Restarts == 1 })
	if !strings.Contains(in.Reason, `no output line matched "^beat$" in 1s`) {
		t.Fatalf("reason %q", in.Reason)
	}
}

func TestProbeMessage(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	spec := roleSpec("m", "say-ready", "")
	spec.Ready = &Probe{Kind: ProbeMessage}
	if err := s.Add(spec); err == nil || !strings.Contains(err.Error(), "needs the unit's channel") {
		t.Fatalf("a message probe without a channel: %v", err)
	}
	spec.IPC = true
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("m"); err != nil {
		t.Fatal(err)
	}
	w.until("m", "ready", func(in Info) bool { return in.Ready })
	bad := roleSpec("bad", "sleep", "")
	bad.Liveness = &Probe{Kind: ProbeNotify}
	if err := s.Add(bad); err == nil {
		t.Fatal("a notify liveness probe was accepted")
	}
}

func TestNotifyReadyStatusAndMalformed(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	spec := roleSpec("d", "notify", "STATUS=loading \x1b[2Jdata|@bad|@big|READY=1")
	spec.Ready = &Probe{Kind: ProbeNotify}
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("d"); err != nil {
		t.Fatal(err)
	}
	in := w.until("d", "ready", func(in Info) bool { return in.Ready })
	if in.Status != "loading data" {
		t.Fatalf("status %q", in.Status)
	}
	if in.NotifyIgnored != 2 {
		t.Fatalf("ignored %d datagrams, want 2 (malformed, oversized)", in.NotifyIgnored)
	}
	w.waitLine(s, "d", "notify: ignored a datagram (over 4096 bytes)")
	// A datagram from outside the unit's process group is not trusted.
	l := w.waitLine(s, "d", "socket ")
	path := strings.Fields(l.Text)[1]
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("STATUS=hijacked")); err != nil {
		t.Fatal(err)
	}
	in = w.until("d", "a stranger ignored", func(in Info) bool { return in.NotifyIgnored == 3 })
	if in.Status == "hijacked" {
		t.Fatal("a stranger set the status")
	}
	// The socket is private: only kelpie's user may enter its directory.
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v %v", fi.Mode(), err)
	}
}

func TestNotifyWatchdog(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	silent := roleSpec("silent", "notify", "READY=1")
	silent.Watchdog = 10 * time.Second
	pinging := roleSpec("pinging", "notify", "@pings")
	pinging.Watchdog = 10 * time.Second
	for _, sp := range []Spec{silent, pinging} {
		if err := s.Add(sp); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(sp.Name); err != nil {
			t.Fatal(err)
		}
		w.state(sp.Name, Running)
	}
	w.waitLine(s, "silent", "usec 10000000")
	w.until("silent", "ready (READY=1, no readiness probe)", func(in Info) bool { return in.Ready })
	w.waitLine(s, "pinging", "socket")
	clk.Advance(6 * time.Second)
	awaitArmed(t, clk, clk.Now().Add(10*time.Second)) // a WATCHDOG=1 re-armed it after the advance
	clk.Advance(6 * time.Second)
	if in, _ := s.Get("pinging"); in.State != Running || in.Restarts != 0 {
		t.Fatalf("a pinging unit was restarted: %+v", in)
	}
	in := w.until("silent", "restarted", func(in Info) bool { return in.Restarts == 1 })
	if !strings.Contains(in.Reason, "watchdog: no WATCHDOG=1 within 10s") {
		t.Fatalf("reason %q", in.Reason)
	}
}

// TestWatchdogCrashLoop: a run the watchdog stops without it ever having
// pinged is a quick failure however long the watchdog waited, so
// MaxRestarts of them park the unit as crashed.
func TestWatchdogCrashLoop(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	spec := roleSpec("silent", "sleep", "")
	spec.Watchdog, spec.MaxRestarts = 2*time.Second, 1
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("silent"); err != nil {
		t.Fatal(err)
	}
	w.state("silent", Running)
	clk.Advance(2 * time.Second)
	w.until("silent", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
	clk.Advance(2 * time.Second)
	in := w.state("silent", Crashed)
	if !strings.Contains(in.Reason, "crash loop") || !strings.Contains(in.Reason, "last: watchdog: no WATCHDOG=1 within 2s") {
		t.Fatalf("reason %q", in.Reason)
	}
}

// TestLivenessNeverPassedIsQuickFailure: a run whose liveness check never
// passed is a quick failure even when its first check came after
// min_uptime, so max_restarts of them park the unit as crashed.
func TestLivenessNeverPassedIsQuickFailure(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	var code, hits atomic.Int32
	code.Store(503)
	srv := statusServer(t, &code, &hits)
	spec := roleSpec("api", "sleep", "")
	spec.Liveness = &Probe{Kind: ProbeHTTP, URL: srv.URL, Period: time.Second, FailureThreshold: 1, InitialDelay: 2 * time.Second}
	spec.MaxRestarts = 1
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("api"); err != nil {
		t.Fatal(err)
	}
	awaitTimer(t, clk, 2*time.Second)
	clk.Advance(2 * time.Second)
	w.until("api", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
	awaitTimer(t, clk, 2*time.Second)
	clk.Advance(2 * time.Second)
	in := w.state("api", Crashed)
	if !strings.Contains(in.Reason, "crash loop") || !strings.Contains(in.Reason, "HTTP status 503") {
		t.Fatalf("reason %q", in.Reason)
	}
}
