package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/ipc"
)

const (
	// maxPending bounds connections accepted but not yet handed to a
	// worker; beyond it the accept loop waits and the kernel's backlog
	// holds them, so a cluster with no free worker does not grow memory.
	maxPending = 64
	// maxRefusals: a connection refused this many times is closed rather
	// than bounced between workers that all refuse it.
	maxRefusals = 8
	// acceptBackoff is the pause after an accept error such as EMFILE, so
	// the loop does not spin while descriptors are short.
	acceptBackoff = 10 * time.Millisecond
)

// pending is one accepted connection on its way to a worker.
type pending struct {
	fd       int
	refusals int
	seq      int  // node: the newconn's sequence number
	taken    bool // node: the worker acknowledged the descriptor
	orphaned bool // its worker was detached with it in flight (see orphan)
}

// orphan marks pc as left to its old handoff's callback, which closes it,
// and returns a new pending with a duplicate of its descriptor (nil when
// descriptors are short: the connection is then lost with its worker).
func (pc *pending) orphan() *pending {
	pc.orphaned = true
	fd, err := unix.FcntlInt(uintptr(pc.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	return &pending{fd: fd, refusals: pc.refusals}
}

// settleStale handles a callback for a connection no longer in flight to
// its worker: an orphan is closed now that its writer let go of it.
func (pc *pending) settleStale() {
	if pc.orphaned {
		pc.close()
	}
}

func (pc *pending) close() {
	if pc.fd >= 0 {
		syscall.Close(pc.fd)
		pc.fd = -1
	}
}

// assignment is a handoff decided under the lock and sent after it.
type assignment struct {
	w  *Worker
	pc *pending
	fd int // pc's descriptor, read under the lock
}

// balancer is Node's round-robin discipline, shared by kelpie's
// round-robin mode and the Node primary's rr policy: a FIFO of free
// workers, a FIFO of connections, at most one connection in flight per
// worker until it answers, a refused one goes to the front of the queue for
// the next worker.
type balancer struct {
	mode mode
	ln   *net.TCPListener

	mu       sync.Mutex
	space    *sync.Cond // signalled when pending shrinks or on close
	free     []*Worker
	queue    []*pending
	counts   map[int]uint64
	closed   bool
	loopEnd  chan struct{} // closed when the accept loop returned; nil without one
	accepter *os.File      // the loop's duplicate of the listener
}

func newBalancer(ln *net.TCPListener, m mode) *balancer {
	b := &balancer{mode: m, ln: ln, counts: make(map[int]uint64)}
	b.space = sync.NewCond(&b.mu)
	return b
}

// start runs the accept loop on a duplicate of the listener's descriptor:
// a listener's own SyscallConn cannot wait for readability, an *os.File's
// can, and closing the duplicate stops the loop without touching the
// caller's listener.
func (b *balancer) start() error {
	fd, err := dupListener(b.ln)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "cluster-listener")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return fmt.Errorf("cluster: listener: %w", err)
	}
	b.accepter = f
	b.loopEnd = make(chan struct{})
	go b.acceptLoop(rc)
	return nil
}

// dupListener duplicates ln's descriptor (close-on-exec). It shares the
// open socket, its non-blocking flag included.
func dupListener(ln *net.TCPListener) (int, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("cluster: listener: %w", err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, fmt.Errorf("cluster: listener: %w", err)
	}
	if derr != nil {
		return -1, fmt.Errorf("cluster: duplicate the listener: %w", derr)
	}
	return nfd, nil
}

// acceptLoop accepts connections as raw non-blocking descriptors: a
// net.Conn per connection would only be torn down again to pass it on.
// Under load it takes everything waiting (up to the queue's room) per
// wake-up, so a burst costs one poller round, not one per connection.
func (b *balancer) acceptLoop(rc syscall.RawConn) {
	defer close(b.loopEnd)
	var batch []int
	for {
		b.mu.Lock()
		for len(b.queue) >= maxPending && !b.closed {
			b.space.Wait()
		}
		room, closed := maxPending-len(b.queue), b.closed
		b.mu.Unlock()
		if closed {
			return
		}
		batch = batch[:0]
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			for len(batch) < room {
				nfd, _, err := syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
				if err != nil {
					if errors.Is(err, syscall.EAGAIN) && len(batch) == 0 {
						return false // nothing yet: wait for readability
					}
					if !errors.Is(err, syscall.EAGAIN) {
						aerr = err
					}
					return true
				}
				batch = append(batch, nfd)
			}
			return true
		})
		if err != nil { // Close closed the duplicate
			for _, fd := range batch {
				syscall.Close(fd)
			}
			if b.isClosed() || errors.Is(err, os.ErrClosed) {
				return
			}
			time.Sleep(acceptBackoff)
			continue
		}
		if len(batch) > 0 {
			b.mu.Lock()
			if b.closed {
				b.mu.Unlock()
				for _, fd := range batch {
					syscall.Close(fd)
				}
				return
			}
			for _, fd := range batch {
				b.queue = append(b.queue, &pending{fd: fd})
			}
			sends := b.pumpLocked()
			b.mu.Unlock()
			b.send(sends)
		}
		if aerr != nil && !errors.Is(aerr, syscall.ECONNABORTED) && !errors.Is(aerr, syscall.EINTR) {
			time.Sleep(acceptBackoff) // EMFILE and the like: wait for descriptors
		}
	}
}

