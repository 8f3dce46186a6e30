package procs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/ipc"
)

// Errors callers can test for with errors.Is.
var (
	ErrNotFound   = errors.New("no such unit")
	ErrExists     = errors.New("unit already exists")
	ErrNotRunning = errors.New("not running")
	ErrRunning    = errors.New("already running")
	ErrShutdown   = errors.New("supervisor is shut down")
)

// TagVar is the environment variable every child (and so every descendant that
// keeps its environment) carries: "<run tag>/<unit>/<run number>". It lets
// kelpie, and its guard after kelpie died, find descendants that left the
// process group.
const TagVar = "KELPIE_TAG"

// Options configure a Supervisor. The zero value is usable.
type Options struct {
	// Clock drives restart and stop timers (default: the wall clock).
	Clock Clock
	// Tick is the stats sampling interval (default 1 s; negative: no sampling).
	Tick time.Duration
	// Tag identifies this run in TagVar (default: random). The guard uses the same tag.
	Tag string
	// Subreaper makes kelpie the reaper of orphaned descendants, so they are
	// reaped and still counted, instead of being handed to init.
	Subreaper bool
	// MaxLine is the longest output line stored whole (default 16 KiB).
	MaxLine int
	// Jitter returns a number in [0,1) for backoff jitter (tests fix it).
	Jitter func() float64
}

// Supervisor runs units. Create it with New; it is safe for concurrent use.
// Only one Supervisor may run per process: it reaps every child of the process.
type Supervisor struct {
	opts  Options
	clock Clock

	cmds     chan func()   // work for the owner goroutine
	exits    chan exitNote // from the reaper
	quit     chan struct{} // closes the owner goroutine
	loopDone chan struct{}
	bg       sync.WaitGroup // reaper, sampler
	pumps    sync.WaitGroup // output readers

	broker *broker

	// rings are read without the owner goroutine (logs are served straight
	// from them), so they have their own lock.
	ringsMu sync.RWMutex
	rings   map[string]*ring
	msgs    map[string]*msgStore // channel messages, apart from the rings

	devNull *os.File
	self    int

	sweeper *sweeper // kills what ended runs left behind

	shutMu      sync.Mutex
	shutStarted bool
	finished    chan struct{} // closed when Shutdown has finished

	// Owned by the owner goroutine.
	units    map[string]*unit
	order    []string
	byPID    map[int]*unit
	shutting bool
	idle     chan struct{} // closed when shutting down and no unit is live
}

type exitNote struct {
	pid    int
	status syscall.WaitStatus
	at     time.Time
}

// unit is one supervised thing. Only the owner goroutine touches it.
type unit struct {
	spec     Spec
	info     Info
	ring     *ring
	msgs     *msgStore
	epoch    uint64 // bumped by every start/stop decision; timers carry it
	runs     int    // processes started so far
	pid      int
	tag      string // TagVar value of the current run
	failures int    // quick failures in a row
	stopping bool   // a stop was asked for this run
	restart  bool   // start again once stopped (the restart command)
	timer    Timer  // the pending backoff or stop-timeout timer
	conn     *ipc.Conn
	exits    []ExitRecord // the last maxExits runs, oldest first
}

// maxExits is how many ended runs a unit remembers for its exit history.
const maxExits = 20

// New starts a supervisor with no units.
func New(opts Options) (*Supervisor, error) {
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Tick == 0 {
		opts.Tick = time.Second
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.Jitter == nil {
		opts.Jitter = defaultJitter
	}
	if opts.Tag == "" {
		opts.Tag = NewTag()
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	if opts.Subreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			devNull.Close()
			return nil, fmt.Errorf("become child subreaper: %w", err)
		}
	}
	s := &Supervisor{
		opts:     opts,
		clock:    opts.Clock,
		cmds:     make(chan func()),
		exits:    make(chan exitNote, 64),
		quit:     make(chan struct{}),
		loopDone: make(chan struct{}),
		finished: make(chan struct{}),
		broker:   newBroker(),
		rings:    make(map[string]*ring),
		msgs:     make(map[string]*msgStore),
		devNull:  devNull,
		self:     os.Getpid(),
		units:    make(map[string]*unit),
		byPID:    make(map[int]*unit),
	}
	s.sweeper = &sweeper{self: s.self, wg: &s.pumps}
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	go s.loop()
	s.bg.Add(1)
	go s.reap(sigchld)
	if opts.Tick > 0 {
		s.bg.Add(1)
		go s.sample(opts.Tick)
	}
	return s, nil
}

// NewTag makes a run tag: random, so two kelpies never claim each other's children.
func NewTag() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Tag is this supervisor's run tag (see TagVar).
func (s *Supervisor) Tag() string { return s.opts.Tag }

