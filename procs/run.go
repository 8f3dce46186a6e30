package procs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/kelpie-dev/kelpie/cluster"
	"github.com/kelpie-dev/kelpie/ipc"
)

// run is one run of a unit: a child process (with its process group, cgroup,
// pipes and maybe a channel) or a worker goroutine. The supervisor's
// lifecycle (start, stop and its drain, exits, restart policy, sampling,
// messages) is written once against this interface; a kind of unit is a
// kind (see kindOps) that starts its own runs. Only the owner goroutine
// calls a run's methods.
type run interface {
	// pid is the process shown for the run (0: it has none of its own).
	pid() int
	// signal sends sig to everything of the run, or says why it cannot.
	signal(sig syscall.Signal) error
	// stop asks the run to end: sig (then SIGCONT) to a process group (a
	// tty run's session hears SIGHUP later: see hangUp), the context's
	// cancellation to a worker.
	stop(sig syscall.Signal)
	// kill ends the run by force (SIGKILL to what is left), or returns
	// errUnkillable: a goroutine cannot be killed.
	kill() error
	// sweep queues what the run may have left outside its group (its tag,
	// its cgroup) for the sweeper.
	sweep(s *Supervisor)
	// gone reports whether nothing of the run is left: for a process, its
	// group and cgroup are empty; for a worker, its function returned.
	gone() bool
	// release lets go of what an ended run held (pipes, the group's
	// tracking, leftovers to sweep). Owner goroutine only.
	release(s *Supervisor)
	// probe is what the sampler measures for the run.
	probe() probe
	// send delivers one message (already checked and compact) on the run's
	// channel; ErrNoChannel when it has none open.
	send(msg []byte) error
	// cleanupNote says how what the run started is found (Details.Cleanup),
	// "" for the supervisor's default.
	cleanupNote() string
}

// probe names what the sampler reads for a run: a process tree (pid, also
// its process group) or one of kelpie's own threads (tid).
type probe struct {
	pid int
	tid int
}

// errUnkillable is what killing a worker says.
var errUnkillable = errors.New("a worker is a goroutine and a goroutine cannot be killed: stop cancels its context, and one that does not return within its stop_timeout stays stuck")

// ErrUnkillable is returned by Kill and Signal on a worker goroutine.
var ErrUnkillable = errUnkillable

// Exit is how a run ended: an exit code, a signal, a panic or an error.
type Exit struct {
	Code   *int   // the exit status (a worker that returned nil exits 0)
	Signal string // the signal that ended a process, e.g. SIGKILL
	Panic  string // a worker's panic value
	Err    string // a worker's returned error, or why a run could not go on
}

// Failed reports whether the run ended other than with status 0.
func (e Exit) Failed() bool { return e.Code == nil || *e.Code != 0 }

// String says how the run ended, in words.
func (e Exit) String() string {
	switch {
	case e.Signal != "":
		return "killed by " + e.Signal
	case e.Panic != "":
		return "panic: " + e.Panic
	case e.Err != "":
		return "error: " + e.Err
	case e.Code != nil:
		return fmt.Sprintf("exit status %d", *e.Code)
	}
	return "ended"
}

// exitOf reads a process's wait status.
func exitOf(ws syscall.WaitStatus) Exit {
	if ws.Signaled() {
		return Exit{Signal: SignalName(ws.Signal())}
	}
	code := ws.ExitStatus()
	return Exit{Code: &code}
}

// kindOps is what differs between kinds of unit: what a spec must hold and
// how a run starts. Everything else is the supervisor's, once for all kinds.
type kindOps struct {
	validate func(sp *Spec) error
	start    func(s *Supervisor, u *unit) (run, error)
}

// opsFor returns the kind's operations (nil: not a kind Add accepts).
func opsFor(k Kind) *kindOps {
	switch k {
	case KindProcess, KindFork:
		return &kindOps{validate: validateProcess, start: startProcess}
	case KindWorker:
		return &kindOps{validate: validateWorker, start: startWorker}
	}
	return nil
}

func validateProcess(sp *Spec) error {
	if len(sp.Argv) == 0 && sp.Shell == "" {
		return errors.New("nothing to run")
	}
	if len(sp.Argv) > 0 && sp.Shell != "" {
		return errors.New("both argv and a shell command")
	}
	if sp.Task != nil {
		return errors.New("a process has no worker function")
	}
	return nil
}

func validateWorker(sp *Spec) error {
	if sp.Task == nil {
		return errors.New("a worker needs a function (Spec.Task)")
	}
	if len(sp.Argv) > 0 || sp.Shell != "" || len(sp.ExtraFiles) > 0 {
		return errors.New("a worker runs a function, not a command")
	}
	if sp.TTY {
		return errors.New("a worker is a goroutine and has no terminal (tty is for processes)")
	}
	return nil
}

