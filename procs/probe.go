package procs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// ProbeKind says how a probe checks a unit.
type ProbeKind string

// The kinds of probe.
const (
	// ProbeExec runs a command; exit status 0 passes.
	ProbeExec ProbeKind = "exec"
	// ProbeHTTP GETs a URL; a 2xx or 3xx status passes.
	ProbeHTTP ProbeKind = "http"
	// ProbeTCP connects to an address.
	ProbeTCP ProbeKind = "tcp"
	// ProbeLog matches a regular expression against the unit's output lines
	// as they arrive (liveness: a matching line within each period).
	ProbeLog ProbeKind = "log"
	// ProbeMessage is the unit sending {"ready":true} on its channel
	// (readiness only).
	ProbeMessage ProbeKind = "message"
	// ProbeNotify is systemd's sd_notify READY=1 on the unit's NOTIFY_SOCKET
	// (readiness only; see Spec.Watchdog for liveness).
	ProbeNotify ProbeKind = "notify"
)

// Probe defaults: Kubernetes' own.
const (
	DefaultProbePeriod  = 10 * time.Second
	DefaultProbeTimeout = time.Second
	DefaultProbeFailure = 3
	DefaultProbeSuccess = 1
)

// Probe is a readiness or liveness check of a unit's run. Exactly one of
// Exec, URL, Addr, Log is set for the kinds that need one.
type Probe struct {
	Kind ProbeKind
	// Exec is the command of an exec probe (argv; run in the unit's
	// directory and environment, in a process group of its own).
	Exec []string
	// URL is an http probe's address.
	URL string
	// Addr is a tcp probe's host:port.
	Addr string
	// Log is a log probe's regular expression.
	Log string
	// InitialDelay is the wait after the run starts before the first check.
	InitialDelay time.Duration
	// Period is the time between checks (from the end of one to the start
	// of the next, so checks never overlap).
	Period time.Duration
	// Timeout bounds one check.
	Timeout time.Duration
	// SuccessThreshold is how many passes in a row make a run ready (log:
	// how many matching lines).
	SuccessThreshold int
	// FailureThreshold is how many failures in a row make a run unhealthy
	// (liveness: restarted) or reported not ready (readiness).
	FailureThreshold int

	re *regexp.Regexp
}

// WithDefaults returns a checked copy of p with its defaults filled in, as
// the supervisor runs it (liveness: it is a liveness probe).
func (p *Probe) WithDefaults(liveness bool) (*Probe, error) { return p.withDefaults(liveness) }

// withDefaults returns a checked copy of p with its defaults filled in.
func (p *Probe) withDefaults(liveness bool) (*Probe, error) {
	c := *p
	if c.Period <= 0 {
		c.Period = DefaultProbePeriod
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultProbeTimeout
	}
	if c.SuccessThreshold <= 0 {
		c.SuccessThreshold = DefaultProbeSuccess
	}
	if c.FailureThreshold <= 0 {
		c.FailureThreshold = DefaultProbeFailure
	}
	if c.InitialDelay < 0 {
		c.InitialDelay = 0
	}
	switch c.Kind {
	case ProbeExec:
		if len(c.Exec) == 0 || c.Exec[0] == "" {
			return nil, errors.New("exec probe: no command")
		}
	case ProbeHTTP:
		if c.URL == "" {
			return nil, errors.New("http probe: no URL")
		}
	case ProbeTCP:
		if c.Addr == "" {
			return nil, errors.New("tcp probe: no address")
		}
	case ProbeLog:
		re, err := regexp.Compile(c.Log)
		if err != nil {
			return nil, fmt.Errorf("log probe: %w", err)
		}
		c.re = re
	case ProbeMessage, ProbeNotify:
		if liveness {
			return nil, fmt.Errorf("a %s probe can only say a unit is ready (for liveness use watchdog)", c.Kind)
		}
	default:
		return nil, fmt.Errorf("unknown probe kind %q", c.Kind)
	}
	return &c, nil
}

// describe names what the probe checks, for event lines.
func (p *Probe) describe() string {
	switch p.Kind {
	case ProbeExec:
		return "exec " + quoteArgv(p.Exec)
	case ProbeHTTP:
		return "http " + cleanLine(p.URL)
	case ProbeTCP:
		return "tcp " + cleanLine(p.Addr)
	case ProbeLog:
		return "log " + strconv.Quote(p.Log)
	}
	return string(p.Kind)
}

