package procs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Errors callers can test for with errors.Is.
var (
	ErrNotFound   = errors.New("no such unit")
	ErrExists     = errors.New("unit already exists")
	ErrNotRunning = errors.New("not running")
	ErrRunning    = errors.New("already running")
	ErrShutdown   = errors.New("supervisor is shut down")
	// ErrNotTTY refuses a Terminals call on a unit without a terminal.
	ErrNotTTY = errors.New("not a tty unit")
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
	// Guard is the command line of the guard (argv[0] a path; it must lead
	// to RunGuard with this run's Tag and its stdin). The supervisor starts
	// it, tells it every unit's process group (and cgroup) as they start, and
	// starts a new one, told the current state, if it dies. When kelpie dies
	// the guard kills everything its units left.
	Guard []string
	// StateFile, if set, is where this run is recorded (tag, kelpie's pid,
	// the units' process groups and cgroups) so that the next run can kill
	// what is left if kelpie and its guard were both killed: see
	// ReapLeftovers (call it before New) and StateFileFor. A clean shutdown
	// removes the file.
	StateFile string
	// NoCgroup keeps units out of cgroups even where the cgroup v2 tree is
	// writable (by default each run of each unit gets its own cgroup there).
	NoCgroup bool
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
	pumps    sync.WaitGroup // message channel readers, sweepers

	readers   *readers      // the output pipes' reader threads
	pipeGrace time.Duration // how long an ended run's pipes are still read (owner goroutine)

	broker *broker

	// rings are read without the owner goroutine (logs are served straight
	// from them), so they have their own lock.
	ringsMu sync.RWMutex
	rings   map[string]*ring
	ids     map[string]uint64 // each unit's Info.ID, for SinceID
	// goneRings are the newest removed units' rings (maxGoneRings), for a
	// remote follower's SinceID: in process they go along with the removal.
	goneRings []goneRing
	msgs      map[string]*msgStore // channel messages, apart from the rings
	// inboxes are the running workers' runs, so that a message to a worker
	// goes straight to its inbox, not through the owner goroutine.
	inboxes map[string]*workerRun
	// ttys are the tty units' terminals, read by front ends without the
	// owner goroutine (a pane draws one every frame).
	ttys map[string]*ttyTerm

	devNull *os.File
	self    int

	threadsMu  sync.Mutex
	threadPrev map[int]threadSample // the last Details read of each process's threads

	sweeper *sweeper // kills what ended runs left behind
	sid     int      // kelpie's session, which the units' groups share

	state *stateWriter // the run's record for the next run (nil: none)

	cg     *cgroupTree // the run's cgroup (nil: process groups and tags only)
	cgNote string      // why there is none

	shutMu      sync.Mutex
	shutStarted bool
	finished    chan struct{} // closed when Shutdown has finished

	// Owned by the owner goroutine.
	units    map[string]*unit
	order    []string
	byPID    map[int]string       // live runs' main processes, to their units
	counters map[string]*counters // groups' shared counters (the map: owner goroutine)
	members  map[string]int       // groups' member counts
	clusters map[string]*clusterState
	retired  map[string]int // runs of removed units, by name (see unit.base)
	tap      Tap            // every unit's lines as stored (Tap); nil: none
	lastID   uint64         // the newest unit's Info.ID
	shutting bool
	idle     chan struct{} // closed when shutting down and no unit is live

	guard         *guardLink         // nil without Options.Guard
	guardStopped  bool               // closed on purpose: do not replace it
	guardRestarts int                // guards replaced after dying
	guardErr      error              // why the last guard could not be started
	groups        map[int]groupProof // live units' process groups, for a new guard
	nDraining     int                // units whose stop waits for the rest of their group

	nDeps      int  // units with dependencies (none: deps.go has nothing to do)
	depsDirty  bool // a state was published since settleDeps last ran
	nStopAfter int  // units whose ordered stop waits for their dependents
	// probePIDs are running exec checks, to the function their exit status
	// goes to (the reaper collects them like every child).
	probePIDs map[int]func(syscall.WaitStatus)
	probeHTTP *http.Client // the http probes' client (nil until one runs)
	probeNull *os.File     // /dev/null for writing: exec checks' output (nil until one runs)
}

// exitNote is the end of a run: a process the reaper collected (pid and
// status) or a worker whose function returned (name, the run and how it
// ended).
type exitNote struct {
	pid    int
	status syscall.WaitStatus
	at     time.Time

	name string // a worker's unit
	run  run    // a worker's run
	exit Exit   // a worker's end
}

