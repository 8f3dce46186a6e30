package procs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/cluster"
)

// ClusterMode says how a cluster's members share its listening socket.
type ClusterMode string

// The cluster modes.
const (
	// ModeFDs hands every member the listening socket itself, by systemd's
	// socket-activation convention (fd 3, LISTEN_FDS, LISTEN_PID,
	// LISTEN_FDNAMES): the kernel balances the accepts.
	ModeFDs ClusterMode = "fds"
	// ModeRoundRobin: kelpie accepts and hands each connection to the next
	// free member over its channel, as a passed descriptor.
	ModeRoundRobin ClusterMode = "round-robin"
	// ModeNode: kelpie is the cluster primary of an unmodified Node cluster
	// program (Node's internal NODE_CLUSTER messages).
	ModeNode ClusterMode = "node"
)

// ClusterModes lists the modes, for messages.
func ClusterModes() []string {
	return []string{string(ModeFDs), string(ModeRoundRobin), string(ModeNode)}
}

// WorkerIDVar is the environment variable giving each cluster member its
// index (0 .. N-1 at the start).
const WorkerIDVar = "KELPIE_WORKER_ID"

// MaxInstances bounds a cluster's size: a typo's extra zeros must not fork
// a thousand servers.
const MaxInstances = 1024

// Cluster describes N members of one command sharing one listening socket.
type Cluster struct {
	// Spec is every member's: Name is the cluster's (its members are
	// NAME/0 .. NAME/N-1), and the command, env, restart policy, ipc and
	// timeouts are each member's.
	Spec Spec
	// Listen is the address bound once, host:port (port 0: a free one).
	Listen string
	// Mode is how the members share it (default fds).
	Mode ClusterMode
	// Instances is the number of members; 0 means one per CPU.
	Instances int
	// Policy is Node's scheduling policy in node mode: "rr" (kelpie
	// accepts and hands connections out; the default) or "none" (every
	// worker accepts on the socket itself).
	Policy string
}

// Count is the number of members the cluster starts with.
func (c *Cluster) Count() int {
	if c.Instances <= 0 {
		return runtime.NumCPU()
	}
	return c.Instances
}

// ListenCluster binds a cluster's address: done once, before anything
// starts, so that a port in use is one clear error naming the address.
func ListenCluster(c *Cluster) (*net.TCPListener, error) {
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		var oe *net.OpError
		reason := err
		if errors.As(err, &oe) && oe.Err != nil {
			reason = oe.Err
		}
		return nil, fmt.Errorf("cluster %q: cannot listen on %s: %v", c.Spec.Name, c.Listen, reason)
	}
	return ln.(*net.TCPListener), nil
}

// memberSpec is member i of cluster c, given the socket's file f.
func memberSpec(c *Cluster, f *os.File, i int) Spec {
	m := c.Spec
	m.Name, m.Group = MemberName(c.Spec.Name, i), c.Spec.Name
	m.Env = append(append([]string(nil), c.Spec.Env...), WorkerIDVar+"="+strconv.Itoa(i))
	switch c.Mode {
	case ModeFDs, "":
		m.ExtraFiles = []*os.File{f}
		m.ListenFDNames = []string{c.Spec.Name}
	default:
		m.IPC = true // connections and Node's protocol come on the channel
	}
	if m.IPC {
		m.Kind = KindFork
	} else {
		m.Kind = KindProcess
	}
	return m
}

// clusterState is a registered cluster. Owner goroutine only.
type clusterState struct {
	def  Cluster
	ln   *net.TCPListener
	file *os.File // the socket, as the members' fd 3 (fds mode)
	ino  uint64   // the socket's inode, to see a member wait on it
	addr string   // the address as bound (the real port)
	// disp hands connections out (round-robin, node); nil in fds mode.
	disp   cluster.Dispatcher
	nextID int // the last run id given to the dispatcher
}

// errEndedFirst and errRemoved end a wait for a run to be ready.
var (
	errEndedFirst = errors.New("it ended before it was ready")
	errRemoved    = errors.New("it was removed")
)

// ReadyTimeout bounds a rolling reload's wait for a new member to be ready.
const ReadyTimeout = 60 * time.Second