// checkProbes fills in the spec's probes' defaults and checks them.
func checkProbes(sp *Spec) error {
	var err error
	if sp.Ready != nil {
		if sp.Ready, err = sp.Ready.withDefaults(false); err != nil {
			return fmt.Errorf("ready: %w", err)
		}
		if sp.Ready.Kind == ProbeMessage && !sp.IPC {
			return errors.New("ready: a message probe needs the unit's channel (ipc)")
		}
	}
	if sp.Liveness != nil {
		if sp.Liveness, err = sp.Liveness.withDefaults(true); err != nil {
			return fmt.Errorf("liveness: %w", err)
		}
	}
	if sp.Watchdog < 0 {
		return errors.New("watchdog: negative")
	}
	if sp.Kind == KindWorker && (sp.wantsNotify() || sp.Ready != nil && sp.Ready.Kind == ProbeLog ||
		sp.Liveness != nil && sp.Liveness.Kind == ProbeLog) {
		return errors.New("a worker has no output pipes or notify socket for its probes")
	}
	return nil
}

// wantsNotify says whether the unit's runs get a NOTIFY_SOCKET.
func (sp *Spec) wantsNotify() bool {
	return sp.Watchdog > 0 || sp.Ready != nil && sp.Ready.Kind == ProbeNotify
}

// probeGrid is what probe timers of a second or more are aligned to.
const probeGrid = 100 * time.Millisecond

// probeRun is one probe of one run. Owner goroutine only, except logw.
type probeRun struct {
	p       *Probe
	live    bool      // a liveness probe (else readiness)
	r       run       // the run it checks
	ok, bad int       // passes and failures in a row
	okAt    time.Time // the last passing check (zero: none yet)
	lastErr string
	timer   Timer
	execPID int // a running exec check's process (0: none)
	seen    int64
	logw    *logWatch
	hc      *httpConn // a plain-http probe's kept connection (nil: the shared client)

	// An exec check's program and environment, worked out on its first
	// tick and kept for the run (not re-resolved in PATH every period).
	// A program not found is looked up again next time: it may be
	// installed meanwhile.
	execPath string
	execEnv  []string
}

// logWatch matches a unit's output lines against a log probe's expression
// as the pumps store them. The pumps hold the ring's lock, so it never
// blocks: it counts, and fires (once, on a goroutine) when need is reached.
type logWatch struct {
	re    *regexp.Regexp
	need  int64 // matches that fire (0: only count, for liveness)
	fire  func()
	hits  atomic.Int64
	fired atomic.Bool
}

// line checks one complete output line.
func (w *logWatch) line(b []byte) {
	if w.done() {
		return // ready: no more matching cost
	}
	if !w.re.Match(b) {
		return
	}
	if n := w.hits.Add(1); w.need > 0 && n >= w.need && w.fired.CompareAndSwap(false, true) {
		go w.fire()
	}
}

// done reports whether w is a readiness watch that has fired: the lines
// after need no matching.
func (w *logWatch) done() bool { return w.need > 0 && w.fired.Load() }

// logWatches makes the log probes' watches for a new run (pumps get them).
// Owner goroutine only.
func (s *Supervisor) logWatches(u *unit, r *procRun) []*logWatch {
	u.readyLog, u.liveLog = nil, nil
	var out []*logWatch
	if p := u.spec.Ready; p != nil && p.Kind == ProbeLog {
		w := &logWatch{re: p.re, need: int64(p.SuccessThreshold)}
		w.fire = func() {
			s.post(func() {
				if u.run == run(r) && u.readyLog == w {
					s.setReady(u, "its output matched "+strconv.Quote(p.Log))
				}
			})
		}
		u.readyLog = w
		out = append(out, w)
	}
	if p := u.spec.Liveness; p != nil && p.Kind == ProbeLog {
		u.liveLog = &logWatch{re: p.re}
		out = append(out, u.liveLog)
	}
	return out
}

// startProbes starts a new run's probes. Owner goroutine only.
func (s *Supervisor) startProbes(u *unit) {
	s.stopProbes(u)
	if p := u.spec.Ready; p != nil && !u.info.Ready {
		switch p.Kind {
		case ProbeExec, ProbeHTTP, ProbeTCP:
			u.ready = &probeRun{p: p, r: u.run}
			s.scheduleProbe(u, u.ready, p.InitialDelay)
		}
	}
	if p := u.spec.Liveness; p != nil {
		u.live = &probeRun{p: p, live: true, r: u.run, logw: u.liveLog}
		d := p.InitialDelay
		if p.Kind == ProbeLog {
			d += p.Period // a period to print the first matching line
		}
		s.scheduleProbe(u, u.live, d)
	}
	if u.spec.Watchdog > 0 && u.run != nil && u.run.pid() != 0 {
		s.armWatchdog(u)
	}
}

// stopProbes ends the unit's probes (the run ended or is stopping). Owner
// goroutine only.
func (s *Supervisor) stopProbes(u *unit) {
	for _, pr := range []*probeRun{u.ready, u.live} {
		if pr == nil {
			continue
		}
		if pr.timer != nil {
			pr.timer.Stop()
		}
		if pr.hc != nil {
			pr.hc.close()
		}
		if pr.execPID != 0 {
			if _, ok := s.probePIDs[pr.execPID]; ok {
				_ = syscall.Kill(-pr.execPID, syscall.SIGKILL)
			}
		}
	}
	u.ready, u.live = nil, nil
	if u.watchdog != nil {
		u.watchdog.Stop()
		u.watchdog = nil
	}
}

