package ipc

import (
	"errors"
	"os"
)

// Handle types of Node's NODE_HANDLE envelope that kelpie sends.
const (
	// TypeSocket makes a Node receiver wrap the descriptor in a net.Socket
	// ('message' listeners get (msg, socket)).
	TypeSocket = "net.Socket"
	// TypeNative hands a Node receiver the raw handle, as Node's cluster
	// primary does for queryServer replies and newconn.
	TypeNative = "net.Native"
)

// MaxHandleRetransmissions is Node's limit: a handle the peer NACKs is sent
// again at most this many times, then given up with ErrHandleRefused.
const MaxHandleRetransmissions = 3

// ErrHandleRefused is reported to a SendFD callback when the peer NACKed the
// descriptor more than MaxHandleRetransmissions times.
var ErrHandleRefused = errors.New("ipc: peer refused the passed descriptor")

// SendFD queues msg with descriptor fd in Node's NODE_HANDLE envelope
// ({"cmd":"NODE_HANDLE","type":typ,"msg":msg} plus SCM_RIGHTS). msg must be
// one JSON value; it may be one of Node's own messages (NODE_CLUSTER), which
// is what package cluster sends. Like Node's sender, the Conn sends nothing
// after a handle (except ACK/NACK replies) until the peer answers it with
// NODE_HANDLE_ACK; a NACK resends it, up to MaxHandleRetransmissions.
//
// fd stays the caller's: keep it open until done runs. done (may be nil) is
// called exactly once, without locks held and from one of the Conn's
// goroutines, with nil once the peer acknowledged the descriptor, else
// ErrHandleRefused or the channel's failure (ErrClosed...). It must not
// block. When SendFD itself returns an error, done is never called.
func (c *Conn) SendFD(typ string, msg []byte, fd int, done func(error)) error {
	return errors.New("ipc: SendFD: not implemented yet")
}

// SendHandle is SendFD for a user message and an *os.File: v is marshalled,
// f is duplicated (the caller may close f as soon as SendHandle returns) and
// sent as a net.Socket handle. The duplicate is closed once the peer
// acknowledged it or sending failed.
func (c *Conn) SendHandle(v any, f *os.File) error {
	return errors.New("ipc: SendHandle: not implemented yet")
}

// SendNode queues one of Node's own protocol messages (a top-level "cmd"
// starting with "NODE_", e.g. NODE_CLUSTER), which Send refuses. It exists
// for package cluster; msg must be one compact JSON value.
func (c *Conn) SendNode(msg []byte) error {
	return errors.New("ipc: SendNode: not implemented yet")
}