// AddCluster registers a cluster on ln, bound beforehand (ListenCluster),
// and its members NAME/0 .. NAME/N-1 (not started: StartAll does that). The
// supervisor owns ln from now on and closes it at Shutdown.
func (s *Supervisor) AddCluster(c Cluster, ln *net.TCPListener) error {
	name := c.Spec.Name
	if name == "" {
		return errors.New("add cluster: empty name")
	}
	if c.Spec.TTY {
		return fmt.Errorf("add cluster %q: a cluster's members serve connections, not a terminal (tty is for single processes)", name)
	}
	if c.Mode == "" {
		c.Mode = ModeFDs
	}
	switch c.Mode {
	case ModeFDs, ModeRoundRobin:
	case ModeNode:
		if c.Policy == "" {
			c.Policy = cluster.PolicyRR
		}
		if c.Policy != cluster.PolicyRR && c.Policy != cluster.PolicyNone {
			return fmt.Errorf("add cluster %q: Node scheduling policy %q (want rr or none)", name, c.Policy)
		}
		if err := checkNode(&c.Spec); err != nil {
			return fmt.Errorf("add cluster %q: %w", name, err)
		}
	default:
		return fmt.Errorf("add cluster %q: unknown mode %q (want %v)", name, c.Mode, ClusterModes())
	}
	if n := c.Count(); n < 1 || n > MaxInstances {
		return fmt.Errorf("add cluster %q: %d instances (1 to %d)", name, n, MaxInstances)
	}
	cs := &clusterState{def: c, ln: ln, addr: ln.Addr().String()}
	c.Spec.Group = ""
	if err := checkGroupName(&c.Spec); err != nil {
		return fmt.Errorf("add cluster %q: %w", name, err)
	}
	if c.Mode == ModeFDs {
		f, err := ln.File()
		if err != nil {
			return fmt.Errorf("add cluster %q: the socket's descriptor: %w", name, err)
		}
		// Fd puts the socket in blocking mode, as systemd hands it over:
		// a server that accepts without polling first would otherwise get
		// EAGAIN. kelpie itself never accepts on it in this mode.
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			return fmt.Errorf("add cluster %q: fstat the socket: %w", name, err)
		}
		cs.file, cs.ino = f, st.Ino
	}
	switch c.Mode {
	case ModeRoundRobin:
		rr, err := cluster.NewRoundRobin(ln)
		if err != nil {
			return fmt.Errorf("add cluster %q: %w", name, err)
		}
		cs.disp = rr
	case ModeNode:
		np, err := cluster.NewNodePrimary(ln, c.Policy)
		if err != nil {
			return fmt.Errorf("add cluster %q: %w", name, err)
		}
		cs.disp = np
	}
	var err error
	cerr := s.call(func() {
		if s.units[name] != nil || s.members[name] > 0 || s.clusters[name] != nil {
			err = fmt.Errorf("add cluster %q: %w", name, ErrExists)
			return
		}
		s.clusters[name] = cs
		var added []*unit
		for i := range c.Count() {
			u, aerr := s.addMember(cs, i)
			if aerr != nil {
				// All or nothing: a retry must not meet half a cluster.
				for _, u := range added {
					s.removeUnit(u)
				}
				delete(s.clusters, name)
				err = aerr
				return
			}
			added = append(added, u)
		}
	})
	if err = errors.Join(cerr, err); err != nil {
		if cs.file != nil {
			cs.file.Close()
		}
		if cs.disp != nil {
			_ = cs.disp.Close()
		}
	}
	return err
}

// addMember registers member i of a cluster. Owner goroutine only.
func (s *Supervisor) addMember(cs *clusterState, i int) (*unit, error) {
	sp := memberSpec(&cs.def, cs.file, i).withDefaults()
	if err := checkSpec(&sp); err != nil {
		return nil, err
	}
	return s.addUnit(sp)
}

// Addr is the address a cluster listens on, as bound ("" if none is named so).
func (s *Supervisor) Addr(cluster string) string {
	var out string
	_ = s.call(func() {
		if cs := s.clusters[cluster]; cs != nil {
			out = cs.addr
		}
	})
	return out
}