// unit is one supervised thing. Only the owner goroutine touches it.
type unit struct {
	spec     Spec
	info     Info
	ring     *ring
	msgs     *msgStore
	epoch    uint64 // bumped by every start/stop decision; timers carry it
	runs     int    // runs started so far
	base     int    // runs of removed units of this name: tags and cgroups stay unique
	run      run    // the current run (nil: none); kept while it drains
	failures int    // quick failures in a row
	stopping bool   // a stop was asked for this run
	// draining: stopping, the run's main process (or goroutine) ended, the
	// rest of its group not yet.
	draining bool
	killed   bool        // the stop timeout passed and the group got SIGKILL
	poll     *time.Timer // re-checks a draining group (see pollGroup)
	// upWaiters are Restart calls waiting for the next run to be up.
	upWaiters []chan upNote
	restart   bool         // start again once stopped (the restart command)
	timer     Timer        // the pending backoff or stop-timeout timer
	exits     []ExitRecord // the last maxExits runs, oldest first
	// remove: forget the unit once it has stopped (scale down, reload).
	remove bool
	// readyWait hears when the current run is ready (nil) or has ended
	// first (why); goneWait are closed when the unit is removed.
	readyWait []chan error
	goneWait  []chan struct{}
	probe     *time.Timer // re-checks a cluster member's readiness
	// waitRestart: the waiting unit's start counts as a restart.
	waitRestart bool
	// ranOut: the last run started and ended by itself (a dependency's
	// "completed" condition).
	ranOut bool
	// stopAfter: an ordered stop (StopAll, Shutdown) waits for the unit's
	// dependents to stop before stopping it.
	stopAfter bool
	memOver   int        // samples in a row over spec.MaxMemory (memlimit.go)
	memWell   time.Time  // the last sample under spec.MaxMemory (zero: none this run)
	sched     Timer      // the next scheduled run's timer (schedule.go)
	schedGen  uint64     // bumped when sched is re-armed or cancelled
	watch     *unitWatch // the file watch (watch.go; nil: none)
	tty       *ttyTerm   // a tty unit's terminal, for its whole life (tty.go; nil: none)

	ready, live *probeRun   // the current run's probes (nil: none, or done)
	readyLog    *logWatch   // the current run's log probes' watches
	liveLog     *logWatch   //
	watchdog    Timer       // a run's sd_notify watchdog (nil: none)
	notify      *notifySock // the unit's NOTIFY_SOCKET (nil: none yet)
	unhealthy   string      // why a liveness failure is stopping the run
	wellAt      time.Time   // when that run was last seen healthy (zero: never)
	lastWhy     string      // why the last run was restarted as unhealthy
}

// runNumber numbers the next run, from 1, over every unit of this name.
func (u *unit) runNumber() int { return u.base + u.runs + 1 }

// alive reports whether the unit's run has its main process (or goroutine).
func (u *unit) alive() bool { return u.run != nil && !u.draining }

// maxExits is how many ended runs a unit remembers for its exit history.
const maxExits = 20

// New starts a supervisor with no units.
func New(opts Options) (*Supervisor, error) {
	// Units and the guard get the descriptors kelpie gives them, and none
	// that kelpie itself was started with.
	if err := noInherit(); err != nil {
		return nil, err
	}
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
	rd, err := newReaders(0)
	if err != nil {
		devNull.Close()
		return nil, err
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
		ids:      make(map[string]uint64),
		msgs:     make(map[string]*msgStore),
		inboxes:  make(map[string]*workerRun),
		ttys:     make(map[string]*ttyTerm),
		devNull:  devNull,
		self:     os.Getpid(),
		units:    make(map[string]*unit),
		byPID:    make(map[int]string),
		counters: make(map[string]*counters),
		members:  make(map[string]int),
		clusters: make(map[string]*clusterState),
		retired:  make(map[string]int),

		probePIDs: make(map[int]func(syscall.WaitStatus)),
	}
	s.readers, s.pipeGrace = rd, releaseGrace
	s.sweeper = &sweeper{self: s.self, wg: &s.pumps}
	s.sid, _ = unix.Getsid(0)
	s.groups = make(map[int]groupProof)
	if opts.NoCgroup {
		s.cgNote = "cgroups turned off"
	} else {
		s.cg, s.cgNote = setupCgroups(opts.Tag)
	}
	if opts.StateFile != "" {
		me, _ := readStat(s.self)
		rec := runRecord{Tag: opts.Tag, PID: s.self, Start: me.start, Boot: bootID(), SID: s.sid, Groups: map[int]uint64{}}
		if s.cg != nil {
			rec.Cgroup = s.cg.base
		}
		s.state, err = newStateWriter(opts.StateFile, rec)
		if err != nil {
			devNull.Close()
			s.removeCgroups()
			return nil, err
		}
	}
	if len(opts.Guard) > 0 {
		w, pid, err := startGuard(opts.Guard)
		if err != nil {
			devNull.Close()
			if s.state != nil {
				s.state.remove()
			}
			s.removeCgroups()
			return nil, err
		}
		s.guard = newGuardLink(w, pid, s.guardCgroupFeed())
	}
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
			s.settleDeps()
		case e := <-s.exits:
			s.onExit(e)
			s.settleDeps()
		case <-s.quit:
			return
		}
	}
}

