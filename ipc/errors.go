package ipc

import (
	"errors"
	"fmt"
)

// ErrNoChannel is returned by FromParent when the process was not started
// with a usable NODE_CHANNEL_FD, i.e. nobody is listening on the other end.
var ErrNoChannel = errors.New("ipc: no parent channel (NODE_CHANNEL_FD absent or invalid)")

// ErrReserved is returned when a user message has a top-level "cmd" starting
// with "NODE_": Node treats those as its own protocol messages and would
// swallow or misinterpret them instead of emitting 'message'. Its text is
// one plain sentence because the UI and the CLI show it as it is.
var ErrReserved = errors.New("messages whose cmd starts with NODE_ are reserved for Node's internal use")

// ErrQueueFull is returned by Send and SendRaw when the outbound queue is at
// its bound: the peer is not reading fast enough. The message was not queued;
// the caller decides whether to drop, retry after Flush, or disconnect.
var ErrQueueFull = errors.New("ipc: outbound queue full")

// ErrTooLarge is returned when one message alone exceeds the queue's byte
// bound, so no amount of waiting would let it in.
var ErrTooLarge = errors.New("ipc: message larger than the outbound queue")

// ErrInvalidJSON is returned by SendRaw for input that is not exactly one
// JSON value, and wrapped in a LineError for such a received line.
var ErrInvalidJSON = errors.New("ipc: not a single valid JSON value")

// ErrLineTooLong is wrapped in a LineError for a received line longer than
// Options.MaxLine.
var ErrLineTooLong = errors.New("ipc: line exceeds the maximum length")

// ErrClosed is returned by operations on a Conn after Close.
var ErrClosed = errors.New("ipc: connection closed")

// lineHead is how much of a bad line a LineError keeps, enough to recognise
// it in a log without holding on to megabytes.
const lineHead = 64

// LineError reports one received line that was skipped. It is not fatal:
// the channel stays in sync (framing is by newline), so the caller logs it
// and calls Recv again.
type LineError struct {
	// Len is the length of the line in bytes, newline excluded.
	Len int
	// Head is a copy of the line's first bytes (at most 64).
	Head []byte
	// Err is ErrInvalidJSON or ErrLineTooLong.
	Err error
}

// Error describes the skipped line.
func (e *LineError) Error() string {
	return fmt.Sprintf("ipc: skipped line of %d bytes %q: %v", e.Len, e.Head, e.Err)
}

// Unwrap lets errors.Is match ErrInvalidJSON or ErrLineTooLong.
func (e *LineError) Unwrap() error { return e.Err }

func newLineError(line []byte, n int, err error) *LineError {
	h := line
	if len(h) > lineHead {
		h = h[:lineHead]
	}
	return &LineError{Len: n, Head: append([]byte(nil), h...), Err: err}
}