// probeCurrent says whether pr still checks the unit's live run.
func probeCurrent(u *unit, pr *probeRun) bool {
	if u.run != pr.r || !u.alive() || u.stopping {
		return false
	}
	if pr.live {
		return u.live == pr
	}
	return u.ready == pr && !u.info.Ready
}

// scheduleProbe runs pr's next check after d, on the supervisor's clock.
// The timer carries pr itself: a later run's probes are other values, so
// an old timer (like an old epoch) finds itself not current and does nothing.
func (s *Supervisor) scheduleProbe(u *unit, pr *probeRun, d time.Duration) {
	if d >= probeGrid {
		// Checks due within the same tenth of a second share one wakeup:
		// a hundred units' probes cost ten wakeups a second, not hundreds.
		if r := time.Duration(s.clock.Now().Add(d).UnixNano() % int64(probeGrid)); r != 0 {
			d += probeGrid - r
		}
	}
	pr.timer = s.clock.AfterFunc(d, func() {
		s.post(func() { s.probeTick(u, pr) })
	})
}

// probeTick runs one check. Owner goroutine only; the check itself runs off
// it (exec: its exit comes from the reaper).
func (s *Supervisor) probeTick(u *unit, pr *probeRun) {
	if !probeCurrent(u, pr) {
		return
	}
	p := pr.p
	if u.info.State == Paused {
		// A unit the user paused (SIGSTOP) is not unhealthy: its checks
		// wait until it runs again.
		s.scheduleProbe(u, pr, p.Period)
		return
	}
	switch p.Kind {
	case ProbeLog:
		var err error
		if n := pr.logw.hits.Load(); n == pr.seen {
			err = fmt.Errorf("no output line matched %q in %s", p.Log, p.Period)
		} else {
			pr.seen = n
		}
		s.probeResult(u, pr, err)
	case ProbeExec:
		s.probeExec(u, pr)
	case ProbeHTTP, ProbeTCP:
		if p.Kind == ProbeHTTP && pr.hc == nil {
			pr.hc = newHTTPConn(p.URL)
		}
		if hc := pr.hc; hc != nil {
			go func() {
				err := hc.check(p.Timeout)
				s.post(func() { s.probeResult(u, pr, err) })
			}()
			return
		}
		client := s.probeHTTP
		if client == nil && p.Kind == ProbeHTTP {
			client = newProbeClient()
			s.probeHTTP = client
		}
		go func() {
			err := netCheck(client, p)
			s.post(func() { s.probeResult(u, pr, err) })
		}()
	}
}

// newProbeClient is the http probes' client: redirects are not followed (a
// 3xx passes), idle connections are kept for the next check.
func newProbeClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a probe checks the address it names
	// Checks of many units against one host keep their connections: a new
	// TCP connection per check costs more than the check.
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 256
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// netCheck runs an http or tcp check.
func netCheck(client *http.Client, p *Probe) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
	defer cancel()
	if p.Kind == ProbeTCP {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", p.Addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kelpie-probe")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	// Drained up to the lean check's cap, so the connection is kept on
	// both paths; a bigger body is cut.
	_, _ = io.CopyN(io.Discard, resp.Body, probeBodyMax+1)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return nil
}

