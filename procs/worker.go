package procs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/ipc"
)

// WorkerFunc is a worker's body. It runs on a goroutine of its own, locked to
// an OS thread (so its CPU is that thread's), until it returns or ctx is
// cancelled by a stop. Returning nil (or ctx's error after a stop) is a clean
// exit; an error or a panic is a failure, and the restart policy applies.
type WorkerFunc func(ctx context.Context, w Worker) error

// Worker is what a worker function is given: its name, its message channel
// with kelpie (the same messages a forked child exchanges, in memory: what
// kelpie sends arrives in Inbox, what it sends is recorded as ipc-in), its
// output and its group's shared counters. A Worker is for its own goroutine;
// Add and Counter may be called from any goroutine.
type Worker interface {
	// Name is the unit's name: GROUP/INDEX for a group's member.
	Name() string
	// Group is the group's name ("" for a worker on its own).
	Group() string
	// Index is the member's index in its group (0 on its own).
	Index() int
	// Send sends v, encoded as JSON, to kelpie (the unit's ipc-in).
	Send(v any) error
	// SendRaw sends one JSON value as it is (it must be valid JSON).
	SendRaw(msg []byte) error
	// Inbox delivers the messages kelpie sends (kelpie send, the composer),
	// one JSON value each.
	Inbox() <-chan json.RawMessage
	// Recv waits for the next message, or ctx's end.
	Recv(ctx context.Context) (json.RawMessage, error)
	// Stdout and Stderr write into the unit's output (lines, sanitised like
	// a child's output).
	Stdout() io.Writer
	Stderr() io.Writer
	// Printf writes one line to the unit's output.
	Printf(format string, args ...any)
	// Add adds delta to the named shared counter of the worker's group
	// (created at 0 on first use) and returns its new value.
	Add(counter string, delta int64) int64
	// Counter returns the named shared counter's value.
	Counter(name string) int64
}

// WorkerInbox is how many messages a worker's inbox holds unread; a send to
// a full inbox is refused (the worker does not read), as a child's full
// channel queue is. 256 (6 KiB of channel each) keeps a thousand idle
// workers cheap; 1,024 was a quarter of their heap.
const WorkerInbox = 256

// workerRun is a worker goroutine's run.
type workerRun struct {
	name   string
	cancel context.CancelFunc
	tid    int
	done   atomic.Bool // the function returned
	inbox  chan json.RawMessage
	// The unit's message store and ring (a unit keeps them for life), so
	// that Send finds all it needs in one lookup.
	msgs *msgStore
	ring *ring
}

func (r *workerRun) pid() int { return 0 }

func (r *workerRun) signal(sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		return errUnkillable
	}
	return fmt.Errorf("a worker is a goroutine and takes no signals (%s): stop or restart it", SignalName(sig))
}

func (r *workerRun) stop(syscall.Signal) { r.cancel() }
func (r *workerRun) kill() error         { return errUnkillable }
func (r *workerRun) sweep(*Supervisor)   {}
func (r *workerRun) gone() bool          { return r.done.Load() }
func (r *workerRun) release(s *Supervisor) {
	r.cancel()
	// An abandoned worker (see killAll) still reads its inbox, maybe: no
	// message may go there as if it were the unit's.
	s.ringsMu.Lock()
	if s.inboxes[r.name] == r {
		delete(s.inboxes, r.name)
	}
	s.ringsMu.Unlock()
}
func (r *workerRun) probe() probe { return probe{tid: r.tid} }

func (r *workerRun) send(msg []byte) error {
	if r.done.Load() {
		return ErrNoChannel
	}
	select {
	case r.inbox <- json.RawMessage(bytes.Clone(msg)):
		return nil
	default:
		return fmt.Errorf("the worker's inbox is full (%d messages unread)", WorkerInbox)
	}
}

func (r *workerRun) cleanupNote() string {
	return "a goroutine in kelpie: stop cancels its context; it leaves no process behind"
}

