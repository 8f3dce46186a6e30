package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"syscall"

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

// Environment of a Node cluster worker.
const (
	// EnvNodeUniqueID makes Node run the program's worker branch
	// (cluster.isPrimary false) and is its cluster.worker.id.
	EnvNodeUniqueID = "NODE_UNIQUE_ID"
	// EnvNodeSchedPolicy is Node's scheduling policy variable.
	EnvNodeSchedPolicy = "NODE_CLUSTER_SCHED_POLICY"
)

// uvEADDRNOTAVAIL is libuv's errno for "address not available", the
// answer to a server kelpie does not serve (another port, UDP, a pipe): the
// worker's server.listen() emits 'error' instead of hanging.
const uvEADDRNOTAVAIL = -int(syscall.EADDRNOTAVAIL)

// NodePrimary is kelpie in the place of a Node cluster program's primary:
// its workers run the program's worker branch and ask kelpie for their
// servers with Node's internal NODE_CLUSTER messages. kelpie serves the one
// listener it was given: a worker's TCP server on the listener's port (or
// port 0) gets it; any other server gets EADDRNOTAVAIL.
type NodePrimary struct {
	ln       *net.TCPListener
	policy   string
	sockname []byte // the rr reply's sockname object
	port     int
	b        *balancer
}

// NewNodePrimary serves Node workers on ln under policy PolicyRR (kelpie
// accepts and hands connections out) or PolicyNone (each worker accepts on
// the socket itself). Check the node binary with CheckNodeVersion first:
// the protocol is Node's internal one.
func NewNodePrimary(ln *net.TCPListener, policy string) (*NodePrimary, error) {
	if policy != PolicyRR && policy != PolicyNone {
		return nil, fmt.Errorf("cluster: node scheduling policy %q: want %q or %q", policy, PolicyRR, PolicyNone)
	}
	if ln == nil {
		return nil, fmt.Errorf("cluster: node primary: no listener")
	}
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("cluster: node primary: %v is not a TCP address", ln.Addr())
	}
	family := "IPv6"
	if a.IP.To4() != nil {
		family = "IPv4"
	}
	sn, err := json.Marshal(struct {
		Address string `json:"address"`
		Family  string `json:"family"`
		Port    int    `json:"port"`
	}{a.IP.String(), family, a.Port})
	if err != nil {
		return nil, fmt.Errorf("cluster: node primary: %w", err)
	}
	p := &NodePrimary{ln: ln, policy: policy, sockname: sn, port: a.Port}
	p.b = newBalancer(ln, nodeMode{p})
	if policy == PolicyRR {
		if err := p.b.start(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Env returns NODE_UNIQUE_ID=id (Node then runs the program's worker
// branch, never its cluster.fork() one) and NODE_CLUSTER_SCHED_POLICY. The
// worker also needs its channel (ipc.ChildEnv) and must run a script file
// (node app.js): Node sets up a cluster worker only then.
func (p *NodePrimary) Env(id int) []string {
	return []string{EnvNodeUniqueID + "=" + strconv.Itoa(id), EnvNodeSchedPolicy + "=" + p.policy}
}

// Attach registers worker id's channel. It takes connections once it has
// asked for its server (queryServer) and is ready on 'listening'.
func (p *NodePrimary) Attach(id int, conn *ipc.Conn) *Worker {
	w := p.b.newWorker(id, conn)
	p.b.attach(w, false)
	return w
}

// Counts returns the connections each worker id accepted (rr only: under
// "none" the kernel balances and kelpie sees nothing).
func (p *NodePrimary) Counts() map[int]uint64 { return p.b.countsCopy() }

// Close stops accepting; queued connections are closed.
func (p *NodePrimary) Close() error { return p.b.close() }

// nodeMode is Node's primary side of the NODE_CLUSTER protocol.
type nodeMode struct{ p *NodePrimary }

// nodeMsg is what a worker sends (the fields kelpie reads).
type nodeMsg struct {
	Cmd         string          `json:"cmd"`
	Act         string          `json:"act"`
	Seq         *int64          `json:"seq"`
	Ack         *int64          `json:"ack"`
	Accepted    bool            `json:"accepted"`
	Address     json.RawMessage `json:"address"`
	Port        json.RawMessage `json:"port"`
	AddressType json.RawMessage `json:"addressType"`
	FD          json.RawMessage `json:"fd"`
	Index       json.RawMessage `json:"index"`
}

func (n nodeMode) handle(w *Worker, m ipc.Message) bool {
	if !m.Internal {
		return false
	}
	var msg nodeMsg
	if err := json.Unmarshal(m.Raw, &msg); err != nil || msg.Cmd != "NODE_CLUSTER" {
		return false
	}
	switch msg.Act {
	case "online":
		// Nothing to answer; readiness waits for 'listening'.
	case "queryServer":
		n.queryServer(w, &msg)
	case "listening":
		w.markReady()
	case "close":
		// Its server closed: no more connections for it.
		b := w.b
		b.mu.Lock()
		w.routable = false
		b.dropFreeLocked(w)
		b.mu.Unlock()
	case "exitedAfterDisconnect":
		// The worker disconnects by itself: stop routing, and answer so its
		// process.disconnect() goes ahead.
		b := w.b
		b.mu.Lock()
		w.disconnected, w.routable = true, false
		b.dropFreeLocked(w)
		b.mu.Unlock()
		if msg.Seq != nil {
			n.send(w, fmt.Sprintf(`"ack":%d`, *msg.Seq))
		}
	case "":
		if msg.Ack != nil {
			n.answered(w, *msg.Ack, msg.Accepted)
		}
	}
	return true
}

// send queues one NODE_CLUSTER message with the worker's next seq; fields
// is the JSON members without braces.
func (n nodeMode) send(w *Worker, fields string) {
	w.b.mu.Lock()
	seq := w.seq
	w.seq++
	w.b.mu.Unlock()
	// An error means the channel is going: the worker's Detach follows.
	_ = w.conn.SendNode([]byte(fmt.Sprintf(`{"cmd":"NODE_CLUSTER",%s,"seq":%d}`, fields, seq)))
}

// queryServer answers a worker's server.listen().
func (n nodeMode) queryServer(w *Worker, msg *nodeMsg) {
	p := n.p
	if msg.Seq == nil {
		return
	}
	key := serverKey(msg)
	kq, _ := json.Marshal(key)
	b := w.b
	b.mu.Lock()
	gone := w.disconnected || w.detached
	b.mu.Unlock()
	if gone {
		return // like Node: a disconnecting worker gets no new server
	}
	head := fmt.Sprintf(`"key":%s,"ack":%d,"data":null`, kq, *msg.Seq)
	if !p.serves(msg) {
		n.send(w, fmt.Sprintf(`"errno":%d,%s`, uvEADDRNOTAVAIL, head))
		return
	}
	if p.policy == PolicyNone {
		n.sendListener(w, head)
		return
	}
	n.send(w, fmt.Sprintf(`"errno":0,%s,"sockname":%s`, head, p.sockname))
	// Routable only now: the reply, queued first, sets up the worker's
	// handle before any newconn can reach it.
	b.mu.Lock()
	w.key = key
	if !w.disconnected && !w.detached {
		w.routable = true
		b.addFreeLocked(w)
	}
	sends := b.pumpLocked()
	b.mu.Unlock()
	b.send(sends)
}

// sendListener answers queryServer under "none": the listening socket
// itself, as a net.Native handle.
func (n nodeMode) sendListener(w *Worker, head string) {
	fd, err := dupListener(n.p.ln)
	if err != nil {
		n.send(w, fmt.Sprintf(`"errno":%d,%s`, -int(syscall.EMFILE), head))
		return
	}
	w.b.mu.Lock()
	seq := w.seq
	w.seq++
	w.b.mu.Unlock()
	msg := fmt.Sprintf(`{"cmd":"NODE_CLUSTER","errno":0,%s,"seq":%d}`, head, seq)
	err = w.conn.SendFD(ipc.TypeNative, []byte(msg), fd, func(error) { syscall.Close(fd) })
	if err != nil {
		syscall.Close(fd)
	}
}

// serves reports whether the worker's server is kelpie's listener: TCP on
// its port, or on port 0 (any port).
func (p *NodePrimary) serves(msg *nodeMsg) bool {
	switch string(msg.AddressType) {
	case "4", "6":
	default:
		return false // UDP ("udp4"), a pipe (-1), or unknown
	}
	if len(msg.FD) > 0 && string(msg.FD) != "null" {
		return false // listen({fd}): not ours to serve
	}
	port, err := strconv.Atoi(string(bytes.Trim(msg.Port, `"`)))
	return err == nil && (port == p.port || port == 0)
}

// serverKey is Node's key for a server: address:port:addressType:fd:index.
// The worker echoes it opaquely.
func serverKey(msg *nodeMsg) string {
	part := func(r json.RawMessage) string {
		if len(r) == 0 {
			return "undefined"
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			return s
		}
		return string(r)
	}
	return part(msg.Address) + ":" + part(msg.Port) + ":" + part(msg.AddressType) + ":" + part(msg.FD) + ":" + part(msg.Index)
}

// handoff sends a connection as Node's newconn.
func (n nodeMode) handoff(w *Worker, pc *pending, fd int) error {
	b := w.b
	b.mu.Lock()
	pc.seq = w.seq
	w.seq++
	key := w.key
	b.mu.Unlock()
	kq, _ := json.Marshal(key)
	msg := fmt.Sprintf(`{"cmd":"NODE_CLUSTER","act":"newconn","key":%s,"seq":%d}`, kq, pc.seq)
	return w.conn.SendFD(ipc.TypeNative, []byte(msg), fd, func(err error) {
		if err != nil {
			b.refused(w, pc, false)
			return
		}
		b.mu.Lock()
		if w.inflight == pc {
			pc.taken = true // it is the worker's now: never requeued on its death
		} else {
			pc.settleStale()
		}
		b.mu.Unlock()
	})
}

// answered takes the worker's {ack, accepted} for a newconn.
func (n nodeMode) answered(w *Worker, ack int64, accepted bool) {
	b := w.b
	b.mu.Lock()
	pc := w.inflight
	// Node ACKs the descriptor before it answers; an answer before that
	// (a hostile worker guessing the seq) is ignored, so a descriptor still
	// queued in the channel is never handed to another worker and closed.
	match := pc != nil && int64(pc.seq) == ack && pc.taken
	b.mu.Unlock()
	if !match {
		return
	}
	if accepted {
		b.complete(w, pc)
		return
	}
	// Refused (its server is closing, or maxConnections): Node's worker
	// closed its copy, so the connection is untouched.
	b.mu.Lock()
	pc.taken = false
	b.mu.Unlock()
	b.refused(w, pc, true)
}

// disconnect sends Node's graceful 'disconnect'.
func (n nodeMode) disconnect(w *Worker) {
	n.send(w, `"act":"disconnect"`)
}
