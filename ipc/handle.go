package ipc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
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

// errConsumed tells Recv a line was protocol for this Conn, not a message.
var errConsumed = errors.New("ipc: consumed")

// outFD is one handle queued or in flight.
type outFD struct {
	line []byte // the NODE_HANDLE envelope with its newline
	fd   int
	done func(error)
	// pos and posN place it in the queue: after wq[:pos], which holds posN
	// messages.
	pos, posN int
	tries     int // retransmissions so far
	// written is set once the writer wrote it, answer once the peer
	// answered it (answerACK or answerNACK).
	written bool
	answer  int8
}

const (
	answerACK  = 1
	answerNACK = 2
)

// SendFD queues msg with descriptor fd in Node's NODE_HANDLE envelope
// ({"cmd":"NODE_HANDLE","type":typ,"msg":msg} plus SCM_RIGHTS). msg must be
// one compact JSON value; it may be one of Node's own messages
// (NODE_CLUSTER), which is what package cluster sends. Like Node's sender,
// the Conn sends nothing after a handle (except ACK/NACK replies) until the
// peer answers it with NODE_HANDLE_ACK; a NACK sends it again, at most
// MaxHandleRetransmissions times. Something must be reading the Conn (Recv)
// for the answer to arrive.
//
// fd stays the caller's: keep it open until done runs. done (may be nil) is
// called exactly once, without the Conn's locks held and from one of its
// goroutines (the one in Recv for an answer), with nil once the peer
// acknowledged the descriptor, else ErrHandleRefused or the channel's
// failure (ErrClosed, only once the writer can no longer be using fd). It
// must not block nor close this Conn. When SendFD itself returns an error,
// done is never called.
func (c *Conn) SendFD(typ string, msg []byte, fd int, done func(error)) error {
	if c.broken != nil {
		return c.broken
	}
	if _, ok := scanJSON(msg); !ok {
		return fmt.Errorf("ipc: send handle: %w", ErrInvalidJSON)
	}
	tb, err := json.Marshal(typ)
	if err != nil {
		return fmt.Errorf("ipc: send handle: %w", err)
	}
	line := make([]byte, 0, len(msg)+len(tb)+40)
	line = append(line, `{"cmd":"NODE_HANDLE","type":`...)
	line = append(line, tb...)
	line = append(line, `,"msg":`...)
	line = append(line, msg...)
	line = append(line, "}\n"...)
	h := &outFD{line: line, fd: fd, done: done}

	c.wmu.Lock()
	if err := c.refuseLocked(len(line)); err != nil {
		c.wmu.Unlock()
		return fmt.Errorf("ipc: send handle: %w", err)
	}
	c.enqueued++
	if !(c.idle && c.wqN == 0 && c.clearLocked() && c.tryDirectHandle(h)) {
		h.pos, h.posN = len(c.wq), c.wqN
		c.fdq = append(c.fdq, h)
	}
	wake := c.kickLocked()
	c.wmu.Unlock()
	if wake {
		c.wake <- struct{}{}
	}
	return nil
}

// SendHandle is SendFD for a user message and an *os.File: v is marshalled,
// f is duplicated (the caller may close f as soon as SendHandle returns) and
// sent as a net.Socket handle. The duplicate is closed once the peer
// acknowledged it or sending failed. A top-level "cmd" starting with
// "NODE_" is refused with ErrReserved.
func (c *Conn) SendHandle(v any, f *os.File) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ipc: send handle: %w", err)
	}
	if info, ok := scanJSON(b); !ok || cmdIsInternal(info.cmd) {
		return fmt.Errorf("ipc: send handle: %w", ErrReserved)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("ipc: send handle: %w", err)
	}
	dup := -1
	var derr error
	// Control, not f.Fd(): Fd would switch the descriptor to blocking mode,
	// and that flag is shared with the receiver's copy.
	if err := rc.Control(func(fd uintptr) {
		dup, derr = fcntlDupCloexec(int(fd))
	}); err != nil {
		return fmt.Errorf("ipc: send handle: %w", err)
	}
	if derr != nil {
		return fmt.Errorf("ipc: send handle: dup: %w", derr)
	}
	err = c.SendFD(TypeSocket, b, dup, func(error) { syscall.Close(dup) })
	if err != nil {
		syscall.Close(dup)
	}
	return err
}