// loop is the owner goroutine. It stays on one OS thread for its whole life
// because children are started from it with Pdeathsig, which fires when the
// thread that started them exits, not the process.
func (s *Supervisor) loop() {
	runtime.LockOSThread()
	defer close(s.loopDone)
	for {
		select {
		case f := <-s.cmds:
			f()
		case e := <-s.exits:
			s.onExit(e)
		case <-s.quit:
			return
		}
	}
}

// call runs f on the owner goroutine and waits for it.
func (s *Supervisor) call(f func()) error {
	done := make(chan struct{})
	select {
	case s.cmds <- func() { f(); close(done) }:
		<-done
		return nil
	case <-s.loopDone:
		return ErrShutdown
	}
}

// post hands f to the owner goroutine without waiting (timers use it).
func (s *Supervisor) post(f func()) {
	select {
	case s.cmds <- f:
	case <-s.loopDone:
	}
}

// reap collects every child that ends, our own and orphans handed to us as
// subreaper, and tells the owner goroutine. Owning all reaping in one place
// means no exit status is stolen by a per-process Wait.
func (s *Supervisor) reap(sigchld chan os.Signal) {
	defer s.bg.Done()
	defer signal.Stop(sigchld)
	for {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if pid <= 0 || err != nil {
				break
			}
			select {
			case s.exits <- exitNote{pid: pid, status: ws, at: s.clock.Now()}:
			case <-s.loopDone:
				return
			}
		}
		select {
		case <-sigchld:
		case <-s.loopDone:
			return
		}
	}
}

// Add registers a unit in the stopped state; Start or StartAll runs it.
func (s *Supervisor) Add(spec Spec) error {
	spec = spec.withDefaults()
	if spec.Name == "" {
		return errors.New("add unit: empty name")
	}
	if len(spec.Argv) == 0 && spec.Shell == "" {
		return fmt.Errorf("add unit %q: nothing to run", spec.Name)
	}
	var err error
	cerr := s.call(func() {
		if _, ok := s.units[spec.Name]; ok {
			err = fmt.Errorf("add unit %q: %w", spec.Name, ErrExists)
			return
		}
		r := newRing(spec.LogBuffer)
		u := &unit{spec: spec, ring: r, msgs: newMsgStore(DefaultMessageBuffer, DefaultMessageCount)}
		u.info = Info{
			Name: spec.Name, Kind: spec.Kind, State: Stopped, Command: spec.Command(),
			Dir: spec.Dir, Restart: spec.Restart,
		}
		if spec.Disabled {
			u.info.Reason = "disabled"
		}
		s.ringsMu.Lock()
		s.rings[spec.Name] = r
		s.msgs[spec.Name] = u.msgs
		s.ringsMu.Unlock()
		s.units[spec.Name] = u
		s.order = append(s.order, spec.Name)
		s.publish(u)
	})
	return errors.Join(cerr, err)
}

// Remove forgets a unit that is not running (cluster scale-down, a config
// reload): its log goes with it and subscribers see it in Batch.Removed.
func (s *Supervisor) Remove(name string) error {
	return s.do(name, func(u *unit) error {
		if u.info.State.Live() {
			return fmt.Errorf("remove %q: %w (stop it first)", name, ErrRunning)
		}
		u.epoch++ // a pending backoff timer must not start it again
		s.cancelTimer(u)
		delete(s.units, name)
		s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == name })
		s.ringsMu.Lock()
		delete(s.rings, name)
		delete(s.msgs, name)
		s.ringsMu.Unlock()
		s.broker.removed(name)
		return nil
	})
}

// StartAll starts every registered unit that is not disabled and not live.
func (s *Supervisor) StartAll() error {
	return s.call(func() {
		for _, name := range s.order {
			u := s.units[name]
			if !u.spec.Disabled && !u.info.State.Live() && !s.shutting {
				s.startUnit(u, false)
			}
		}
	})
}

// do runs f on the owner goroutine with the named unit.
func (s *Supervisor) do(name string, f func(u *unit) error) error {
	var err error
	cerr := s.call(func() {
		u, ok := s.units[name]
		if !ok {
			err = fmt.Errorf("%w: %q", ErrNotFound, name)
			return
		}
		if s.shutting {
			err = ErrShutdown
			return
		}
		err = f(u)
	})
	return errors.Join(cerr, err)
}