// call runs f on the owner goroutine and waits for it.
func (s *Supervisor) call(f func()) error {
	done := make(chan struct{})
	select {
	case s.cmds <- func() { f(); s.settleDeps(); close(done) }:
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
	if err := checkSpec(&spec); err != nil {
		return err
	}
	var err error
	cerr := s.call(func() { _, err = s.addUnit(spec) })
	return errors.Join(cerr, err)
}

// checkSpec is every check a spec passes before it is added (Add's, and a
// cluster member's): its kind's, its probes', its group name's, its
// dependencies'.
func checkSpec(spec *Spec) error {
	if spec.Name == "" {
		return errors.New("add unit: empty name")
	}
	ops := opsFor(spec.Kind)
	if ops == nil {
		return fmt.Errorf("add unit %q: kind %q cannot be added", spec.Name, spec.Kind)
	}
	for _, check := range []func(*Spec) error{ops.validate, checkProbes, checkGroupName, checkDeps} {
		if err := check(spec); err != nil {
			return fmt.Errorf("add unit %q: %w", spec.Name, err)
		}
	}
	return nil
}

// addUnit registers a checked spec (with its defaults). Owner goroutine only.
func (s *Supervisor) addUnit(spec Spec) (*unit, error) {
	if _, ok := s.units[spec.Name]; ok {
		return nil, fmt.Errorf("add unit %q: %w", spec.Name, ErrExists)
	}
	// A group's name addresses all its members: no unit may have it.
	if _, ok := s.units[spec.Group]; ok && spec.Group != "" {
		return nil, fmt.Errorf("add unit %q: %w (a unit is named like its group %q)", spec.Name, ErrExists, spec.Group)
	}
	if s.members[spec.Name] > 0 || s.clusters[spec.Name] != nil {
		return nil, fmt.Errorf("add unit %q: %w (a group has that name)", spec.Name, ErrExists)
	}
	if spec.Group != "" {
		s.members[spec.Group]++
	}
	if len(spec.DependsOn) > 0 {
		s.nDeps++
	}
	r := newRing(spec.LogBuffer)
	if s.tap != nil {
		r.tap = s.tap.Unit(spec.Name, &r.mu) // before the unit can write
	}
	u := &unit{spec: spec, ring: r, msgs: newMsgStore(DefaultMessageBuffer, DefaultMessageCount), base: s.retired[spec.Name]}
	s.lastID++
	u.info = Info{
		Name: spec.Name, Kind: spec.Kind, Group: spec.Group, State: Stopped, Command: spec.Command(),
		Dir: spec.Dir, Restart: spec.Restart, ID: s.lastID,
	}
	if spec.Group != "" {
		s.groupCounters(spec.Group).declare(spec.Shared)
	}
	if spec.Disabled {
		u.info.Reason = "disabled"
	}
	u.info.Schedule = spec.ScheduleText
	if spec.TTY {
		s.addTTY(u)
	}
	s.armSchedule(u, time.Time{})
	s.startWatch(u)
	s.ringsMu.Lock()
	s.rings[spec.Name] = r
	s.ids[spec.Name] = u.info.ID
	s.msgs[spec.Name] = u.msgs
	s.ringsMu.Unlock()
	if cs := s.clusters[spec.Group]; cs != nil && spec.Group != "" {
		u.info.Listen = cs.addr
	}
	s.units[spec.Name] = u
	s.order = append(s.order, spec.Name)
	s.publish(u)
	return u, nil
}

// Remove forgets a unit that is not running (cluster scale-down, a config
// reload): its log goes with it and subscribers see it in Batch.Removed.
func (s *Supervisor) Remove(name string) error {
	return s.do(name, func(u *unit) error {
		if u.info.State.Live() {
			return fmt.Errorf("remove %q: %w (stop it first)", name, ErrRunning)
		}
		s.removeUnit(u)
		return nil
	})
}

// removeUnit forgets a unit that is not live. Owner goroutine only.
func (s *Supervisor) removeUnit(u *unit) {
	name := u.spec.Name
	u.epoch++ // a pending backoff timer must not start it again
	s.cancelTimer(u)
	s.stopSchedule(u)
	s.stopWatch(u)
	if u.probe != nil {
		u.probe.Stop()
	}
	s.stopProbes(u)
	if u.notify != nil {
		u.notify.close()
		u.notify = nil
	}
	delete(s.units, name)
	s.retired[name] = u.base + u.runs
	u.ring.removed()
	if len(u.spec.DependsOn) > 0 {
		s.nDeps--
	}
	if u.stopAfter {
		u.stopAfter = false
		s.nStopAfter--
	}
	if g := u.spec.Group; g != "" {
		if s.members[g]--; s.members[g] <= 0 {
			delete(s.members, g)
			delete(s.counters, g)
		}
	} else {
		delete(s.counters, name)
	}
	s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == name })
	s.ringsMu.Lock()
	delete(s.rings, name)
	delete(s.ids, name)
	if len(s.goneRings) >= maxGoneRings {
		s.goneRings[0] = goneRing{}
		s.goneRings = s.goneRings[1:]
	}
	s.goneRings = append(s.goneRings, goneRing{id: u.info.ID, r: u.ring})
	delete(s.msgs, name)
	delete(s.inboxes, name)
	delete(s.ttys, name)
	s.ringsMu.Unlock()
	closeTTY(u.tty)
	// The ring goes along with the removal: followers still read the lines
	// announced just before it (the exit, "stopped"), from this ring and not
	// from a new unit that takes the name.
	s.broker.removed(name, u.ring)
	u.notifyReady(errRemoved)
	for _, c := range u.goneWait {
		close(c)
	}
	u.goneWait = nil
}