func (b *balancer) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// pumpLocked pairs free workers with queued connections.
func (b *balancer) pumpLocked() []assignment {
	var out []assignment
	for len(b.free) > 0 && len(b.queue) > 0 {
		w := b.free[0]
		b.free[0] = nil
		b.free = b.free[1:]
		w.inFree = false
		pc := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		w.inflight = pc
		pc.taken = false
		out = append(out, assignment{w, pc, pc.fd})
	}
	if len(out) > 0 {
		b.space.Broadcast()
	}
	return out
}

// send performs handoffs decided by pumpLocked.
func (b *balancer) send(as []assignment) {
	for _, a := range as {
		if err := b.mode.handoff(a.w, a.pc, a.fd); err != nil {
			// The channel is closing: the worker is as good as gone.
			b.refused(a.w, a.pc, false)
		}
	}
}

// addFreeLocked puts w at the back of the free queue if it may take work.
func (b *balancer) addFreeLocked(w *Worker) {
	if w.routable && !w.inFree && w.inflight == nil && !b.closed {
		w.inFree = true
		b.free = append(b.free, w)
	}
}

// dropFreeLocked takes w out of the free queue.
func (b *balancer) dropFreeLocked(w *Worker) {
	if !w.inFree {
		return
	}
	w.inFree = false
	for i, f := range b.free {
		if f == w {
			b.free = append(b.free[:i], b.free[i+1:]...)
			return
		}
	}
}

// requeueLocked puts a connection back at the front, or closes it when it
// has been refused too often or the balancer is closed.
func (b *balancer) requeueLocked(pc *pending) {
	if pc == nil {
		return
	}
	pc.refusals++
	if b.closed || pc.refusals > maxRefusals {
		pc.close()
		return
	}
	b.queue = append(b.queue, nil)
	copy(b.queue[1:], b.queue)
	b.queue[0] = pc
}

// complete records that w took pc for good: our copy is closed and w is
// free again.
func (b *balancer) complete(w *Worker, pc *pending) {
	b.mu.Lock()
	if w.inflight != pc {
		pc.settleStale() // the worker was detached meanwhile
		b.mu.Unlock()
		return
	}
	w.inflight = nil
	pc.close()
	w.served++
	b.counts[w.id]++
	b.addFreeLocked(w)
	sends := b.pumpLocked()
	b.mu.Unlock()
	w.markReady()
	b.send(sends)
}

// refused puts pc back for another worker; w goes back to the free queue
// when again is true (it refused this one but may take the next).
func (b *balancer) refused(w *Worker, pc *pending, again bool) {
	b.mu.Lock()
	if w.inflight != pc {
		pc.settleStale()
		b.mu.Unlock()
		return
	}
	w.inflight = nil
	b.requeueLocked(pc)
	if again {
		b.addFreeLocked(w)
	} else {
		w.routable = false
	}
	sends := b.pumpLocked()
	b.mu.Unlock()
	b.send(sends)
}

// attach registers w, routable at once when ready is true.
func (b *balancer) attach(w *Worker, routable bool) {
	b.mu.Lock()
	w.routable = routable
	b.addFreeLocked(w)
	sends := b.pumpLocked()
	b.mu.Unlock()
	b.send(sends)
}

// countsCopy returns a copy of the per-id counts.
func (b *balancer) countsCopy() map[int]uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[int]uint64, len(b.counts))
	for k, v := range b.counts {
		out[k] = v
	}
	return out
}

// close stops the accept loop and closes queued connections. In-flight
// ones are closed when their worker answers or is detached.
func (b *balancer) close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, pc := range b.queue {
		pc.close()
	}
	b.queue = nil
	for _, w := range b.free {
		w.inFree = false
	}
	b.free = nil
	b.space.Broadcast()
	b.mu.Unlock()
	if b.loopEnd == nil {
		return nil
	}
	// Closing the duplicate wakes the accept loop; the caller's listener
	// is untouched.
	err := b.accepter.Close()
	<-b.loopEnd
	if err != nil {
		return fmt.Errorf("cluster: stop accepting: %w", err)
	}
	return nil
}

// newWorker makes a Worker of b.
func (b *balancer) newWorker(id int, conn *ipc.Conn) *Worker {
	return &Worker{id: id, conn: conn, b: b, ready: make(chan struct{})}
}