// Start starts a unit that is not running (also one waiting in backoff).
func (s *Supervisor) Start(name string) error {
	return s.do(name, func(u *unit) error {
		if u.info.State.Live() {
			return fmt.Errorf("start %q: %w (pid %d)", name, ErrRunning, u.pid)
		}
		u.failures = 0
		s.startUnit(u, u.runs > 0)
		return nil
	})
}

// Stop stops a unit gracefully: its stop signal to the process group, then
// SIGKILL to the group after its stop timeout. A pending restart is cancelled.
func (s *Supervisor) Stop(name string) error {
	return s.do(name, func(u *unit) error {
		u.restart = false
		s.stopUnit(u)
		return nil
	})
}

// Restart stops a running unit and starts it again once it has ended; a unit
// that is not running is simply started.
func (s *Supervisor) Restart(name string) error {
	return s.do(name, func(u *unit) error {
		u.failures = 0
		if u.info.State.Live() {
			u.restart = true
			s.stopUnit(u)
			return nil
		}
		s.startUnit(u, u.runs > 0)
		return nil
	})
}

// Signal sends sig to the unit's process group. What follows (a restart, say)
// is up to the unit's restart policy, as if the signal had come from anywhere.
func (s *Supervisor) Signal(name string, sig syscall.Signal) error {
	return s.do(name, func(u *unit) error {
		if u.pid == 0 {
			return fmt.Errorf("signal %q: %w", name, ErrNotRunning)
		}
		s.event(u, "signal %s sent to the process group", SignalName(sig))
		if err := syscall.Kill(-u.pid, sig); err != nil {
			return fmt.Errorf("signal %q (pgid %d): %w", name, u.pid, err)
		}
		return nil
	})
}

// Kill sends SIGKILL to the unit's process group.
func (s *Supervisor) Kill(name string) error { return s.Signal(name, syscall.SIGKILL) }

// List returns every unit's snapshot in display order.
func (s *Supervisor) List() []Info {
	var out []Info
	_ = s.call(func() { out = s.snapshot() })
	return out
}

func (s *Supervisor) snapshot() []Info {
	out := make([]Info, 0, len(s.order))
	for _, name := range s.order {
		u := s.units[name]
		u.info.LastSeq = u.ring.Last()
		out = append(out, u.info)
	}
	return out
}

// Get returns one unit's snapshot.
func (s *Supervisor) Get(name string) (Info, error) {
	var info Info
	err := s.do(name, func(u *unit) error {
		u.info.LastSeq = u.ring.Last()
		info = u.info
		return nil
	})
	return info, err
}

// Subscribe returns every unit's snapshot and a subscription to what happens
// next, atomically: no event falls between the two. The first batch announces
// the newest line of every unit with output.
func (s *Supervisor) Subscribe() ([]Info, Events) {
	var snap []Info
	var sub *Subscription
	if err := s.call(func() {
		snap = s.snapshot()
		sub = s.broker.subscribe()
	}); err != nil {
		sub = s.broker.subscribe() // closed: Next reports ErrClosed
		return nil, sub
	}
	// Lines appended between the snapshot and now were announced to nobody
	// this subscriber heard; announce every ring's newest line once.
	sub.put(func(b *Batch) {
		for _, in := range snap {
			if last := s.ring(in.Name).Last(); last > 0 {
				if b.Logs == nil {
					b.Logs = make(map[string]uint64)
				}
				b.Logs[in.Name] = max(b.Logs[in.Name], last)
			}
		}
	})
	return snap, sub
}

func (s *Supervisor) ring(name string) *ring {
	s.ringsMu.RLock()
	defer s.ringsMu.RUnlock()
	return s.rings[name]
}

// Tail returns the unit's newest n lines, oldest first.
func (s *Supervisor) Tail(name string, n int) ([]Line, error) {
	r := s.ring(name)
	if r == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return r.Tail(n), nil
}