// startWorker is KindWorker's start: the goroutine, on its own OS thread.
// It waits for the thread's id (microseconds), so the run is measurable from
// its first tick.
func startWorker(s *Supervisor, u *unit) (run, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &workerRun{name: u.spec.Name, cancel: cancel, inbox: make(chan json.RawMessage, WorkerInbox), msgs: u.msgs, ring: u.ring}
	sp := &u.spec
	group, index := sp.Group, 0
	if group != "" {
		index, _ = strconv.Atoi(strings.TrimPrefix(sp.Name, group+"/"))
	}
	w := &worker{
		s: s, name: sp.Name, group: group, index: index, ring: u.ring, msgs: u.msgs, run: r,
		counters: s.groupCounters(counterKey(sp)), cache: make(map[string]*atomic.Int64),
		born: time.Now(), lastRecv: -int64(recvHot), spin: runtime.GOMAXPROCS(0) > 1,
	}
	w.out = &outWriter{p: newPump(u.ring, Stdout, s.opts.MaxLine, w.notify), clock: s.clock}
	w.err = &outWriter{p: newPump(u.ring, Stderr, s.opts.MaxLine, w.notify), clock: s.clock}
	w.out.p.mayWait, w.err.p.mayWait = true, true
	fn := sp.Task
	tids := make(chan int, 1)
	// Said before the function runs, so its output follows it in the log.
	s.event(u, "started: goroutine")
	go func() {
		// Never unlocked: the thread ends with the worker, so its tid
		// (and its CPU counters) were only ever this worker's.
		runtime.LockOSThread()
		tids <- unix.Gettid()
		ex := w.call(ctx, fn)
		r.done.Store(true)
		w.out.flush()
		w.err.flush()
		at := s.clock.Now()
		s.post(func() {
			if u := s.units[w.name]; u != nil && u.run == r {
				u.info.Channel = ChannelDisconnected
				s.ringsMu.Lock()
				delete(s.inboxes, w.name)
				s.ringsMu.Unlock()
			}
			s.onExit(exitNote{at: at, name: w.name, run: r, exit: ex})
		})
	}()
	r.tid = <-tids
	s.ringsMu.Lock()
	s.inboxes[sp.Name] = r
	s.ringsMu.Unlock()
	u.info.TID = r.tid
	u.info.Channel = ChannelConnected
	return r, nil
}

// worker is the Worker a worker function gets.
type worker struct {
	s        *Supervisor
	name     string
	group    string
	index    int
	ring     *ring
	msgs     *msgStore
	run      *workerRun
	out, err *outWriter
	counters *counters
	cacheMu  sync.Mutex               // the worker's own: Add from its goroutines, Counter from the screen's
	cache    map[string]*atomic.Int64 // counters used, so the group's RWMutex is not shared per Add
	born     time.Time                // the base of nanotime
	lastRecv int64                    // nanotime of the last message Recv returned
	spin     bool                     // Recv may spin (more than one CPU)
}

// call runs fn, turning a panic into a failed exit with its stack in the
// worker's output.
func (w *worker) call(ctx context.Context, fn WorkerFunc) (ex Exit) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(w.err, "panic: %v\n\n%s", v, debug.Stack())
			ex = Exit{Panic: fmt.Sprint(v)}
		}
	}()
	err := fn(ctx, w)
	switch {
	case err == nil, errors.Is(err, context.Canceled) && ctx.Err() != nil:
		code := 0
		return Exit{Code: &code}
	}
	return Exit{Err: err.Error()}
}

func (w *worker) notify(last uint64) { w.s.broker.logs(w.name, last) }

func (w *worker) Name() string                  { return w.name }
func (w *worker) Group() string                 { return w.group }
func (w *worker) Index() int                    { return w.index }
func (w *worker) Inbox() <-chan json.RawMessage { return w.run.inbox }
func (w *worker) Stdout() io.Writer             { return w.out }
func (w *worker) Stderr() io.Writer             { return w.err }

func (w *worker) Printf(format string, args ...any) {
	line := fmt.Appendf(nil, format, args...)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		line = append(line, '\n')
	}
	_, _ = w.out.Write(line)
}