// probeExec starts an exec check: its own process group, no terminal, its
// output discarded, killed (the group) after the timeout. The supervisor's
// reaper collects it (os/exec's Wait would race it), so onExit hands its
// status back through probePIDs. Owner goroutine only: Pdeathsig is tied to
// this thread.
func (s *Supervisor) probeExec(u *unit, pr *probeRun) {
	p, sp := pr.p, &u.spec
	if pr.execPath == "" {
		path, err := resolve(p.Exec[0], sp.Dir, sp.Env)
		if err != nil {
			s.probeResult(u, pr, err)
			return
		}
		pr.execPath = path
	}
	var err error
	if s.probeNull == nil {
		// Its output goes nowhere, but writing it must succeed (s.devNull
		// is read-only: a check like curl would fail on its own output).
		if s.probeNull, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0); err != nil {
			s.probeResult(u, pr, fmt.Errorf("open %s: %w", os.DevNull, err))
			return
		}
	}
	if pr.execEnv == nil {
		pr.execEnv = childEnv(os.Environ(), sp.Env, TagVar+"="+s.opts.Tag+"/"+sp.Name+"/probe")
	}
	proc, err := os.StartProcess(pr.execPath, p.Exec, &os.ProcAttr{
		Dir:   sp.Dir,
		Env:   pr.execEnv,
		Files: []*os.File{s.devNull, s.probeNull, s.probeNull},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		s.probeResult(u, pr, err)
		return
	}
	pid := proc.Pid
	_ = proc.Release()
	pr.execPID = pid
	timedOut := false
	// The timeout is the check's own I/O bound, on the wall clock; the
	// kill happens on the owner goroutine only while the pid is still
	// ours (not reaped), so it never hits a recycled group.
	t := time.AfterFunc(p.Timeout, func() {
		s.post(func() {
			if _, ok := s.probePIDs[pid]; ok {
				timedOut = true
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		})
	})
	s.probePIDs[pid] = func(ws syscall.WaitStatus) {
		t.Stop()
		if pr.execPID == pid {
			pr.execPID = 0
		}
		var err error
		switch {
		case timedOut:
			err = fmt.Errorf("timed out after %s", p.Timeout)
		case !ws.Exited():
			err = fmt.Errorf("killed by %s", SignalName(ws.Signal()))
		case ws.ExitStatus() != 0:
			err = fmt.Errorf("exit status %d", ws.ExitStatus())
		}
		s.probeResult(u, pr, err)
	}
}

// probeResult counts a check's outcome and acts on the thresholds. Owner
// goroutine only.
func (s *Supervisor) probeResult(u *unit, pr *probeRun, err error) {
	if !probeCurrent(u, pr) {
		return
	}
	p := pr.p
	if err == nil {
		pr.ok++
		pr.bad = 0
		pr.okAt = s.clock.Now()
	} else {
		pr.bad++
		pr.ok = 0
		pr.lastErr = Clean(err.Error()) // quotes outside text (a server's, a resolver's)
	}
	switch {
	case !pr.live && pr.ok >= p.SuccessThreshold:
		u.ready = nil // a readiness probe stops once the run is ready
		s.setReady(u, p.describe()+" passed")
		return
	case !pr.live && pr.bad == p.FailureThreshold:
		s.event(u, "not ready: %s failed %s in a row; last: %s", p.describe(), times(pr.bad), pr.lastErr)
	case pr.live && pr.bad >= p.FailureThreshold:
		s.unhealthy(u, fmt.Sprintf("liveness %s failed %s in a row: %s", p.describe(), times(pr.bad), pr.lastErr), pr.okAt)
		return
	}
	s.scheduleProbe(u, pr, p.Period)
}

// times says "1 time" or "n times".
func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return strconv.Itoa(n) + " times"
}

// unhealthy stops a live run that failed a health check (its liveness
// probe, its watchdog, its memory limit) gracefully, why shown as its reason
// while it stops; finishStop then applies the restart policy as to a failed
// run (see afterUnhealthy). well is the last time the run was seen healthy
// (zero: never). Owner goroutine only.
func (s *Supervisor) unhealthy(u *unit, why string, well time.Time) {
	if !u.alive() || u.stopping {
		return
	}
	s.event(u, "unhealthy: %s", why)
	s.stopProbes(u)
	u.restart = false
	u.info.Reason = why // stopUnit keeps it, and publishes
	s.stopUnit(u)
	u.unhealthy, u.wellAt = why, well
}

// afterUnhealthy ends the stop of an unhealthy run like the end of a failed
// run: restarted with backoff, or parked, by the restart policy. The run
// counts as a quick failure (towards MaxRestarts) unless it was seen
// healthy at least MinUptime after it started: a check needs time to notice
// (probe periods, samples), so the run's length alone would make every such
// failure look healthy and the crash-loop limit never apply. Owner
// goroutine only.
func (s *Supervisor) afterUnhealthy(u *unit, why string) {
	if !u.wellAt.IsZero() && u.wellAt.Sub(u.info.StartedAt) >= u.spec.MinUptime {
		u.failures = 0 // it had been healthy a while
	}
	u.wellAt = time.Time{}
	u.lastWhy = why // the next run shows it (see startUnit)
	s.afterRun(u, why, true)
	s.checkIdle()
}

// armWatchdog (re)starts the unit's watchdog timer: without a WATCHDOG=1
// within Spec.Watchdog, the run is unhealthy. Owner goroutine only.
func (s *Supervisor) armWatchdog(u *unit) {
	if u.watchdog != nil {
		u.watchdog.Stop()
	}
	r, d := u.run, u.spec.Watchdog
	well := s.clock.Now() // armed at the start, or by a WATCHDOG=1
	var t Timer
	t = s.clock.AfterFunc(d, func() {
		s.post(func() {
			if u.watchdog == t && u.run == r {
				u.watchdog = nil
				if u.info.State == Paused {
					s.armWatchdog(u) // paused on purpose: not a hang
					return
				}
				s.unhealthy(u, fmt.Sprintf("watchdog: no WATCHDOG=1 within %s", d), well)
			}
		})
	})
	u.watchdog = t
}