// Since returns up to limit lines with sequence numbers above after, oldest
// first; missed counts lines above after that the ring already dropped.
func (s *Supervisor) Since(name string, after uint64, limit int) (lines []Line, missed uint64, err error) {
	r := s.ring(name)
	if r == nil {
		return nil, 0, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	lines, missed = r.Since(after, limit)
	return lines, missed, nil
}

// AppendSince is Since for a consumer of every line (the headless printer):
// it appends the raw texts of up to limit lines after `after` to buf and
// their records to recs, allocating nothing per line.
func (s *Supervisor) AppendSince(name string, after uint64, limit int, buf []byte, recs []RawLine) ([]byte, []RawLine, uint64, error) {
	r := s.ring(name)
	if r == nil {
		return buf, recs, 0, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	buf, recs, missed := r.appendSince(after, limit, buf, recs)
	return buf, recs, missed, nil
}

// Shutdown stops every unit gracefully (each with its own stop signal and
// timeout, all at once), waits for them, kills any descendant that escaped
// its process group, and stops the supervisor. If ctx ends first, everything
// left is killed. Calling it again (from another goroutine too) waits for the
// same shutdown.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.shutMu.Lock()
	first := !s.shutStarted
	s.shutStarted = true
	s.shutMu.Unlock()
	if !first {
		select {
		case <-s.finished:
		case <-ctx.Done():
			s.killAll()
			<-s.finished
		}
		return nil
	}
	defer close(s.finished)
	var idle chan struct{}
	_ = s.call(func() {
		s.shutting = true
		s.idle = make(chan struct{})
		idle = s.idle
		for _, name := range s.order {
			u := s.units[name]
			u.restart = false
			s.stopUnit(u)
		}
		s.checkIdle()
	})
	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		err = fmt.Errorf("shutdown: %w; killed what was left", ctx.Err())
		s.killAll()
		<-idle // SIGKILL cannot be ignored; the reaper reports each exit
	}
	killTagged(s.self, s.opts.Tag+"/")
	// Give the output readers a moment to drain what the children wrote last.
	drained := make(chan struct{})
	go func() { s.pumps.Wait(); close(drained) }()
	t := time.NewTimer(time.Second)
	select {
	case <-drained:
	case <-t.C:
	}
	t.Stop()
	close(s.quit)
	<-s.loopDone
	s.bg.Wait()
	s.broker.shutdown()
	s.devNull.Close()
	return err
}

// killAll sends SIGKILL to every live unit's process group.
func (s *Supervisor) killAll() {
	_ = s.call(func() {
		for _, u := range s.units {
			if u.pid != 0 {
				_ = syscall.Kill(-u.pid, syscall.SIGKILL)
			}
		}
	})
}

// Done is closed once the supervisor has shut down.
func (s *Supervisor) Done() <-chan struct{} { return s.finished }

// publish sends the unit's snapshot to every subscriber. Owner goroutine only.
func (s *Supervisor) publish(u *unit) {
	u.info.LastSeq = u.ring.Last()
	s.broker.state(u.info)
}

// event writes a line to the unit's log in the event stream.
func (s *Supervisor) event(u *unit, format string, args ...any) {
	seq := u.ring.Append(s.clock.Now(), Event, fmt.Appendf(nil, format, args...))
	s.broker.logs(u.spec.Name, seq)
}

func (s *Supervisor) checkIdle() {
	if !s.shutting || s.idle == nil {
		return
	}
	for _, u := range s.units {
		if u.info.State.Live() {
			return
		}
	}
	select {
	case <-s.idle:
	default:
		close(s.idle)
	}
}

func (s *Supervisor) setTimer(u *unit, d time.Duration, f func(u *unit)) {
	if u.timer != nil {
		u.timer.Stop()
	}
	epoch := u.epoch
	u.timer = s.clock.AfterFunc(d, func() {
		s.post(func() {
			// A timer from an older decision (the user stopped or restarted
			// the unit meanwhile) must not act on the new one.
			if u.epoch == epoch {
				u.timer = nil
				f(u)
			}
		})
	})
}

func (s *Supervisor) cancelTimer(u *unit) {
	if u.timer != nil {
		u.timer.Stop()
		u.timer = nil
	}
}

// startUnit starts the unit's process. Owner goroutine only.
func (s *Supervisor) startUnit(u *unit, isRestart bool) {
	u.epoch++
	s.cancelTimer(u)
	u.stopping = false
	u.info.State = Starting
	u.info.Reason = ""
	u.info.NextStart = time.Time{}
	if isRestart {
		u.info.Restarts++
	}
	now := s.clock.Now()
	pid, err := s.spawn(u)
	if err != nil {
		u.info.ExitCode = nil
		u.info.Signal = ""
		u.info.StartedAt, u.info.ExitedAt = now, now
		s.event(u, "failed to start: %v", err)
		s.afterRun(u, fmt.Sprintf("failed to start: %v", err), true)
		return
	}
	u.runs++
	u.pid = pid
	s.byPID[pid] = u
	u.info.PID = pid
	u.info.State = Running
	u.info.StartedAt = now
	u.info.ExitedAt = time.Time{}
	u.info.ExitCode = nil
	u.info.Signal = ""
	u.info.CPU, u.info.RSS, u.info.Procs = 0, 0, 1
	s.event(u, "started: pid %d", pid)
	s.publish(u)
}