// procRun is a child process's run.
type procRun struct {
	mainPID int
	pgid    int             // kept while the group drains after the main process ended
	cgroup  string          // the run's cgroup directory, if it has one
	tag     string          // TagVar value of the run
	conn    *ipc.Conn       // the message channel (nil: none, or closed)
	cw      *cluster.Worker // the run with its cluster's dispatcher (nil: none)
	ended   chan struct{}   // closed when a run with cw is released
	node    bool            // cw is a Node cluster primary's worker
	pipes   [2]*outPipe     // stdout and stderr
	tty     *ttyRun         // a tty unit's PTY and its reader (nil: pipes)
	hup     Timer           // a stopping tty run's pending hang-up (see hangUp)
	hungUp  bool            // the tty run's session was sent SIGHUP
}

func (r *procRun) pid() int { return r.mainPID }

func (r *procRun) signal(sig syscall.Signal) error {
	if err := syscall.Kill(-r.pgid, sig); err != nil {
		return fmt.Errorf("pgid %d: %w", r.pgid, err)
	}
	return nil
}

func (r *procRun) stop(sig syscall.Signal) {
	_ = syscall.Kill(-r.pgid, sig)
	// In a cgroup, what left the group (setsid) hears it too, as under
	// systemd; the group's members heard it already, once.
	signalCgroup(r.cgroup, sig, r.pgid)
	if sig != syscall.SIGKILL {
		_ = syscall.Kill(-r.pgid, syscall.SIGCONT)
		signalCgroup(r.cgroup, syscall.SIGCONT, r.pgid)
	}
	// A tty run's session hears SIGHUP later (hangUp): sent now, it would
	// cut short a graceful shutdown on the stop signal.
}

// hangUp sends SIGHUP, then SIGCONT, to every process of a tty run's
// session, once, as a terminal's hang-up does: an interactive shell ignores
// SIGTERM, and jobs may sit in other process groups. Owner goroutine only.
func (r *procRun) hangUp() bool {
	if r.tty == nil || r.hungUp {
		return false
	}
	r.hungUp = true
	if r.hup != nil {
		r.hup.Stop()
		r.hup = nil
	}
	signalSession(r.pgid, syscall.SIGHUP, syscall.SIGCONT) // one scan of /proc
	return true
}

func (r *procRun) kill() error {
	_ = syscall.Kill(-r.pgid, syscall.SIGKILL)
	if r.tty != nil {
		killSession(r.pgid) // its session is its pid, as its group is
	}
	return nil
}

func (r *procRun) sweep(s *Supervisor) { s.sweeper.add(r.tag, r.cgroup) }

func (r *procRun) gone() bool {
	if !groupGone(r.pgid) {
		return false
	}
	if r.cgroup != "" {
		// The cgroup holds the whole session too (setsid does not leave
		// it): no scan of /proc.
		return cgroupEmpty(r.cgroup)
	}
	return r.tty == nil || sessionGone(r.pgid)
}

func (r *procRun) release(s *Supervisor) {
	// No signal to the group here beyond what the caller sent: an empty
	// group's number is free for reuse, so more could hit a stranger.
	if r.cw != nil {
		r.cw.Detach() // a connection in flight to it goes to the next
		close(r.ended)
		r.cw = nil
	}
	s.untrackGroup(r.pgid)
	s.sweeper.add(r.tag, r.cgroup)
	// The group is gone (or killed): read what it wrote last, then let go
	// of its pipes, before a restart gives the unit new ones.
	s.readers.release(s.pipeGrace, r.pipes[:]...)
	r.pipes = [2]*outPipe{}
	if r.tty != nil {
		r.tty.release(s.pipeGrace)
	}
	if r.hup != nil {
		r.hup.Stop()
		r.hup = nil
	}
}

func (r *procRun) probe() probe { return probe{pid: r.mainPID} }

func (r *procRun) send(msg []byte) error {
	if r.conn == nil {
		return ErrNoChannel
	}
	return r.conn.SendRaw(msg)
}

func (r *procRun) cleanupNote() string {
	what := "process group"
	if r.tty != nil {
		what = "session (pid " + strconv.Itoa(r.pgid) + "), process group"
	}
	if r.cgroup != "" {
		return cleanLine("cgroup " + r.cgroup + ", " + what + " and tag")
	}
	if r.tty != nil {
		return what + " and tag"
	}
	return ""
}

// startProcess is KindProcess's and KindFork's start.
func startProcess(s *Supervisor, u *unit) (run, error) {
	r, err := s.spawn(u)
	if err != nil {
		return nil, err
	}
	s.trackGroup(r.pgid, r.tty != nil)
	s.byPID[r.mainPID] = u.spec.Name
	return r, nil
}

// extraFiles returns the spec's extra descriptors, to be the child's fd 3,
// 4, ... in order.
func (sp *Spec) extraFiles() []*os.File { return sp.ExtraFiles }
