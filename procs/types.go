// Package procs is kelpie's supervisor: it starts units (child processes today,
// worker goroutines and cluster workers later), runs their lifecycle state
// machine and restart policy, captures their output into byte-capped rings,
// samples their CPU and memory, and publishes everything as an event stream.
//
// One goroutine owns all unit state; every other goroutine (pipe readers, the
// reaper, the sampler, API callers) talks to it through messages. Nothing here
// imports a UI library.
package procs

import (
	"encoding/json"
	"os"
	"syscall"
	"time"
)

// Kind says what sort of thing a unit is. The UI and `ps` show it; the
// supervisor uses it to pick how the unit is run.
type Kind string

// The kinds of unit.
const (
	// KindProcess is a plain child process (Node's spawn/exec).
	KindProcess Kind = "process"
	// KindFork is a child process with a two-way JSON message channel (Node's fork).
	KindFork Kind = "fork"
	// KindWorker is an in-process worker goroutine.
	KindWorker Kind = "worker"
	// KindCluster is a group row: N worker processes behind one listening socket.
	KindCluster Kind = "cluster"
)

// State is where a unit is in its lifecycle.
type State string

// The lifecycle states. A unit moves starting -> running -> (exited | crashed |
// backoff -> starting ...); stopping -> stopped when the user stops it (stopping
// lasts until its whole process group has ended); running <-> paused while its
// main process is stopped by a signal. A worker goroutine that does not return
// within its stop timeout after its context was cancelled is stuck (it cannot
// be killed) until it returns.
const (
	Starting State = "starting" // being started
	Running  State = "running"  // its process is alive
	Stopping State = "stopping" // stop signal sent, waiting for it to exit
	Stopped  State = "stopped"  // stopped on request (or never started)
	Exited   State = "exited"   // ended with status 0 and will not be restarted
	Crashed  State = "crashed"  // ended abnormally and will not be restarted (see Reason)
	Backoff  State = "backoff"  // ended; waiting before the next restart
	Paused   State = "paused"   // its process is alive but stopped (SIGSTOP, SIGTSTP)
	Stuck    State = "stuck"    // a worker asked to stop has not returned within its stop timeout
	// Waiting: asked to start, but its depends_on conditions do not all hold
	// yet (Reason says which); it has no process and starts once they do.
	Waiting State = "waiting"
)

// Live reports whether the unit has (or is about to have) a process or a goroutine.
func (s State) Live() bool {
	return s == Starting || s == Running || s == Paused || s == Stopping || s == Stuck
}

// RestartPolicy decides whether a unit that ended is started again.
type RestartPolicy string

// The restart policies.
const (
	RestartNever     RestartPolicy = "never"
	RestartOnFailure RestartPolicy = "on-failure"
	RestartAlways    RestartPolicy = "always"
)

// Defaults used where a Spec leaves a field zero.
const (
	DefaultStopTimeout    = 5 * time.Second
	DefaultLogBuffer      = 1 << 20 // bytes of output kept per unit
	DefaultMinUptime      = time.Second
	DefaultMaxRestarts    = 10
	DefaultBackoffInitial = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultMaxLine        = 16 << 10 // longer lines are split, each piece marked
)