// StartAll starts every registered unit that is not disabled, not scheduled
// and not live.
func (s *Supervisor) StartAll() error {
	return s.call(func() {
		for _, name := range s.order {
			u := s.units[name]
			// A scheduled unit runs when its schedule says.
			if !u.spec.Disabled && u.spec.Schedule == nil && !u.info.State.Live() && u.info.State != Waiting && !s.shutting {
				s.launch(u, false) // waits for its dependencies, if it has any
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
			if !u.alive() {
				return fmt.Errorf("start %q: %w (still stopping)", name, ErrRunning)
			}
			if pid := u.run.pid(); pid != 0 {
				return fmt.Errorf("start %q: %w (pid %d)", name, ErrRunning, pid)
			}
			return fmt.Errorf("start %q: %w (%s)", name, ErrRunning, u.info.State)
		}
		u.failures = 0
		s.startWithDeps(u, u.runs > 0)
		return nil
	})
}

// Stop stops a unit gracefully: its stop signal (then SIGCONT) to the process
// group, and SIGKILL to whatever of the group is left after its stop timeout;
// the unit is stopped once the whole group has ended (see stopUnit). A pending
// restart is cancelled.
func (s *Supervisor) Stop(name string) error {
	return s.do(name, func(u *unit) error {
		u.restart = false
		u.unhealthy, u.lastWhy = "", "" // the user's stop wins over a liveness restart
		s.releaseUp(u, errRestartCancelled)
		s.stopUnit(u)
		return nil
	})
}

// Restart stops a running unit and starts it again once it has ended; a unit
// that is not running is simply started. It returns once the new run is up
// (or failed to start: that error is returned), so any number of concurrent
// calls during one stop all join the same new run. A stop or a shutdown that
// cancels the restart ends the wait with an error.
func (s *Supervisor) Restart(name string) error {
	_, err := s.RestartInfo(name)
	return err
}

// RestartInfo is Restart that also returns the unit's snapshot as of the
// moment its new run came up (a later restart may already be stopping it).
func (s *Supervisor) RestartInfo(name string) (Info, error) {
	up := make(chan upNote, 1)
	err := s.do(name, func(u *unit) error {
		u.failures = 0
		u.upWaiters = append(u.upWaiters, up)
		if u.info.State.Live() {
			u.restart = true
			s.stopUnit(u)
			return nil
		}
		s.startWithDeps(u, u.runs > 0)
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	select {
	case n := <-up:
		if n.err != nil {
			return n.info, fmt.Errorf("restart %q: %w", name, n.err)
		}
		return n.info, nil
	case <-s.loopDone:
		return Info{}, fmt.Errorf("restart %q: %w", name, ErrShutdown)
	}
}

// upNote ends a Restart's wait.
type upNote struct {
	info Info
	err  error
}

// errRestartCancelled ends a Restart whose pending start was called off.
var errRestartCancelled = errors.New("cancelled: the unit was stopped before it started again")

// releaseUp ends every Restart waiting for the unit's next run with err.
func (s *Supervisor) releaseUp(u *unit, err error) {
	u.info.LastSeq = u.ring.Last()
	for _, c := range u.upWaiters {
		c <- upNote{info: u.info, err: err} // buffered: never blocks
	}
	u.upWaiters = nil
}

// Signal sends sig to the unit's process group. What follows (a restart, say)
// is up to the unit's restart policy, as if the signal had come from anywhere.
func (s *Supervisor) Signal(name string, sig syscall.Signal) error {
	return s.do(name, func(u *unit) error {
		if u.run == nil {
			return fmt.Errorf("signal %q: %w", name, ErrNotRunning)
		}
		if err := u.run.signal(sig); err != nil {
			return fmt.Errorf("signal %q: %w", name, err)
		}
		s.event(u, "signal %s sent to the process group", SignalName(sig))
		return nil
	})
}

// Kill sends SIGKILL to the unit's process group. A worker goroutine cannot
// be killed: that is an error saying so (ErrUnkillable).
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
		out = append(out, s.infoOf(u))
	}
	return out
}

// infoOf is the unit's snapshot with its group's live counters. Owner
// goroutine only.
func (s *Supervisor) infoOf(u *unit) Info {
	in := u.info
	if p, ok := u.run.(*procRun); ok && p.cw != nil {
		in.Served = p.cw.Served()
	}
	if u.spec.Kind == KindWorker || u.spec.Group != "" {
		in.Counters = s.counters[counterKey(&u.spec)].values()
	}
	return in
}

// Get returns one unit's snapshot.
func (s *Supervisor) Get(name string) (Info, error) {
	var info Info
	err := s.do(name, func(u *unit) error {
		u.info.LastSeq = u.ring.Last()
		info = s.infoOf(u)
		return nil
	})
	return info, err
}

// Subscribe returns every unit's snapshot and a subscription to what happens
// next, atomically: no event falls between the two. The first batch announces
// the newest line of every unit with output.
func (s *Supervisor) Subscribe() ([]Info, Events) {
	snap, _, ev := s.subscribeRings()
	return snap, ev
}

// subscribeRings is Subscribe that also returns the ring of every unit in
// the snapshot, taken with it: a Cursor holds the rings of the very units
// it starts with, even if one is removed and its name reused at once.
func (s *Supervisor) subscribeRings() ([]Info, map[string]*ring, Events) {
	var snap []Info
	var rings map[string]*ring
	var sub *Subscription
	if err := s.call(func() {
		snap = s.snapshot()
		rings = make(map[string]*ring, len(snap))
		for _, in := range snap {
			rings[in.Name] = s.units[in.Name].ring
		}
		sub = s.broker.subscribe()
	}); err != nil {
		sub = s.broker.subscribe() // closed: Next reports ErrClosed
		return nil, nil, sub
	}
	// Lines appended between the snapshot and now were announced to nobody
	// this subscriber heard; announce every ring's newest line once.
	sub.put(func(b *Batch) {
		for _, in := range snap {
			if last := rings[in.Name].Last(); last > 0 {
				if b.Logs == nil {
					b.Logs = make(map[string]uint64)
				}
				b.Logs[in.Name] = max(b.Logs[in.Name], last)
			}
		}
	})
	return snap, rings, sub
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

// maxGoneRings is how many removed units' rings SinceID still reads.
const maxGoneRings = 64

// goneRing is a removed unit's ring, by its Info.ID.
type goneRing struct {
	id uint64
	r  *ring
}

// SinceID is Since of the unit with this Info.ID: the one of that name
// now, or one of the newest removed ones (its last lines, for a follower
// that learnt of the removal before it read them). ErrNotFound otherwise,
// never another unit's lines.
func (s *Supervisor) SinceID(name string, id, after uint64, limit int) (lines []Line, missed uint64, err error) {
	s.ringsMu.RLock()
	r := s.rings[name]
	if s.ids[name] != id {
		r = nil
		for _, g := range s.goneRings {
			if g.id == id {
				r = g.r
			}
		}
	}
	s.ringsMu.RUnlock()
	if r == nil {
		return nil, 0, fmt.Errorf("%w: %q (unit %d)", ErrNotFound, name, id)
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
		units := make([]*unit, 0, len(s.order))
		for _, name := range s.order {
			u := s.units[name]
			u.restart = false
			s.releaseUp(u, ErrShutdown)
			units = append(units, u)
		}
		// Dependents first: each unit waits for its dependents to stop.
		s.stopOrdered(units)
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
	_ = s.call(s.closeClusters) // every member has ended
	_ = s.call(func() {
		for _, u := range s.units {
			s.stopProbes(u)
			if u.notify != nil {
				u.notify.close() // its reader ends before the pumps are waited for
				u.notify = nil
			}
		}
		if s.probeHTTP != nil {
			s.probeHTTP.CloseIdleConnections()
		}
		if s.probeNull != nil {
			s.probeNull.Close()
			s.probeNull = nil
		}
	})
	var guard *guardLink
	_ = s.call(func() { s.guardStopped, guard = true, s.guard })
	if guard != nil {
		guard.close() // the guard sweeps (nothing is left) and exits
	}
	if s.state != nil {
		s.state.remove()
	}
	s.removeCgroups()
	// Give the output readers a moment to drain what the children wrote last.
	s.readers.close(time.Second)
	drained := make(chan struct{})
	go func() { s.pumps.Wait(); close(drained) }()
	t := time.NewTimer(time.Second)
	select {
	case <-drained:
	case <-t.C:
	}
	t.Stop()
	// The terminals' reader goroutines have ended: their emulators go too
	// (a Screen still draws the last screen).
	s.ringsMu.RLock()
	for _, tt := range s.ttys {
		closeTTY(tt)
	}
	s.ringsMu.RUnlock()
	close(s.quit)
	<-s.loopDone
	s.bg.Wait()
	if s.tap != nil {
		s.tap.Close() // after the pumps have drained (or been given up on)
	}
	s.broker.shutdown()
	s.devNull.Close()
	return err
}

// killAll sends SIGKILL to every live unit's process group.
func (s *Supervisor) killAll() {
	_ = s.call(func() {
		for _, u := range s.units {
			if u.run == nil {
				continue
			}
			if u.run.kill() != nil {
				// A goroutine cannot be killed: it is left behind, and
				// the shutdown does not wait for it any longer.
				if u.info.State == Stuck || u.stopping {
					s.event(u, "abandoned: the worker has not returned")
					s.finishStop(u)
				}
				continue
			}
			if u.draining {
				u.killed = true
				s.finishStop(u)
			}
		}
	})
}

// Done is closed once the supervisor has shut down.
func (s *Supervisor) Done() <-chan struct{} { return s.finished }

// publish sends the unit's snapshot to every subscriber. Owner goroutine only.
func (s *Supervisor) publish(u *unit) {
	s.depsDirty = true // a dependent may be waiting on this change
	u.info.LastSeq = u.ring.Last()
	s.broker.state(s.infoOf(u))
}

// event writes a line to the unit's log in the event stream. Events quote
// outside input (error texts, paths), so the line is sanitised like output.
func (s *Supervisor) event(u *unit, format string, args ...any) {
	s.eventTo(u.spec.Name, u.ring, format, args...)
}

// eventTo is event for goroutines other than the owner: they have the unit's
// name and ring, never the unit.
func (s *Supervisor) eventTo(name string, r *ring, format string, args ...any) {
	line := fmt.Appendf(nil, format, args...)
	if !plain(line) {
		line = sanitise(nil, line)
	}
	seq := r.Append(s.clock.Now(), Event, line)
	s.broker.logs(name, seq)
}

func (s *Supervisor) checkIdle() {
	if !s.shutting || s.idle == nil {
		return
	}
	for _, u := range s.units {
		// A stuck worker is not waited for: it has had its stop timeout,
		// and a goroutine cannot be made to end.
		if u.info.State.Live() && u.info.State != Stuck {
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
	u.stopping, u.draining, u.killed = false, false, false
	u.ranOut = false
	u.info.State = Starting
	u.info.Reason = ""
	if u.lastWhy != "" {
		// A run restarted for failing its liveness check says why.
		u.info.Reason, u.lastWhy = "last run: "+u.lastWhy, ""
	}
	u.info.NextStart = time.Time{}
	if isRestart {
		u.info.Restarts++
	}
	now := s.clock.Now()
	r, err := opsFor(u.spec.Kind).start(s, u)
	if err != nil {
		u.info.ExitCode = nil
		u.info.Signal = ""
		u.info.StartedAt, u.info.ExitedAt = now, now
		// The error quotes outside input (a path, a working directory).
		what := Clean(fmt.Sprintf("failed to start: %v", err))
		s.event(u, "%s", what)
		s.releaseUp(u, errors.New(what))
		u.notifyReady(errors.New(what))
		s.afterRun(u, what, true)
		return
	}
	u.runs++
	u.run = r
	pid := r.pid()
	u.info.PID = pid
	u.info.State = Running
	u.info.StartedAt = now
	u.info.ExitedAt = time.Time{}
	u.info.ExitCode = nil
	u.info.Signal = ""
	u.info.CPU, u.info.RSS, u.info.Procs = 0, 0, 1
	u.memOver, u.memWell = 0, time.Time{}
	if pid == 0 {
		u.info.Procs = 0
	}
	u.info.Ready = false
	u.info.Status = ""
	u.unhealthy = ""
	s.watchReady(u)
	s.startProbes(u)
	s.publish(u)
	s.releaseUp(u, nil)
}

// stopUnit asks a live unit to stop; a unit in backoff just stops waiting.
// The stop follows systemd's KillMode=control-group: the stop signal goes to
// the whole process group, then SIGCONT so a stopped process can act on it;
// the group as a whole (not just the main process: a `sh -c` wrapper dies at
// once while its child is still shutting down) has the stop timeout, counted
// from now, to end; only what is left then gets SIGKILL.
func (s *Supervisor) stopUnit(u *unit) {
	switch {
	case u.alive() && !u.stopping:
		u.epoch++
		u.stopping = true
		s.stopProbes(u)
		u.info.State = Stopping
		if p, ok := u.run.(*procRun); ok && p.cw != nil {
			// A cluster member: no new connection goes to it; a Node
			// worker is asked to disconnect (it closes its servers and
			// exits once idle), and signalled only if it has not after its
			// stop timeout.
			p.cw.Disconnect()
			if p.node {
				s.event(u, "stopping: Node's disconnect sent, %s after %s", SignalName(u.spec.StopSignal), u.spec.StopTimeout)
				s.setTimer(u, u.spec.StopTimeout, func(u *unit) {
					if u.stopping && u.alive() {
						s.signalStop(u)
					}
				})
				s.publish(u)
				return
			}
		}
		s.signalStop(u)
	case u.run == nil && !u.stopping && u.info.State != Stopped:
		u.epoch++
		s.cancelTimer(u)
		if u.info.State == Backoff {
			s.event(u, "restart cancelled")
		}
		u.info.State = Stopped
		u.info.NextStart = time.Time{}
		u.info.Reason = "" // it said "restarting in ..."
		s.publish(u)
	}
}

// signalStop sends a stopping unit's run its stop signal, and SIGKILL to
// what is left of it after its stop timeout. Owner goroutine only.
func (s *Supervisor) signalStop(u *unit) {
	if u.run.pid() != 0 {
		s.event(u, "stopping: %s to the process group, SIGKILL after %s", SignalName(u.spec.StopSignal), u.spec.StopTimeout)
	} else {
		s.event(u, "stopping: context cancelled, stuck if not returned after %s", u.spec.StopTimeout)
	}
	u.run.stop(u.spec.StopSignal)
	if r, ok := u.run.(*procRun); ok && u.spec.StopSignal != syscall.SIGKILL {
		s.scheduleHangUp(u, r) // a tty run's session, after a grace
	}
	s.setTimer(u, u.spec.StopTimeout, func(u *unit) {
		if !u.stopping {
			return
		}
		if err := u.run.kill(); err != nil {
			// A goroutine cannot be killed: say so, and wait.
			u.info.State = Stuck
			u.info.Reason = fmt.Sprintf("did not return within %s of its context being cancelled; a goroutine cannot be killed", u.spec.StopTimeout)
			s.event(u, "stuck: %s", u.info.Reason)
			s.publish(u)
			s.checkIdle()
			return
		}
		s.event(u, "still running after %s: SIGKILL to the process group", u.spec.StopTimeout)
		u.killed = true
		u.run.sweep(s)
		if u.draining {
			s.finishStop(u) // the main process is gone: nothing more to wait for
		}
	})
	s.publish(u)
}

// groupGone reports whether no process is left in process group pgid.
// Zombies still count until reaped, so an orphan handed to init is counted
// until init reaps it.
func groupGone(pgid int) bool {
	return syscall.Kill(-pgid, 0) == syscall.ESRCH
}

// runGone reports whether nothing of the unit's run is left: its process
// group is empty, and so is its cgroup if it has one (a `setsid` child left
// the group, not the cgroup); a worker's function has returned.
func (s *Supervisor) runGone(u *unit) bool {
	return u.run == nil || u.run.gone()
}

// pollGroup re-checks a draining unit's group after d, backing off to 200 ms.
// It uses the wall clock, not the injected one: it observes the kernel and
// decides nothing (the stop timeout, a policy, is on s.clock). As subreaper
// kelpie also hears of every orphan's exit (see onExit), so the poll only
// matters for groups whose orphans went to another reaper.
func (s *Supervisor) pollGroup(u *unit, d time.Duration) {
	if u.poll != nil {
		u.poll.Stop()
	}
	epoch := u.epoch
	u.poll = time.AfterFunc(d, func() {
		s.post(func() {
			if u.epoch != epoch || !u.draining {
				return
			}
			if s.runGone(u) {
				s.finishStop(u)
				return
			}
			s.pollGroup(u, min(2*d, 200*time.Millisecond))
		})
	})
}

// finishStop ends a requested stop: the unit is stopped, whatever its run
// left behind goes, and a pending restart starts the next run.
func (s *Supervisor) finishStop(u *unit) {
	if u.poll != nil {
		u.poll.Stop()
		u.poll = nil
	}
	s.cancelTimer(u)
	// No signal to the group here: it is empty, or the timeout (or a
	// shutdown's deadline) has just sent it SIGKILL. An empty group's number
	// is free for reuse, so sending more could hit a stranger.
	if u.run != nil {
		u.run.release(s)
		u.run = nil
	}
	if u.draining {
		s.nDraining--
	}
	u.stopping, u.draining, u.killed = false, false, false
	u.epoch++
	u.info.State = Stopped
	u.info.Reason = ""
	u.info.NextStart = time.Time{}
	s.event(u, "stopped")
	if why := u.unhealthy; why != "" && !u.remove && !s.shutting {
		u.unhealthy, u.restart = "", false
		s.afterUnhealthy(u, why)
		return
	}
	u.unhealthy = ""
	if u.remove {
		u.restart = false
		s.releaseUp(u, errRestartCancelled)
		s.removeUnit(u)
		s.checkIdle()
		return
	}
	if u.restart && !s.shutting {
		u.restart = false
		s.launch(u, true)
		return
	}
	u.restart = false
	s.releaseUp(u, errRestartCancelled)
	s.publish(u)
	s.checkIdle()
}

// checkDraining finishes the stop of every draining unit whose group is now
// empty. It runs when the reaper collects an orphan (kelpie as subreaper).
func (s *Supervisor) checkDraining() {
	if s.nDraining == 0 {
		return // the common case: no loop over every unit per orphan
	}
	for _, u := range s.units {
		if u.draining && s.runGone(u) {
			s.finishStop(u)
		}
	}
}

// onExit handles the end of a run: a process the reaper collected, or a
// worker whose function returned.
func (s *Supervisor) onExit(e exitNote) {
	var u *unit
	var ex Exit
	if e.run != nil {
		u = s.units[e.name]
		if u == nil || u.run != e.run {
			return // an abandoned worker of an earlier run (see killAll)
		}
		ex = e.exit
	} else {
		if done, ok := s.probePIDs[e.pid]; ok {
			delete(s.probePIDs, e.pid)
			done(e.status)
			return
		}
		name, ok := s.byPID[e.pid]
		if !ok && s.guard != nil && e.pid == s.guard.pid {
			if !s.guardStopped {
				s.replaceGuard()
			}
			return
		}
		if !ok {
			// An orphaned descendant we reaped as subreaper: it may have
			// been the last of a draining group.
			s.checkDraining()
			return
		}
		delete(s.byPID, e.pid)
		u = s.units[name]
		ex = exitOf(e.status)
	}
	u.info.PID = 0
	u.info.TID = 0
	u.info.Ready = false
	s.stopProbes(u)
	u.notifyReady(errEndedFirst)
	u.info.ExitedAt = e.at
	u.info.CPU, u.info.RSS, u.info.Procs = 0, 0, 0
	u.info.ExitCode, u.info.Signal = ex.Code, ex.Signal
	what := cleanLine(ex.String()) // a worker's error or panic text is outside text too
	ran := e.at.Sub(u.info.StartedAt)
	if len(u.exits) == maxExits {
		u.exits = append(u.exits[:0], u.exits[1:]...)
	}
	u.exits = append(u.exits, ExitRecord{StartedAt: u.info.StartedAt, ExitedAt: e.at, ExitCode: u.info.ExitCode, Signal: u.info.Signal})
	s.event(u, "%s after %s", what, ran.Round(time.Millisecond))
	if u.stopping {
		if u.killed || s.runGone(u) {
			s.finishStop(u)
			return
		}
		// The session leader is gone: its session hangs up, as a
		// terminal's does. The rest still has until the stop timeout.
		if r, ok := u.run.(*procRun); ok {
			s.hangUp(u, r, "the session leader ended")
		}
		u.draining = true
		s.nDraining++
		s.event(u, "waiting for the rest of the process group to end")
		s.pollGroup(u, 5*time.Millisecond)
		s.publish(u)
		return
	}
	// The run is over: whatever it left behind in its group, or escaped
	// from it, goes too, so restarts never pile up orphans.
	_ = u.run.kill()
	u.run.release(s)
	u.run = nil

	failed := ex.Failed()
	u.ranOut = true
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
		s.launch(u, true)
		return
	}
	u.epoch++
	u.info.State = Backoff
	u.info.NextStart = s.clock.Now().Add(delay)
	u.info.Reason = fmt.Sprintf("%s; restarting in %s (failure %d in a row)", what, delay.Round(10*time.Millisecond), u.failures)
	s.event(u, "restarting in %s", delay.Round(time.Millisecond))
	s.setTimer(u, delay, func(u *unit) {
		if u.info.State == Backoff {
			s.launch(u, true) // a restart waits for its dependencies too
		}
	})
	s.publish(u)
}

// trackGroup records a new unit's process group, with what proves it is the
// unit's (see groupProof), for the guard and the state file. Owner goroutine only.
//
// session says the group leads a session of its own (a tty unit): its
// session's members in other groups are the unit's too.
func (s *Supervisor) trackGroup(pgid int, session bool) {
	if s.guard == nil && s.state == nil {
		return // nobody to tell: skip reading /proc
	}
	st, _ := readStat(pgid)
	g := groupProof{start: st.start, sid: s.sid}
	if session {
		g.sid, g.session = pgid, true
	}
	s.groups[pgid] = g
	if s.guard != nil {
		s.guard.send(guardGroupLine(pgid, g))
	}
	if s.state != nil {
		s.state.update(func(r *runRecord) {
			r.Groups[pgid] = g.start
			if session {
				r.Sessions = append(r.Sessions, pgid)
			}
		})
	}
}

// untrackGroup forgets an ended unit's process group. Owner goroutine only.
func (s *Supervisor) untrackGroup(pgid int) {
	if _, ok := s.groups[pgid]; !ok {
		return
	}
	delete(s.groups, pgid)
	if s.guard != nil {
		s.guard.send(guardEndLine(pgid))
	}
	if s.state != nil {
		s.state.update(func(r *runRecord) {
			delete(r.Groups, pgid)
			r.Sessions = slices.DeleteFunc(r.Sessions, func(p int) bool { return p == pgid })
		})
	}
}

// replaceGuard starts a new guard after the last one died, and tells it the
// live units' process groups. Owner goroutine only.
func (s *Supervisor) replaceGuard() {
	old := s.guard
	go old.close() // its writer may be mid-write to a dead pipe
	initial := s.guardCgroupFeed()
	for pgid, g := range s.groups {
		initial = append(initial, guardGroupLine(pgid, g)...)
	}
	w, pid, err := startGuard(s.opts.Guard)
	if err != nil {
		s.guard, s.guardErr = nil, err
		return
	}
	s.guard = newGuardLink(w, pid, initial)
	s.guardRestarts++
}

// GuardPID is the pid of the current guard (0: none), for tests and diagnostics.
func (s *Supervisor) GuardPID() int {
	pid := 0
	_ = s.call(func() {
		if s.guard != nil {
			pid = s.guard.pid
		}
	})
	return pid
}

// guardCgroupFeed is the guard's line for the run's cgroup, if there is one.
func (s *Supervisor) guardCgroupFeed() []byte {
	if s.cg == nil {
		return nil
	}
	return guardCgroupLine(s.cg.base)
}

// removeCgroups kills whatever is still in the run's cgroup and removes it.
func (s *Supervisor) removeCgroups() {
	if s.cg != nil {
		killCgroupTree(s.cg.base, nil)
	}
}

// Cleanup says how kelpie finds what a unit's runs leave behind: its own
// cgroup per run, or its process group and the TagVar tag, and why.
func (s *Supervisor) Cleanup() string {
	var out string
	_ = s.call(func() { out = s.cleanup() })
	return out
}

// cleanup quotes paths read from /proc/self/cgroup and errors quoting them:
// outside text, so it is cleaned like every string Details holds.
func (s *Supervisor) cleanup() string {
	if s.cg != nil {
		return cleanLine("cgroup " + s.cg.base + " (one child per run), process group and tag")
	}
	return cleanLine("process group and tag (no cgroup: " + s.cgNote + ")")
}

// Note writes text as an event line in the unit's log (kelpie's own word
// about it, e.g. that its log file could not be written). The text is
// cleaned like every event line.
func (s *Supervisor) Note(name, text string) error {
	s.ringsMu.RLock()
	r := s.rings[name]
	s.ringsMu.RUnlock()
	if r == nil {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	s.eventTo(name, r, "%s", text)
	return nil
}
