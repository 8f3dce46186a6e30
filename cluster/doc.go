// Package cluster runs N worker processes behind one listening socket that
// kelpie binds once. It holds the dispatch side only: the engine (procs)
// starts, restarts and stops the workers and gives each one's message
// channel to a dispatcher here. It never imports procs or any Charm package.
//
// Three modes:
//
//   - fds: every worker inherits the socket (systemd's LISTEN_FDS
//     convention, fd 3) and the kernel balances. Nothing to dispatch; a Go
//     worker calls WorkerListener.
//   - round-robin (RoundRobin): kelpie accepts and passes each connection to
//     the next free worker over its channel as a descriptor (a NODE_HANDLE
//     of type net.Socket with the message {"kelpie":"conn"}). Node's
//     discipline: a FIFO of free workers, at most one connection in flight
//     per worker until its NODE_HANDLE_ACK, a refused or orphaned connection
//     goes to the next worker. A Go worker calls WorkerListener; a Node
//     worker gets a net.Socket from process.on('message', (m, sock) => ...).
//   - node (NodePrimary): kelpie is the cluster primary of an unmodified Node
//     cluster program: it answers Node's internal NODE_CLUSTER messages
//     (online, queryServer, listening, newconn, close, disconnect,
//     exitedAfterDisconnect) under both of Node's policies, "rr" (kelpie
//     accepts, as above, with Node's newconn/accepted handshake) and "none"
//     (every worker gets the listening socket itself). The protocol is
//     undocumented: CheckNodeVersion refuses a Node major not verified.
//
// How the engine uses a Dispatcher (RoundRobin or NodePrimary):
//
//	d, err := cluster.NewRoundRobin(ln)       // or NewNodePrimary(ln, cluster.PolicyRR)
//	env := d.Env(id)                          // add to the worker's environment, with ipc.ChildEnv
//	w := d.Attach(id, conn)                   // once the worker is started
//	// in the goroutine reading conn (ipc.Conn.Recv):
//	if !w.Handle(m) { /* a user message: store it */ }
//	<-w.Ready()                               // rolling reload waits for this
//	w.Disconnect()                            // graceful stop, then SIGTERM after a grace
//	w.Detach()                                // the worker exited (always call it)
//	d.Counts()                                // connections handed, per worker id
//	d.Close()                                 // stops accepting; the caller closes ln
//
// For node mode, call CheckNodeVersion on the node binary first, and run
// the program as a script file (node app.js): Node sets up a cluster
// worker only then. A Go worker in fds or round-robin mode calls
// WorkerListener and serves on it; fds mode needs nothing from this package
// on kelpie's side (the engine passes the socket as fd 3 with LISTEN_FDS=1).
//
// Readiness: a worker is ready on its first acknowledged connection or
// when it sends {"ready":true} (round-robin), on 'listening' (node), or on
// {"ready":true} in either mode. Handle reports {"ready":true} as not
// consumed, so it is also stored like any user message.
package cluster