// Spec describes one unit: what to run and how to look after it.
type Spec struct {
	Name string
	Kind Kind
	// Argv is exec'd directly. Exactly one of Argv and Shell is set.
	Argv []string
	// Shell runs under /bin/sh -c.
	Shell string
	// Dir is the working directory (absolute; empty means kelpie's own).
	Dir string
	// Env holds extra KEY=VALUE pairs added to kelpie's environment.
	Env []string
	// Restart is the restart policy (default on-failure).
	Restart RestartPolicy
	// StopSignal is sent to the process group to stop the unit (default SIGTERM).
	StopSignal syscall.Signal
	// StopTimeout is how long to wait after StopSignal before SIGKILL to the group.
	StopTimeout time.Duration
	// LogBuffer caps the bytes of output kept in memory for this unit.
	LogBuffer int
	// MinUptime: a run at least this long counts as healthy and resets backoff.
	MinUptime time.Duration
	// MaxRestarts: this many quick failures in a row park the unit as crashed
	// (a crash loop). Negative means never park.
	MaxRestarts int
	// BackoffInitial and BackoffMax shape the exponential restart delay.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// IPC gives the child a Node-compatible message channel (NODE_CHANNEL_FD).
	IPC bool
	// IPCMaxLine is the longest message line accepted from the child
	// (default 16 MiB); longer ones are reported and skipped.
	IPCMaxLine int
	// Disabled units are registered but not started until asked.
	Disabled bool
	// ExtraFiles are given to the child as fd 3, 4, ... in order (a
	// cluster worker's listener, say); an IPC channel comes after them.
	// The supervisor does not close them.
	ExtraFiles []*os.File
	// ListenFDNames, when set, says the ExtraFiles are listening sockets
	// handed over by systemd's socket-activation convention: the child gets
	// LISTEN_FDS (their count), LISTEN_FDNAMES (these names, ':'-joined) and
	// LISTEN_PID, its own pid. Go cannot set a variable between fork and
	// exec, so the child is started by `/bin/sh -c 'LISTEN_PID=$$ ... exec'`,
	// which keeps its pid (with Shell, the variable is exported before the
	// command, exec'd when it is one plain command; a compound one should
	// start the server with `exec` for it to be that pid).
	ListenFDNames []string
	// TTY runs the unit on a pseudo-terminal (80x24 until a pane sizes it,
	// TERM=xterm-256color) as the leader of a new session, its output fed
	// to a terminal emulator kept with the unit (see vterm and Terminals);
	// lines scrolling off its screen become its log lines. Processes only.
	TTY bool

	// Task is a worker's function (KindWorker): it runs on a goroutine of
	// its own, locked to an OS thread, until it returns or its context is
	// cancelled by a stop.
	Task WorkerFunc
	// TaskName names the task for display (the command column), e.g.
	// "primes" or "go func".
	TaskName string
	// Group is the group row the unit sits under; a member of a group is
	// named GROUP/INDEX. Members of one group share its counters.
	Group string
	// Shared names the group's counters shown from the start (at 0); a
	// worker may add to others too.
	Shared []string
	// DependsOn lists the units (or groups, by their group name) this unit
	// needs, and in what condition, before it starts (see deps.go).
	DependsOn []Dependency
	// AwaitReady says the unit signals its readiness (a probe, a message):
	// a `ready` dependency on it waits for Info.Ready. A unit without any
	// readiness signal is ready once running. Cluster members always
	// signal it.
	AwaitReady bool

	// MaxMemory, if set, is the most memory (bytes, the unit's process
	// tree) a run may hold: above it for memLimitSamples samples in a row,
	// the unit is restarted gracefully (see memlimit.go).
	MaxMemory uint64
	// Schedule, if set, starts the unit at the times it gives (a one-shot
	// unit: it is not restarted when a run ends, nor started by StartAll).
	Schedule Schedule
	// ScheduleText is the schedule as written, for display.
	ScheduleText string
	// Watch, if set, restarts the unit gracefully when files change.
	Watch *Watch

	// Ready is the readiness probe (nil: none; a unit may still say it is
	// ready on its channel). It runs until the run is ready, then stops.
	Ready *Probe
	// Liveness is the liveness probe (nil: none): after its failure
	// threshold the run is stopped and its restart policy applies.
	Liveness *Probe
	// Watchdog, if set, gives the unit a NOTIFY_SOCKET and WATCHDOG_USEC: a
	// run that sends no WATCHDOG=1 for this long is unhealthy (restarted).
	Watchdog time.Duration
}

// Command renders the spec's command for display, on one line and Clean (a
// config can come with a cloned repository: its text is outside text too).
func (s *Spec) Command() string {
	if s.Kind == KindWorker {
		if s.TaskName != "" {
			return "worker: " + cleanLine(s.TaskName)
		}
		return "worker"
	}
	if s.Shell != "" {
		return cleanLine(s.Shell)
	}
	return quoteArgv(s.Argv)
}