// SendNode queues one of Node's own protocol messages (a top-level "cmd"
// starting with "NODE_", e.g. NODE_CLUSTER), which Send refuses. It exists
// for package cluster; msg must be one compact JSON value.
func (c *Conn) SendNode(msg []byte) error {
	if _, ok := scanJSON(msg); !ok {
		return fmt.Errorf("ipc: send node message: %w", ErrInvalidJSON)
	}
	return c.enqueue(msg)
}

// tryDirectHandle sends h from the caller's goroutine with one
// non-blocking sendmsg when nothing else is pending and the writer is idle:
// in round-robin mode every connection is one handle, and waking the writer
// for each costs a thread hand-off. Called with wmu held. Reports whether
// h went out (wholly, or its descriptor with a first part whose rest is
// then queued ahead of everything).
func (c *Conn) tryDirectHandle(h *outFD) bool {
	if c.rc == nil {
		return false
	}
	n := 0
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		n, serr = syscall.SendmsgN(int(fd), h.line, syscall.UnixRights(h.fd), nil, syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL)
		return true
	})
	if err != nil || serr != nil || n <= 0 {
		return false // the writer retries and reports any error
	}
	c.sent++
	h.written = true
	c.awaiting = h
	if n < len(h.line) {
		c.head = append(c.head[:0], h.line[n:]...)
		c.headN = 0 // the caller wakes the writer for it
	}
	return true
}

// writeHandle writes one handle's envelope with its descriptor attached.
// Called by the writer only.
func (c *Conn) writeHandle(h *outFD) error {
	n, _, err := c.uc.WriteMsgUnix(h.line, syscall.UnixRights(h.fd), nil)
	if err != nil {
		return err
	}
	if n < len(h.line) {
		// A stream socket may take part of it; the descriptor went with the
		// first byte and the rest follows at once.
		_, err = c.uc.Write(h.line[n:])
	}
	return err
}

// handleAnswered takes the peer's NODE_HANDLE_ACK (ok) or NACK for the
// handle in flight. Called by the reader. An answer that comes before the
// writer has finished writing the handle (only a hostile peer's can) is
// kept until it has: the descriptor must not be given back to its owner,
// who may close it and reuse its number, while it may still be written.
func (c *Conn) handleAnswered(ok bool) {
	c.wmu.Lock()
	h := c.awaiting
	if h == nil || h.answer != 0 {
		c.wmu.Unlock()
		return // stray: nothing of ours is waiting
	}
	h.answer = answerNACK
	if ok {
		h.answer = answerACK
	}
	if !h.written {
		c.wmu.Unlock()
		return
	}
	c.settleLocked(h)
}

// settleLocked applies the answer of the written handle h in flight, then
// unlocks and runs its callback when it is finished.
func (c *Conn) settleLocked(h *outFD) {
	c.awaiting = nil
	var result error
	finished := true
	switch {
	case h.answer == answerACK:
	case h.tries < MaxHandleRetransmissions:
		h.tries++
		h.answer, h.written = 0, false
		c.resend = h
		finished = false
	default:
		result = ErrHandleRefused
	}
	wake := c.kickLocked()
	c.wmu.Unlock()
	if wake {
		c.wake <- struct{}{}
	}
	if finished && h.done != nil {
		h.done(result)
	}
}

// takeHandlesLocked removes every handle queued or in flight, for failing
// them once the lock is released.
func (c *Conn) takeHandlesLocked() []*outFD {
	var out []*outFD
	for _, h := range []*outFD{c.resend, c.awaiting} {
		if h != nil {
			out = append(out, h)
		}
	}
	out = append(out, c.fdq...)
	c.dropped += uint64(len(c.fdq))
	c.resend, c.awaiting, c.fdq = nil, nil, nil
	return out
}

// failHandles reports err to the handles' callbacks.
func failHandles(hs []*outFD, err error) {
	for _, h := range hs {
		if h.done != nil {
			h.done(err)
		}
	}
}

// fcntlDupCloexec duplicates fd onto a close-on-exec descriptor.
func fcntlDupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