// stopUnit asks a live unit to stop; a unit in backoff just stops waiting.
func (s *Supervisor) stopUnit(u *unit) {
	switch {
	case u.pid != 0 && !u.stopping:
		u.epoch++
		u.stopping = true
		u.info.State = Stopping
		s.event(u, "stopping: %s to the process group, SIGKILL after %s", SignalName(u.spec.StopSignal), u.spec.StopTimeout)
		_ = syscall.Kill(-u.pid, u.spec.StopSignal)
		s.setTimer(u, u.spec.StopTimeout, func(u *unit) {
			if u.pid != 0 {
				s.event(u, "still running after %s: SIGKILL to the process group", u.spec.StopTimeout)
				_ = syscall.Kill(-u.pid, syscall.SIGKILL)
				s.sweeper.add(u.tag)
			}
		})
		s.publish(u)
	case u.pid == 0 && u.info.State != Stopped:
		u.epoch++
		s.cancelTimer(u)
		if u.info.State == Backoff {
			s.event(u, "restart cancelled")
		}
		u.info.State = Stopped
		u.info.NextStart = time.Time{}
		s.publish(u)
	}
}

// onExit handles the end of a process the reaper collected.
func (s *Supervisor) onExit(e exitNote) {
	u, ok := s.byPID[e.pid]
	if !ok {
		return // an orphaned descendant we reaped as subreaper
	}
	delete(s.byPID, e.pid)
	pgid, tag := u.pid, u.tag
	u.pid = 0
	u.info.PID = 0
	u.info.ExitedAt = e.at
	u.info.CPU, u.info.RSS, u.info.Procs = 0, 0, 0
	var what string
	switch {
	case e.status.Signaled():
		u.info.ExitCode = nil
		u.info.Signal = SignalName(e.status.Signal())
		what = "killed by " + u.info.Signal
	default:
		code := e.status.ExitStatus()
		u.info.ExitCode = &code
		u.info.Signal = ""
		what = fmt.Sprintf("exit status %d", code)
	}
	ran := e.at.Sub(u.info.StartedAt)
	if len(u.exits) == maxExits {
		u.exits = append(u.exits[:0], u.exits[1:]...)
	}
	u.exits = append(u.exits, ExitRecord{StartedAt: u.info.StartedAt, ExitedAt: e.at, ExitCode: u.info.ExitCode, Signal: u.info.Signal})
	s.event(u, "%s after %s", what, ran.Round(time.Millisecond))
	// The run is over: whatever it left behind in its group, or escaped
	// from it, goes too, so restarts never pile up orphans.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	s.sweeper.add(tag)

	if u.stopping {
		u.stopping = false
		s.cancelTimer(u)
		u.info.State = Stopped
		u.info.Reason = ""
		s.event(u, "stopped")
		if u.restart && !s.shutting {
			u.restart = false
			s.startUnit(u, true)
			return
		}
		s.publish(u)
		s.checkIdle()
		return
	}
	failed := !(u.info.ExitCode != nil && *u.info.ExitCode == 0)
	if ran >= u.spec.MinUptime {
		u.failures = 0 // it had been healthy
	}
	s.afterRun(u, what, failed)
	s.checkIdle()
}

// afterRun applies the restart policy to a run that ended by itself (or never
// started); what says how it ended.
func (s *Supervisor) afterRun(u *unit, what string, failed bool) {
	again := !s.shutting && (u.spec.Restart == RestartAlways || (u.spec.Restart == RestartOnFailure && failed))
	if !again {
		if failed {
			u.info.State = Crashed
			u.info.Reason = what
		} else {
			u.info.State = Exited
			u.info.Reason = ""
		}
		s.publish(u)
		return
	}
	u.failures++
	if u.spec.MaxRestarts > 0 && u.failures > u.spec.MaxRestarts {
		u.info.State = Crashed
		u.info.Reason = fmt.Sprintf("crash loop: %d quick failures in a row (each under %s), not restarting; last: %s",
			u.failures, u.spec.MinUptime, what)
		s.event(u, "%s", u.info.Reason)
		s.publish(u)
		return
	}
	delay := backoffDelay(u.failures, u.spec.BackoffInitial, u.spec.BackoffMax, s.opts.Jitter)
	if delay <= 0 {
		s.startUnit(u, true)
		return
	}
	u.epoch++
	u.info.State = Backoff
	u.info.NextStart = s.clock.Now().Add(delay)
	u.info.Reason = fmt.Sprintf("%s; restarting in %s (failure %d in a row)", what, delay.Round(10*time.Millisecond), u.failures)
	s.event(u, "restarting in %s", delay.Round(time.Millisecond))
	s.setTimer(u, delay, func(u *unit) {
		if u.info.State == Backoff {
			s.startUnit(u, true)
		}
	})
	s.publish(u)
}
