package cluster

import (
	"errors"
	"net"

	"github.com/kelpie-dev/kelpie/ipc"
)

// Environment a round-robin worker gets (read by WorkerListener).
const (
	// EnvMode names the cluster mode a worker was started in.
	EnvMode = "KELPIE_CLUSTER_MODE"
	// EnvListenAddr is the address kelpie accepts on, for the worker's
	// Listener.Addr.
	EnvListenAddr = "KELPIE_LISTEN_ADDR"
	// ModeRoundRobin is EnvMode's value in round-robin mode.
	ModeRoundRobin = "round-robin"
)

// connMsg is the message that comes with each connection in round-robin
// mode: what a Node worker's process.on('message', (m, socket)) gets as m.
const connMsg = `{"kelpie":"conn"}`

// RoundRobin is kelpie's own round-robin mode: it accepts on the listener
// and passes each connection to the next free worker as a descriptor (a
// net.Socket handle). A worker is free again once it acknowledged the
// descriptor (NODE_HANDLE_ACK, sent by Node and by ipc.Conn on receipt).
type RoundRobin struct {
	b    *balancer
	addr string
}

// NewRoundRobin starts accepting on ln. Connections wait (up to 64, then
// in the kernel's backlog) until a worker is attached and free.
func NewRoundRobin(ln *net.TCPListener) (*RoundRobin, error) {
	if ln == nil {
		return nil, errors.New("cluster: round-robin: no listener")
	}
	r := &RoundRobin{addr: ln.Addr().String()}
	r.b = newBalancer(ln, rrMode{})
	if err := r.b.start(); err != nil {
		return nil, err
	}
	return r, nil
}

// Env returns KELPIE_CLUSTER_MODE=round-robin and KELPIE_LISTEN_ADDR, which
// WorkerListener reads. The worker also needs its channel (ipc.ChildEnv).
func (r *RoundRobin) Env(id int) []string {
	return []string{EnvMode + "=" + ModeRoundRobin, EnvListenAddr + "=" + r.addr}
}

// Attach registers worker id's channel and puts it in the free queue.
func (r *RoundRobin) Attach(id int, conn *ipc.Conn) *Worker {
	w := r.b.newWorker(id, conn)
	r.b.attach(w, true)
	return w
}

// Counts returns the connections each worker id acknowledged.
func (r *RoundRobin) Counts() map[int]uint64 { return r.b.countsCopy() }

// Close stops accepting; queued connections are closed.
func (r *RoundRobin) Close() error { return r.b.close() }

// rrMode is the round-robin protocol: a net.Socket handle per connection,
// answered by NODE_HANDLE_ACK.
type rrMode struct{}

func (rrMode) handoff(w *Worker, pc *pending, fd int) error {
	return w.conn.SendFD(ipc.TypeSocket, []byte(connMsg), fd, func(err error) {
		switch {
		case err == nil:
			w.b.complete(w, pc)
		case errors.Is(err, ipc.ErrHandleRefused):
			w.b.refused(w, pc, true)
		default:
			w.b.refused(w, pc, false)
		}
	})
}

func (rrMode) handle(*Worker, ipc.Message) bool { return false }

func (rrMode) disconnect(*Worker) {}
