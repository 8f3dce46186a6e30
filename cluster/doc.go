// Package cluster will run N worker processes behind one listening socket:
// kelpie binds the socket once and either hands it to every worker (the
// systemd LISTEN_FDS convention, fd 3) or accepts connections itself and
// passes each to the next free worker over its message channel (Node's
// round-robin scheduling). Dead workers are replaced with backoff, the group
// scales up and down live, and a rolling reload starts a new worker, waits
// until it is ready, stops routing to the old one, then stops it.
//
// It builds on procs (each worker is a unit in a group row: procs.Info.Group)
// and ipc (the channel, on fd 4 when fd 3 carries the listener). This package
// is a placeholder until the cluster issue: nothing imports it yet.
package cluster