// closeClusters lets go of the clusters' sockets. Owner goroutine only,
// once no member runs.
func (s *Supervisor) closeClusters() {
	for _, cs := range s.clusters {
		if cs.disp != nil {
			_ = cs.disp.Close()
		}
		if cs.file != nil {
			cs.file.Close()
		}
		cs.ln.Close()
	}
}

// notifyReady ends every wait for the unit's run to be ready.
func (u *unit) notifyReady(err error) {
	for _, c := range u.readyWait {
		c <- err // buffered: never blocks
	}
	u.readyWait = nil
}

// setReady marks the unit's run ready. Owner goroutine only.
func (s *Supervisor) setReady(u *unit, how string) {
	if u.info.Ready || !u.alive() || u.stopping {
		return
	}
	if u.probe != nil {
		u.probe.Stop()
		u.probe = nil
	}
	u.info.Ready = true
	s.event(u, "ready (%s)", how)
	u.notifyReady(nil)
	s.publish(u)
}

// watchReady starts watching a new run of a cluster member for readiness:
// in fds mode, a process of the run waiting on the inherited socket. Owner
// goroutine only.
func (s *Supervisor) watchReady(u *unit) {
	cs := s.clusters[u.spec.Group]
	if cs == nil || u.spec.Group == "" || cs.ino == 0 {
		return
	}
	s.probeReady(u, cs, time.Millisecond)
}

// probeReady checks after d whether the run waits on the socket, backing
// off to 50 ms. It uses the wall clock: it observes the kernel, deciding
// nothing. The check (fds, links, epoll and syscall state of the process
// tree in /proc) runs in the timer's goroutine; only its answer is posted,
// and the owner goroutine decides whether it still concerns the current run.
func (s *Supervisor) probeReady(u *unit, cs *clusterState, d time.Duration) {
	if u.probe != nil {
		u.probe.Stop()
		u.probe = nil
	}
	r := u.run
	if r == nil {
		return
	}
	pid, ino := r.pid(), cs.ino
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		ok := waitsOn(pid, ino)
		s.post(func() {
			// u.probe = t ran on the owner goroutine before any posted
			// function can; a check scheduled since makes this one stale.
			if u.probe != t || u.run != r || u.info.Ready || !u.alive() {
				return
			}
			if ok {
				s.setReady(u, "accepting on "+cs.addr)
				return
			}
			s.probeReady(u, cs, min(2*d, 50*time.Millisecond))
		})
	})
	u.probe = t
}

// waitForReady returns a channel that hears when the named unit's current
// run is ready (nil), or why it will not be. Owner goroutine only.
func (s *Supervisor) waitForReady(u *unit) chan error {
	c := make(chan error, 1)
	switch {
	case u.info.Ready:
		c <- nil
	case !u.info.State.Live() && u.info.State != Waiting: // a waiting one may yet be
		c <- fmt.Errorf("%s is %s", u.spec.Name, u.info.State)
	default:
		u.readyWait = append(u.readyWait, c)
	}
	return c
}

// watchDispatchReady marks the run ready when its dispatcher says so
// (Node's 'listening', a first acknowledged connection, {"ready":true}).
// Owner goroutine only; the wait ends with the run's channel.
func (s *Supervisor) watchDispatchReady(name string, r *procRun, cs *clusterState) {
	cw, ended := r.cw, make(chan struct{})
	r.ended = ended
	s.pumps.Add(1)
	go func() {
		defer s.pumps.Done()
		select {
		case <-cw.Ready():
		case <-ended:
			return
		}
		s.post(func() {
			if u := s.units[name]; u != nil && u.run == run(r) {
				s.setReady(u, "listening on "+cs.addr)
			}
		})
	}()
}

// checkNode refuses a Node whose internal cluster protocol kelpie has not
// been checked against: the protocol is undocumented, and a mismatch would
// hang every worker's listen(). The program run is the spec's first word
// when it names node, else node in PATH.
func checkNode(sp *Spec) error {
	bin := "node"
	if len(sp.Argv) > 0 && strings.HasPrefix(filepath.Base(sp.Argv[0]), "node") {
		bin = sp.Argv[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cluster.CheckNodeVersion(ctx, bin); err != nil {
		return fmt.Errorf("node mode: %w", err)
	}
	return nil
}