func (w *worker) Recv(ctx context.Context) (json.RawMessage, error) {
	select {
	case m := <-w.run.inbox:
		w.lastRecv = w.nanotime()
		return m, nil
	default:
	}
	// In a conversation (a message came less than recvHot ago), the next
	// one is likely microseconds away: wait for it spinning, briefly, on
	// this worker's own thread, rather than park the thread and pay two
	// futex wake-ups (tens of µs on a VM) when it comes. An idle worker
	// never spins.
	// With one CPU to run on, spinning only delays the sender.
	if now := w.nanotime(); now-w.lastRecv < int64(recvHot) && w.spin {
		for end := now + int64(recvSpin); w.nanotime() < end; {
			select {
			case m := <-w.run.inbox:
				w.lastRecv = w.nanotime()
				return m, nil
			default:
			}
			// Give the CPU to whatever else wants it (the sender, when
			// it shares this CPU): a spin must never delay its message.
			_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	select {
	case m := <-w.run.inbox:
		w.lastRecv = w.nanotime()
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Recv's spinning: how recent the last message must be, and how long it
// spins for the next.
const (
	recvHot  = time.Millisecond
	recvSpin = 50 * time.Microsecond
)

// nanotime is a monotonic clock reading in nanoseconds (since the worker's
// creation).
func (w *worker) nanotime() int64 { return int64(time.Since(w.born)) }

func (w *worker) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("send from worker %q: %w", w.name, err)
	}
	return w.record(b)
}

func (w *worker) SendRaw(msg []byte) error {
	// ipc's scanner is encoding/json's verdict (its tests hold it to
	// json.Valid) at a fraction of the cost, on the reply's critical path.
	// Node's own messages are refused only kelpie to a child: one from a
	// worker is valid JSON and recorded like any other.
	if err := ipc.CheckUser(msg); err != nil && !errors.Is(err, ipc.ErrReserved) {
		return fmt.Errorf("send from worker %q: not valid JSON", w.name)
	}
	msg, err := compactJSON(msg)
	if err != nil {
		return fmt.Errorf("send from worker %q: not valid JSON: %w", w.name, err)
	}
	return w.record(msg)
}

// record records a message from the worker (ipc-in). A reply usually comes
// while the sender still holds the store's lock, recording what it sent: a
// sync.Mutex would soon park this goroutine, and a goroutine locked to its
// thread that parks puts the thread to sleep, to be woken (a futex round,
// tens of µs on a VM) when the lock is free. So the worker first tries for
// the lock for a moment on its own thread, as Recv spins for a message.
func (w *worker) record(msg []byte) error {
	ms := w.msgs
	if !w.spin || !tryLockSpin(&ms.mu) {
		ms.mu.Lock()
	}
	logSeq := w.s.recordLocked(ms, w.ring, IPCIn, msg)
	ms.mu.Unlock()
	w.s.broker.logs(w.name, logSeq)
	return nil
}

// lockSpins bounds tryLockSpin: a sender's hold after the hand-over is
// about a µs; past this many yields the holder is busy elsewhere.
const lockSpins = 64

// tryLockSpin tries for mu a bounded number of times, yielding the CPU
// between tries (to the holder, when it shares this CPU).
func tryLockSpin(mu *sync.Mutex) bool {
	for range lockSpins {
		if mu.TryLock() {
			return true
		}
		_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
	return false
}

func (w *worker) counter(name string) *atomic.Int64 {
	w.cacheMu.Lock()
	defer w.cacheMu.Unlock()
	c := w.cache[name]
	if c == nil {
		c = w.counters.get(name)
		w.cache[name] = c
	}
	return c
}

func (w *worker) Add(name string, delta int64) int64 { return w.counter(name).Add(delta) }
func (w *worker) Counter(name string) int64          { return w.counter(name).Load() }

// outWriter is a worker's stdout or stderr: lines into its ring, through the
// same pump (and sanitiser) as a child's pipe.
type outWriter struct {
	mu    sync.Mutex
	p     *pump
	clock Clock
}

func (o *outWriter) Write(b []byte) (int, error) {
	o.mu.Lock()
	o.p.feed(b, o.clock.Now(), false)
	o.mu.Unlock()
	return len(b), nil
}

// flush stores an unfinished last line.
func (o *outWriter) flush() {
	o.mu.Lock()
	o.p.feed(nil, o.clock.Now(), true)
	o.mu.Unlock()
}

// counters are a group's shared counters: named int64s every member adds to
// atomically. The map is behind a lock; the values are atomics, and each
// worker keeps the counters it used in a cache under its own, uncontended
// lock (see worker.counter), so members adding at once share no lock word.
type counters struct {
	mu    sync.RWMutex
	m     map[string]*atomic.Int64
	order []string
}

func newCounters() *counters { return &counters{m: make(map[string]*atomic.Int64)} }

// get returns the named counter, created at 0 if new.
func (c *counters) get(name string) *atomic.Int64 {
	c.mu.RLock()
	v := c.m[name]
	c.mu.RUnlock()
	if v != nil {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v = c.m[name]; v == nil {
		v = new(atomic.Int64)
		c.m[name] = v
		c.order = append(c.order, name)
	}
	return v
}

// declare creates the named counters at 0 (a config's shared: list).
func (c *counters) declare(names []string) {
	for _, n := range names {
		c.get(n)
	}
}

// values is every counter's current value (nil: none).
func (c *counters) values() map[string]int64 {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v.Load()
	}
	return out
}

// counterKey is whose counters a unit uses: its group's, or a lone worker's own.
func counterKey(sp *Spec) string {
	if sp.Group != "" {
		return sp.Group
	}
	return sp.Name
}

// groupCounters returns the named group's counters, made if new. Owner
// goroutine only.
func (s *Supervisor) groupCounters(key string) *counters {
	c := s.counters[key]
	if c == nil {
		c = newCounters()
		s.counters[key] = c
	}
	return c
}

// checkGroupName checks a spec's name against its group: a member is named
// GROUP/INDEX, and '/' appears in no other name.
func checkGroupName(sp *Spec) error {
	if sp.Group == "" {
		if strings.Contains(sp.Name, "/") {
			return errors.New("'/' only appears in a group member's name (GROUP/INDEX)")
		}
		return nil
	}
	if strings.Contains(sp.Group, "/") {
		return fmt.Errorf("group name %q holds a '/'", sp.Group)
	}
	idx, ok := strings.CutPrefix(sp.Name, sp.Group+"/")
	if n, err := strconv.Atoi(idx); !ok || err != nil || n < 0 || strconv.Itoa(n) != idx {
		return fmt.Errorf("a member of group %q is named %s/INDEX", sp.Group, sp.Group)
	}
	return nil
}

// MemberName is the name of a group's member: GROUP/INDEX.
func MemberName(group string, index int) string { return group + "/" + strconv.Itoa(index) }

// AddGroup registers count units from spec, named spec.Name/0 ..
// spec.Name/(count-1), in the group spec.Name (they share its counters).
// Like Add, it does not start them.
func (s *Supervisor) AddGroup(spec Spec, count int) error {
	if count < 1 {
		return fmt.Errorf("add group %q: count %d (at least 1)", spec.Name, count)
	}
	group := spec.Name
	for i := range count {
		m := spec
		m.Name, m.Group = MemberName(group, i), group
		if err := s.Add(m); err != nil {
			return err
		}
	}
	return nil
}

// Go registers a group of n workers running fn, named group/0 ..
// group/(n-1); StartAll (or Start of each) runs them. Their counters are
// shared, their messages, output and lifecycle are each their own.
func (s *Supervisor) Go(group string, n int, fn WorkerFunc) error {
	return s.AddGroup(Spec{Name: group, Kind: KindWorker, Task: fn, TaskName: "go func"}, n)
}

// Members returns the names of the group's members in display order (nil:
// no such group).
func (s *Supervisor) Members(group string) []string {
	var out []string
	_ = s.call(func() {
		for _, name := range s.order {
			if s.units[name].spec.Group == group {
				out = append(out, name)
			}
		}
	})
	return out
}

// groupStats is every group's aggregate. Owner goroutine only.
func (s *Supervisor) groupStats() map[string]GroupStats {
	var out map[string]GroupStats
	for _, name := range s.order {
		u := s.units[name]
		g := u.spec.Group
		if g == "" {
			continue
		}
		if out == nil {
			out = make(map[string]GroupStats)
		}
		gs := out[g]
		gs.CPU += u.info.CPU
		gs.RSS += u.info.RSS
		gs.Members++
		gs.Restarts += u.info.Restarts
		if p, ok := u.run.(*procRun); ok && p.cw != nil {
			gs.Served += p.cw.Served()
		}
		if u.info.State.Live() {
			gs.Live++
		}
		if gs.Counters == nil {
			gs.Counters = s.counters[g].values()
		}
		out[g] = gs
	}
	return out
}