// WithDefaults returns s with its zero fields filled in as the supervisor
// runs it (a scheduled process restarts never, for one), so that an export
// writes what kelpie would do rather than a second copy of its defaults.
func (s Spec) WithDefaults() Spec { return s.withDefaults() }

// withDefaults returns s with zero fields filled in.
func (s Spec) withDefaults() Spec {
	if s.Kind == "" {
		s.Kind = KindProcess
		if s.Task != nil {
			s.Kind = KindWorker
		} else if s.IPC {
			s.Kind = KindFork
		}
	}
	if s.Kind == KindWorker {
		s.IPC = true // a worker always has its (in-memory) channel
	}
	if s.Restart == "" {
		s.Restart = RestartOnFailure
		if s.Schedule != nil {
			s.Restart = RestartNever // a scheduled run's next chance is its next time
		}
	}
	if s.StopSignal == 0 {
		s.StopSignal = syscall.SIGTERM
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	if s.LogBuffer <= 0 {
		s.LogBuffer = DefaultLogBuffer
	}
	if s.MinUptime <= 0 {
		s.MinUptime = DefaultMinUptime
	}
	if s.MaxRestarts == 0 {
		s.MaxRestarts = DefaultMaxRestarts
	}
	if s.BackoffInitial <= 0 {
		s.BackoffInitial = DefaultBackoffInitial
	}
	if s.BackoffMax <= 0 {
		s.BackoffMax = DefaultBackoffMax
	}
	if s.BackoffMax < s.BackoffInitial {
		s.BackoffMax = s.BackoffInitial
	}
	return s
}

// Info is a snapshot of one unit, as shown by the UI and `kelpie ps --json`.
type Info struct {
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	Group   string `json:"group,omitempty"` // the group row this unit sits under, if any
	State   State  `json:"state"`
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Dir     string `json:"cwd,omitempty"`
	// CPU is percent of one core over the last sample, the unit's process tree included.
	CPU float64 `json:"cpu"`
	// RSS is resident memory in bytes, the unit's process tree included.
	RSS uint64 `json:"rss"`
	// Procs counts the processes in the unit's tree at the last sample.
	Procs    int  `json:"procs"`
	Restarts int  `json:"restarts"`
	ExitCode *int `json:"exit_code"`
	// Signal names the signal that ended the last run, if one did.
	Signal string `json:"signal,omitempty"`
	// Reason explains a crashed or backoff state in words.
	Reason    string    `json:"reason,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	ExitedAt  time.Time `json:"exited_at,omitzero"`
	// NextStart is when a unit in backoff will be started again.
	NextStart time.Time     `json:"next_start,omitzero"`
	Restart   RestartPolicy `json:"restart"`
	// LastSeq is the sequence number of the unit's newest output line.
	LastSeq uint64 `json:"last_seq"`
	// ID tells apart the units that had this name one after another (a
	// name removed and added again): a follower reads a removed unit's
	// last lines by it (SinceID), never a new unit's of that name.
	ID uint64 `json:"id,omitempty"`
	// Channel says whether the unit has a message channel, and its state.
	Channel string `json:"channel,omitempty"`
	// Ready says the run is ready: a cluster member listening (or accepting
	// on its inherited socket), a unit that sent {"ready":true}, or one
	// whose readiness probe passed (see Spec.Ready). A new run starts unready.
	Ready bool `json:"ready"`
	// Status is the unit's own word on how it is (sd_notify STATUS=),
	// cleaned and capped.
	Status string `json:"status,omitempty"`
	// NotifyIgnored counts sd_notify datagrams dropped as malformed,
	// oversized or from outside the unit.
	NotifyIgnored int `json:"notify_ignored,omitempty"`
	// Listen is a cluster member's address, as bound (the real port).
	Listen string `json:"listen,omitempty"`
	// TTY says the unit runs on a pseudo-terminal (Spec.TTY): its screen
	// is read through Terminals.
	TTY bool `json:"tty,omitempty"`
	// Title is the last window title a tty unit's child set, cleaned
	// (shown beside the unit, never sent to the real terminal).
	Title string `json:"title,omitempty"`
	// Served counts the connections kelpie handed the member's current run
	// and it took (round-robin and node's rr mode; 0 where the kernel
	// balances).
	Served uint64 `json:"served,omitempty"`
	// TID is a running worker's OS thread (its CPU is that thread's).
	TID int `json:"tid,omitempty"`
	// Counters are the live values of the unit's group's shared counters.
	Counters map[string]int64 `json:"counters,omitempty"`
	// NextRun is when a scheduled unit's next run is due.
	NextRun time.Time `json:"next_run,omitzero"`
	// Schedule is a scheduled unit's schedule as written.
	Schedule string `json:"schedule,omitempty"`
	// Threads lists the unit's main process's threads, when asked for
	// (ps --threads): read on demand, never by the sampler.
	Threads []ThreadInfo `json:"threads,omitempty"`
}

// ThreadInfo is one OS thread of a unit's process.
type ThreadInfo struct {
	TID   int     `json:"tid"`
	Name  string  `json:"name"`  // the thread's comm, Clean
	State string  `json:"state"` // the kernel's state letter: R, S, D, T, Z, ...
	CPU   float64 `json:"cpu"`   // percent of one core over the measuring interval
}

// GroupStats is one group's aggregate at a sample.
type GroupStats struct {
	CPU      float64          `json:"cpu"`              // the members' CPU summed
	RSS      uint64           `json:"rss,omitempty"`    // the members' memory summed (their process trees)
	Members  int              `json:"members"`          // members registered
	Live     int              `json:"live"`             // members with a live run
	Restarts int              `json:"restarts"`         // the members' restarts summed
	Served   uint64           `json:"served,omitempty"` // connections handed to the members' current runs
	Counters map[string]int64 `json:"counters,omitempty"`
}

// Channel states shown in Info.Channel.
const (
	ChannelConnected    = "connected"
	ChannelDisconnected = "disconnected"
)

// Uptime is how long the current run has lasted (or the last run lasted),
// measured at now.
func (i *Info) Uptime(now time.Time) time.Duration {
	if i.StartedAt.IsZero() {
		return 0
	}
	if i.State.Live() {
		return now.Sub(i.StartedAt)
	}
	if !i.ExitedAt.IsZero() && i.ExitedAt.After(i.StartedAt) {
		return i.ExitedAt.Sub(i.StartedAt)
	}
	return 0
}

// Stream says where an output line came from.
type Stream uint8

// The streams of a unit's log.
const (
	Stdout Stream = iota
	Stderr
	IPCIn  // a message the unit sent to kelpie
	IPCOut // a message kelpie sent to the unit
	Event  // something the supervisor did or saw (started, exited, ...)
)

var streamNames = [...]string{"stdout", "stderr", "ipc-in", "ipc-out", "event"}

// String returns the stream's wire name (stdout, stderr, ipc-in, ipc-out, event).
func (s Stream) String() string {
	if int(s) < len(streamNames) {
		return streamNames[s]
	}
	return "unknown"
}

// ParseStream is the inverse of String.
func ParseStream(name string) (Stream, bool) {
	for i, n := range streamNames {
		if n == name {
			return Stream(i), true
		}
	}
	return 0, false
}

// MarshalJSON writes the stream's name.
func (s Stream) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a stream's name.
func (s *Stream) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	st, ok := ParseStream(name)
	if !ok {
		return &json.UnsupportedValueError{Str: name}
	}
	*s = st
	return nil
}

// Line is one line of a unit's output, already sanitised: it holds no control
// sequences other than SGR colour codes and no carriage returns.
type Line struct {
	// Unit names the line's unit where a reply covers several units.
	Unit   string    `json:"unit,omitempty"`
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"ts"`
	Stream Stream    `json:"stream"`
	Text   string    `json:"text"`
	// Truncated marks a line that is not all there was: a line split for
	// length (the next line continues it, and Text ends with CutMarker), or
	// a message's note in the log cut short (the message store has more).
	Truncated bool `json:"truncated,omitempty"`
}

// UnitStats is one unit's resource use at a sample.
type UnitStats struct {
	CPU   float64 `json:"cpu"`
	RSS   uint64  `json:"rss"`
	Procs int     `json:"procs"`
	// Tree lists the unit's processes, its main process first, then
	// depth-first; processes of its group that were reparented follow at depth 1.
	Tree []ProcSample `json:"tree,omitempty"`
}

// ProcSample is one process of a unit's tree at a sample.
type ProcSample struct {
	PID   int     `json:"pid"`
	PPID  int     `json:"ppid"`
	Name  string  `json:"name"` // the kernel's command name (comm)
	Depth int     `json:"depth"`
	CPU   float64 `json:"cpu"`
	RSS   uint64  `json:"rss"`
}

// ExitRecord is one ended run of a unit.
type ExitRecord struct {
	StartedAt time.Time `json:"started_at"`
	ExitedAt  time.Time `json:"exited_at"`
	ExitCode  *int      `json:"exit_code"`
	Signal    string    `json:"signal,omitempty"`
}

// Details is what the Stats view shows of one unit beyond its Info.
type Details struct {
	Info      Info         `json:"info"`
	Argv      []string     `json:"argv"`
	PPID      int          `json:"ppid"`
	Threads   int          `json:"threads"`
	OpenFiles int          `json:"open_files"`
	StartTime time.Time    `json:"start_time,omitzero"`
	Cwd       string       `json:"cwd"`
	Exits     []ExitRecord `json:"exits"` // oldest first, the last few
	// Cleanup says how kelpie finds everything the unit's run started: the
	// run's cgroup, or its process group and TagVar tag.
	Cleanup string `json:"cleanup"`
	// ThreadList lists the main process's OS threads (a worker: its own
	// thread), CPU measured since the previous Details call for the unit
	// (0 on the first).
	ThreadList []ThreadInfo `json:"thread_list,omitempty"`
}

// Stats is one sampler tick: every unit's use plus kelpie's own.
type Stats struct {
	Time  time.Time            `json:"time"`
	Units map[string]UnitStats `json:"units"`
	Self  UnitStats            `json:"self"`
	// MemTotal is the machine's memory in bytes, for percentages.
	MemTotal uint64 `json:"mem_total"`
	// Groups holds every group's aggregate (CPU, restarts, shared counters).
	Groups map[string]GroupStats `json:"groups,omitempty"`
}

// Batch is what a subscriber receives: everything that happened since its
// last batch, coalesced. State changes are never dropped; stats are the
// latest tick only; logs are announced as the newest sequence number per
// unit, and the subscriber reads the lines it wants from the unit's ring.
type Batch struct {
	// States holds the new snapshot of every unit whose state changed, in order.
	States []Info
	// Removed names units that are gone.
	Removed []string
	// Stats is the newest sampler tick, if one came.
	Stats *Stats
	// Logs maps a unit name to its newest line's sequence number.
	Logs map[string]uint64
}

// retiredRing hands a removed unit's ring along with its removal, beside
// the batch that names it (in-process subscribers only: Subscription.took):
// a Cursor reads the lines it has not read yet from it, whatever the engine
// did with the name since.
type retiredRing struct {
	name string
	// r is the removed unit's ring; nil once the subscriber held too many
	// (it was not reading): the unread lines are then missed.
	r *ring
	// last is the newest line announced in the batch before the removal
	// (the announcement goes with the ring: later ones are a new unit's).
	last uint64
	// at is len(States) at the removal: states before it are the removed
	// unit's, states after it a new unit's of the same name.
	at int
}

// Empty reports whether the batch carries nothing.
func (b *Batch) Empty() bool {
	return len(b.States) == 0 && len(b.Removed) == 0 && b.Stats == nil && len(b.Logs) == 0
}
