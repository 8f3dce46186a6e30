// Package ipc implements Node.js-compatible message channels.
//
// The wire format is Node's 'json' IPC serialization: one JSON value per
// line over an AF_UNIX stream socket, whose child end is announced with
// NODE_CHANNEL_FD. A stock Node script using process.send and
// process.on('message') therefore talks to kelpie with no library, a Go
// child uses FromParent, and the same Go child also works when forked by
// Node's child_process.fork. Pipe gives the same Conn between goroutines, so
// the supervisor handles forked children and worker goroutines alike.
//
// Node's own protocol messages have a top-level "cmd" starting with
// "NODE_". Users cannot send them; received ones are flagged Internal, and
// NODE_HANDLE (a descriptor passed with SCM_RIGHTS) is acknowledged
// automatically because the Node sender holds back every later message
// until it is. SendFD and SendHandle pass descriptors the same way and keep
// Node's sender discipline: after a handle nothing more is written (ACK and
// NACK replies excepted) until the peer's NODE_HANDLE_ACK, which Recv takes
// for the sender instead of returning it; a NACK resends the handle.
package ipc
