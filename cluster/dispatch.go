package cluster

import (
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
	// closed. The listener itself stays the caller's to close.
	Close() error
}

// Worker is one attached worker of a Dispatcher. Its methods are safe for
// concurrent use.
type Worker struct {
	id    int
	conn  *ipc.Conn
	ready chan struct{}
}

// ID is the worker id given to Attach.
func (w *Worker) ID() int { return w.id }

// Handle takes every message the worker sent, in order, and reports
// whether it was the cluster protocol's (consumed: do not store it). A
// {"ready":true} message marks the worker ready and is reported false.
func (w *Worker) Handle(m ipc.Message) bool { return false }

// Ready is closed when the worker is ready to take connections.
func (w *Worker) Ready() <-chan struct{} { return w.ready }

// Disconnect stops routing connections to the worker (the one in flight
// completes or is requeued) and, in node mode, sends Node's graceful
// 'disconnect': the worker closes its servers and exits 0 once idle. The
// engine still needs a grace timeout and a signal after it.
func (w *Worker) Disconnect() {}

// Detach removes the worker for good (it exited or its channel closed): a
// connection in flight to it goes to the next free worker.
func (w *Worker) Detach() {}

// Served is how many connections this worker acknowledged.
func (w *Worker) Served() uint64 { return 0 }
