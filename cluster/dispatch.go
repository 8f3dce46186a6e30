package cluster

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/kelpie-dev/kelpie/ipc"
)

// Dispatcher is what the engine drives for round-robin and node mode:
// RoundRobin and NodePrimary implement it.
type Dispatcher interface {
	// Env returns the environment entries worker id needs (added to the
	// engine's own: KELPIE_WORKER_ID, NODE_CHANNEL_FD...).
	Env(id int) []string
	// Attach registers a started worker's channel. The engine must pass
	// every message it reads from conn to the returned Worker's Handle and
	// call Detach when the worker exits.
	Attach(id int, conn *ipc.Conn) *Worker
	// Counts returns the connections handed to each worker id so far
	// (acknowledged by the worker). Ids of replaced workers keep counting.
	// Node's "none" policy counts nothing: the kernel balances.
	Counts() map[int]uint64
	// Close stops accepting and routing. Connections not yet handed are
	// closed. The listener itself stays the caller's to close; the socket
	// is released once both it and the Dispatcher are closed (the accept
	// loop works on a duplicate of its descriptor).
	Close() error
}

// mode is what differs between kelpie's round-robin and the Node primary.
type mode interface {
	// handoff sends connection pc (descriptor fd) to w; called without the
	// balancer's lock. An error means it was not sent.
	handoff(w *Worker, pc *pending, fd int) error
	// handle takes one message from w (see Worker.Handle).
	handle(w *Worker, m ipc.Message) bool
	// disconnect asks w to stop gracefully, after routing to it stopped.
	disconnect(w *Worker)
}

// Worker is one attached worker of a Dispatcher. Its methods are safe for
// concurrent use.
type Worker struct {
	id        int
	conn      *ipc.Conn
	b         *balancer
	ready     chan struct{}
	readyOnce sync.Once

	// Guarded by b.mu.
	routable bool // may be given connections
	detached bool // Detach was called
	// disconnected: Disconnect was called (or the worker disconnects by itself).
	disconnected bool
	inFree       bool     // in b.free
	inflight     *pending // the connection handed and not yet answered
	served       uint64
	seq          int    // node: the next sequence number of our messages
	key          string // node: the worker's server key (from queryServer)
}

// ID is the worker id given to Attach.
func (w *Worker) ID() int { return w.id }

// Handle takes every message the worker sent, in order, and reports
// whether it was the cluster protocol's (consumed: do not store it). A
// {"ready":true} message marks the worker ready and is reported false.
func (w *Worker) Handle(m ipc.Message) bool {
	if !m.Internal && isReadyMsg(m.Raw) {
		w.markReady()
		return false
	}
	return w.b.mode.handle(w, m)
}

// Ready is closed when the worker is ready to take connections.
func (w *Worker) Ready() <-chan struct{} { return w.ready }

func (w *Worker) markReady() { w.readyOnce.Do(func() { close(w.ready) }) }

// Disconnect stops routing connections to the worker (the one in flight
// completes or goes to another worker) and, in node mode, sends Node's
// graceful 'disconnect': the worker closes its servers and exits 0 once
// idle. The engine still needs a grace timeout and a signal after it.
func (w *Worker) Disconnect() {
	b := w.b
	b.mu.Lock()
	first := !w.disconnected && !w.detached
	w.disconnected, w.routable = true, false
	b.dropFreeLocked(w)
	b.mu.Unlock()
	if first {
		b.mode.disconnect(w)
	}
}

// Detach removes the worker for good; call it once the worker exited. A
// connection in flight that the worker had not yet acknowledged goes to the
// next free worker, also one it had acknowledged but not answered for.
// Detach does not close the channel: the engine may still be reading the
// worker's last messages.
func (w *Worker) Detach() {
	b := w.b
	b.mu.Lock()
	w.detached, w.routable = true, false
	b.dropFreeLocked(w)
	if pc := w.inflight; pc != nil {
		w.inflight = nil
		if pc.taken {
			// Acknowledged but never answered: a Node worker answers
			// {accepted} before it reads from a connection, so this one
			// is untouched. (One told to disconnect refuses it and closes
			// its channel, the refusal lost with it: closing the
			// connection here reset the client: 3 in ~90 node-rr rolling
			// reloads under -race, none in 140 since.) The writer has let
			// go of it.
			pc.taken = false
			b.requeueLocked(pc)
		} else {
			// The channel's writer may still hold pc's descriptor (it lets
			// go in the handle's callback, which closes it): requeue a
			// duplicate, so no descriptor number is used by two writers.
			b.requeueLocked(pc.orphan())
		}
	}
	sends := b.pumpLocked()
	b.mu.Unlock()
	b.send(sends)
}

// Served is how many connections this worker acknowledged.
func (w *Worker) Served() uint64 {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	return w.served
}

// isReadyMsg reports whether raw is an object whose "ready" member is true.
func isReadyMsg(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '{' || !bytes.Contains(raw, []byte(`"ready"`)) {
		return false
	}
	var v struct {
		Ready bool `json:"ready"`
	}
	return json.Unmarshal(raw, &v) == nil && v.Ready
}
