package ipc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for Options.
const (
	// DefaultMaxLine bounds one received message. Node itself has no limit;
	// 16 MiB is far above any sane control message while keeping a runaway
	// child from exhausting the manager's memory.
	DefaultMaxLine = 16 << 20
	// DefaultQueueLen bounds the outbound messages waiting for the writer.
	DefaultQueueLen = 4096
	// DefaultQueueBytes bounds the bytes of those messages, since a message
	// count alone would allow 4096 messages of 16 MiB.
	DefaultQueueBytes = 64 << 20
	// DefaultSpin is long enough to catch a Go peer's reply (~10µs) and
	// most of a Node peer's, short enough to cost little when none comes.
	DefaultSpin = 50 * time.Microsecond
)

const (
	// internalSlack lets protocol replies (NODE_HANDLE_ACK/NACK) exceed the
	// queue bound a little: refusing an ACK would stall the Node peer for
	// good, while the slack keeps a peer that spams NODE_HANDLE and never
	// reads from growing the queue without limit.
	internalSlack = 1024
	// maxPendingFDs bounds descriptors received but not yet claimed by a
	// NODE_HANDLE line; Node sends one at a time, so more means a confused
	// or hostile peer and the surplus is closed.
	maxPendingFDs = 16
	// oobFDs is how many descriptors one read can carry. Extra ones would
	// be closed by the kernel (MSG_CTRUNC) and the handle NACKed.
	oobFDs = 8
	// keepWriteBuf: a batch buffer grown past this is not reused, so one
	// burst does not pin its peak memory.
	keepWriteBuf = 4 << 20
	// directQuiet: a send with no reply hint is still written inline when
	// the previous inline write is this old, so an occasional message
	// (a supervisor command) skips the writer hand-off, while a tight send
	// loop gets at most one inline write per interval and is otherwise
	// batched by the writer.
	directQuiet = 50 * time.Microsecond
)

var (
	ackLine  = []byte(`{"cmd":"NODE_HANDLE_ACK"}` + "\n")
	nackLine = []byte(`{"cmd":"NODE_HANDLE_NACK"}` + "\n")
)

// Options tunes a Conn. Zero values select the defaults.
type Options struct {
	// MaxLine is the longest accepted received line in bytes (default
	// 16 MiB). Longer lines are skipped without being buffered.
	MaxLine int
	// QueueLen bounds the messages waiting to be written (default 4096).
	// At most one more batch is being written at any time.
	QueueLen int
	// QueueBytes bounds the bytes waiting to be written (default 64 MiB).
	QueueBytes int
	// Spin is how long Recv polls the socket before parking when a reply
	// is likely (this end sent a message just before waiting). Default
	// 50µs; negative disables. See Recv.
	Spin time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.Spin == 0 {
		o.Spin = DefaultSpin
	}
	return o
}

// Message is one received message.
type Message struct {
	// Raw is the message's JSON text, a private copy without the newline.
	Raw json.RawMessage
	// Handle is the descriptor that came with a NODE_HANDLE message (Node's
	// process.send(msg, handle)); nil otherwise. The caller owns and closes
	// it. Raw is then Node's envelope {"cmd":"NODE_HANDLE","type":..,"msg":..}
	// with the user's message under "msg".
	Handle *os.File
	// Internal is true when the top-level "cmd" starts with "NODE_" (Node's
	// own protocol). Node does not deliver those to 'message' listeners.
	Internal bool
}

// Stats are a Conn's counters since it was created.
type Stats struct {
	// Sent counts messages handed to the kernel.
	Sent uint64
	// Queued counts messages waiting in the outbound queue or being written.
	Queued uint64
	// Dropped counts messages refused with ErrQueueFull or ErrTooLarge, or
	// lost when the connection failed or closed with messages still queued.
	Dropped uint64
	// Received counts messages returned by Recv.
	Received uint64
	// LineErrors counts received lines skipped as invalid or over-long.
	LineErrors uint64
}

// Conn is one end of a Node-compatible message channel: newline-delimited
// JSON over an AF_UNIX stream socket, descriptors passed with SCM_RIGHTS.
//
// Send and SendRaw never wait for the peer: they enqueue on a bounded queue
// that one writer goroutine drains, coalescing everything queued into one
// write(2). A lone message (a reply, or the first after a quiet spell) is
// instead written at once with a non-blocking write from the caller, which
// saves the writer's wake-up; whatever the socket does not take stays
// queued. Recv is meant for a single reading goroutine. All methods are
// safe for concurrent use.
type Conn struct {
	uc   *net.UnixConn
	opts Options
	// broken is set when the Conn could not be created (see Pipe); every
	// operation then reports it.
	broken error

	// Reader side, owned by the goroutine in Recv.
	rmu    sync.Mutex
	fr     *framer
	oob    []byte
	fds    []int // received descriptors not yet matched to a NODE_HANDLE
	dropFD int   // tests: pretend the next dropFD descriptors were lost

	received   atomic.Uint64
	lineErrors atomic.Uint64
	// replyHint is set when Recv returned a message and had nothing more
	// buffered: the caller is likely to answer, one message, now.
	replyHint atomic.Bool
	// lastSend (unix ns) is when a message was last sent inline; a Recv soon
	// after is waiting for the answer and may spin.
	lastSend atomic.Int64
	// spinSkip counts waits left to park without spinning after spins that
	// found nothing: an idle or slow peer does not cost CPU for long.
	spinSkip, spinBackoff int

	// Writer side.
	wmu sync.Mutex
	wq  []byte // encoded messages waiting, each ending in '\n'
	wqN int    // messages in wq
	// head is the unwritten rest of a message an inline write began; it
	// goes out before anything else, so no line is ever split by another.
	// headN is 1 when it finishes a counted message.
	head  []byte
	headN int
	// ctl holds ACK/NACK replies: written before the queue and never held
	// back behind a handle of our own, or two peers passing handles to each
	// other would each wait for the other's ACK.
	ctl  []byte
	ctlN int
	// fdq are the handles queued, in order, each placed between wq's bytes.
	fdq []*outFD
	// awaiting is the handle sent whose ACK has not come: like Node's
	// sender, nothing more of the queue is written until it does.
	awaiting *outFD
	// resend is a NACKed handle to send again before anything queued.
	resend     *outFD
	spare      []byte // the previous batch's buffer, reused for the next
	inflight   int    // messages in the batch being written
	idle       bool   // the writer waits on wake
	closed     bool
	werr       error // sticky: the socket failed, nothing more is written
	wake       chan struct{}
	flushWait  chan struct{} // closed after each batch when a Flush waits
	enqueued   uint64
	sent       uint64
	dropped    uint64
	writerDone chan struct{}
	// Inline write state, used under wmu.
	rc         syscall.RawConn
	lastDirect time.Time
	directBuf  []byte
	directN    int
	directErr  error
	directFn   func(fd uintptr) bool

	closeOnce sync.Once
	closeErr  error
}

// NewConn wraps a connected AF_UNIX stream socket and starts its writer.
// The Conn owns c from now on.
func NewConn(c *net.UnixConn, opts Options) *Conn {
	opts = opts.withDefaults()
	conn := &Conn{
		uc:         c,
		opts:       opts,
		fr:         newFramer(opts.MaxLine, readBufSize),
		oob:        make([]byte, syscall.CmsgSpace(oobFDs*4)),
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
	if rc, err := c.SyscallConn(); err == nil {
		conn.rc = rc
		conn.directFn = conn.directWrite
	}
	go conn.writer()
	return conn
}

// brokenConn stands in for a Conn that could not be created, for
// constructors whose signature has no error.
func brokenConn(err error) *Conn {
	return &Conn{broken: err}
}

// Send marshals v and queues it. It returns ErrReserved for a top-level
// "cmd" starting with "NODE_", ErrQueueFull when the queue is at its bound.
func (c *Conn) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ipc: send: %w", err)
	}
	// json.Marshal output is valid and compact, but the cmd check still
	// needs the scan.
	info, ok := scanJSON(b)
	if !ok {
		return fmt.Errorf("ipc: send: %w", ErrInvalidJSON)
	}
	if cmdIsInternal(info.cmd) {
		return fmt.Errorf("ipc: send: %w", ErrReserved)
	}
	return c.enqueue(b)
}

// SendRaw queues msg, which must be exactly one JSON value. Whitespace is
// compacted away so the message is one line; anything else is refused with
// ErrInvalidJSON before a byte is written, because a single invalid line
// crashes a Node child. A top-level "cmd" starting with "NODE_" is refused
// with ErrReserved. msg is copied; the caller may reuse it.
func (c *Conn) SendRaw(msg []byte) error {
	info, ok := scanJSON(msg)
	if !ok {
		return fmt.Errorf("ipc: send raw: %w", ErrInvalidJSON)
	}
	if cmdIsInternal(info.cmd) {
		return fmt.Errorf("ipc: send raw: %w", ErrReserved)
	}
	if info.ws {
		var buf bytes.Buffer
		buf.Grow(len(msg))
		if err := json.Compact(&buf, msg); err != nil {
			return fmt.Errorf("ipc: send raw: compact: %w", err)
		}
		msg = buf.Bytes()
	}
	return c.enqueue(msg)
}

// enqueue appends one compact, validated message to the outbound queue.
func (c *Conn) enqueue(msg []byte) error {
	if c.broken != nil {
		return c.broken
	}
	c.wmu.Lock()
	if err := c.refuseLocked(len(msg) + 1); err != nil {
		c.wmu.Unlock()
		return err
	}
	c.wq = append(c.wq, msg...)
	c.wq = append(c.wq, '\n')
	c.wqN++
	c.enqueued++
	if c.idle && c.wqN == 1 && c.clearLocked() && c.tryDirect() {
		c.wmu.Unlock()
		return nil
	}
	// Only an idle writer needs a wake-up: a busy one comes back for the
	// queue after its write, which is what batches a burst into one write.
	wake := c.kickLocked()
	c.wmu.Unlock()
	if wake {
		c.wake <- struct{}{}
	}
	return nil
}

// refuseLocked is enqueue's admission check for a message of n bytes
// (newline included), counting a refusal as dropped.
func (c *Conn) refuseLocked(n int) error {
	switch {
	case c.closed:
		return ErrClosed
	case c.werr != nil:
		return c.werr
	case n > c.opts.QueueBytes:
		c.dropped++
		return fmt.Errorf("ipc: message of %d bytes: %w", n-1, ErrTooLarge)
	case c.wqN+len(c.fdq) >= c.opts.QueueLen || len(c.wq)+n > c.opts.QueueBytes:
		c.dropped++
		return ErrQueueFull
	}
	return nil
}

// clearLocked reports whether nothing but wq is pending, so an inline write
// of wq cannot overtake anything.
func (c *Conn) clearLocked() bool {
	return len(c.head) == 0 && len(c.ctl) == 0 && len(c.fdq) == 0 && c.awaiting == nil && c.resend == nil
}

// writableLocked reports whether the writer has something it may write now.
func (c *Conn) writableLocked() bool {
	return len(c.head) > 0 || len(c.ctl) > 0 || c.resend != nil ||
		(c.awaiting == nil && (c.wqN > 0 || len(c.fdq) > 0))
}

// kickLocked claims the wake-up of an idle writer that has work; the caller
// sends on c.wake after unlocking.
func (c *Conn) kickLocked() bool {
	if c.idle && c.writableLocked() {
		c.idle = false
		return true
	}
	return false
}

// enqueueCtl queues an ACK/NACK reply ahead of everything else, writing it
// at once when the writer is idle. Replies may exceed nothing but
// internalSlack: refusing an ACK would stall a Node peer for good, while
// the bound keeps a peer that spams NODE_HANDLE and never reads from
// growing it without limit.
func (c *Conn) enqueueCtl(line []byte) {
	c.wmu.Lock()
	if c.closed || c.werr != nil || c.ctlN >= internalSlack {
		c.wmu.Unlock()
		return
	}
	if c.idle && len(c.head) == 0 && len(c.ctl) == 0 && c.rc != nil {
		c.directBuf, c.directN, c.directErr = line, 0, nil
		err := c.rc.Write(c.directFn)
		n := c.directN
		c.directBuf = nil
		if err == nil && c.directErr == nil && n == len(line) {
			c.wmu.Unlock()
			return
		}
		if err == nil && c.directErr == nil && n > 0 {
			c.head = append(c.head[:0], line[n:]...)
			c.headN = 0
			line = nil
		}
	}
	if line != nil {
		c.ctl = append(c.ctl, line...)
		c.ctlN++
	}
	wake := c.kickLocked()
	c.wmu.Unlock()
	if wake {
		c.wake <- struct{}{}
	}
}

// tryDirect writes the single queued message from the caller's goroutine
// when that is likely a lone message (a reply, or the first after a quiet
// spell). Waking the writer goroutine costs a thread wake-up, often on the
// other CPU, which dominated round-trip latency; a non-blocking write(2)
// does not. It never waits: whatever the socket does not take right away
// stays queued for the writer. Called with wmu held and the writer idle, so
// writes cannot interleave. Reports whether the queue is now empty.
func (c *Conn) tryDirect() bool {
	if c.rc == nil {
		return false
	}
	if !c.replyHint.Swap(false) {
		now := time.Now()
		if now.Sub(c.lastDirect) < directQuiet {
			return false
		}
		c.lastDirect = now
	} else {
		c.lastDirect = time.Now()
	}
	c.directBuf, c.directN, c.directErr = c.wq, 0, nil
	if err := c.rc.Write(c.directFn); err != nil || c.directErr != nil || c.directN <= 0 {
		return false // the writer retries and reports any error
	}
	c.directBuf = nil
	if c.directN < len(c.wq) {
		// The rest of this line must go before anything else (an ACK).
		c.head = append(c.head[:0], c.wq[c.directN:]...)
		c.headN = 1
		c.wq, c.wqN = c.wq[:0], 0
		return false
	}
	c.wq, c.wqN = c.wq[:0], 0
	c.sent++
	c.lastSend.Store(c.lastDirect.UnixNano())
	return true
}

// directWrite is the RawConn callback: one non-blocking write attempt,
// never a wait for writability (it always reports done).
func (c *Conn) directWrite(fd uintptr) bool {
	n, err := syscall.Write(int(fd), c.directBuf)
	c.directN, c.directErr = n, err
	return true
}

// writer drains the queue, one write(2) per batch of everything queued, in
// this order: the rest of a line begun inline, ACK/NACK replies, a NACKed
// handle to resend, then the queue up to and including its first handle
// (unless a handle still waits for its ACK).
func (c *Conn) writer() {
	defer close(c.writerDone)
	var pre []byte
	for {
		c.wmu.Lock()
		for !c.closed && !c.writableLocked() {
			c.idle = true
			c.wmu.Unlock()
			<-c.wake
			c.wmu.Lock()
		}
		if c.closed {
			c.wmu.Unlock()
			return
		}
		pre = append(append(pre[:0], c.head...), c.ctl...)
		preN := c.headN
		c.head, c.headN, c.ctl, c.ctlN = c.head[:0], 0, c.ctl[:0], 0
		var batch []byte
		var n int
		h := c.resend
		c.resend = nil
		if h == nil && c.awaiting == nil {
			if len(c.fdq) > 0 {
				h = c.fdq[0]
				c.fdq = c.fdq[1:]
				batch, n = c.wq[:h.pos], h.posN
				c.wq = append(c.spare[:0], c.wq[h.pos:]...)
				c.wqN -= n
				for _, o := range c.fdq {
					o.pos -= h.pos
					o.posN -= n
				}
			} else {
				batch, n = c.wq, c.wqN
				c.wq, c.wqN = c.spare[:0], 0
			}
			c.spare = nil
		}
		if h != nil {
			c.awaiting = h // from now on nothing else of the queue goes out
		}
		c.inflight = n + preN
		c.wmu.Unlock()

		var err error
		if len(pre) > 0 {
			_, err = c.uc.Write(pre)
		}
		if err == nil && len(batch) > 0 {
			_, err = c.uc.Write(batch)
		}
		if err == nil && h != nil {
			err = c.writeHandle(h)
		}
		if cap(pre) > keepWriteBuf {
			pre = nil
		}

		c.wmu.Lock()
		c.inflight = 0
		if batch != nil && cap(batch) <= keepWriteBuf {
			c.spare = batch[:0]
		}
		if c.flushWait != nil {
			close(c.flushWait)
			c.flushWait = nil
		}
		if err != nil {
			c.dropped += uint64(n + preN + c.wqN)
			c.wq, c.wqN = nil, 0
			if c.closed {
				err = ErrClosed
			}
			c.werr = fmt.Errorf("ipc: write: %w", err)
			failed := c.takeHandlesLocked()
			c.wmu.Unlock()
			failHandles(failed, c.werr)
			return
		}
		c.sent += uint64(n + preN)
		if h != nil {
			if h.tries == 0 {
				c.sent++
			}
			h.written = true
			if h.answer != 0 {
				c.settleLocked(h) // unlocks
				continue
			}
		}
		c.wmu.Unlock()
	}
}

// Flush waits until every message queued before the call has been handed to
// the kernel, or the connection fails, or ctx is done. Close discards what
// is still queued, so call Flush first for a graceful shutdown.
func (c *Conn) Flush(ctx context.Context) error {
	if c.broken != nil {
		return c.broken
	}
	c.wmu.Lock()
	target := c.enqueued
	for c.sent < target {
		if c.werr != nil {
			err := c.werr
			c.wmu.Unlock()
			return err
		}
		if c.closed {
			c.wmu.Unlock()
			return ErrClosed
		}
		if c.flushWait == nil {
			c.flushWait = make(chan struct{})
		}
		ch := c.flushWait
		c.wmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ipc: flush: %w", ctx.Err())
		}
		c.wmu.Lock()
	}
	c.wmu.Unlock()
	return nil
}

// Recv blocks for the next message. It returns a *LineError for a skipped
// line (keep calling Recv), io.EOF when the peer closed its end
// (disconnected), ErrClosed after Close. A NODE_HANDLE message is answered
// with NODE_HANDLE_ACK (or NODE_HANDLE_NACK when no descriptor came) before
// it is returned, so a Node peer's later messages never stall on it.
//
// When this end sent a message just before, Recv polls for the answer for
// up to Options.Spin before parking the goroutine (see spin).
func (c *Conn) Recv() (Message, error) {
	if c.broken != nil {
		return Message{}, c.broken
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		line, lerr, ok := c.fr.next()
		if ok {
			if lerr != nil {
				c.lineErrors.Add(1)
				return Message{}, lerr
			}
			m, err := c.decode(line)
			if err == errConsumed {
				continue
			}
			if err == nil && c.fr.r == c.fr.w {
				c.replyHint.Store(true)
			}
			return m, err
		}
		c.spin()
		n, oobn, _, _, err := c.uc.ReadMsgUnix(c.fr.space(), c.oob)
		if oobn > 0 {
			c.takeFDs(c.oob[:oobn])
		}
		c.fr.advance(n)
		if err != nil {
			if n > 0 {
				continue // deliver what came with the error first
			}
			if errors.Is(err, io.EOF) {
				return Message{}, io.EOF
			}
			if c.isClosed() {
				return Message{}, ErrClosed
			}
			return Message{}, fmt.Errorf("ipc: recv: %w", err)
		}
	}
}

// spin polls for readable data for up to Options.Spin before Recv parks,
// when this end has just sent a message and so likely waits for a reply.
// Parking means the peer's write must wake this thread, and on a
// virtualised 2-CPU machine a cross-CPU wake-up of an idle CPU costs tens
// of microseconds, several times a Go peer's whole reply time. Failed spins
// back off exponentially, so a peer that does not answer promptly costs at
// most a few spins.
func (c *Conn) spin() {
	if c.opts.Spin < 0 || c.rc == nil {
		return
	}
	if c.spinSkip > 0 {
		c.spinSkip--
		return
	}
	start := time.Now()
	if start.UnixNano()-c.lastSend.Load() > int64(c.opts.Spin) {
		return
	}
	ready := false
	_ = c.rc.Control(func(fd uintptr) {
		for {
			n, err := inq(int(fd))
			if err != nil || n > 0 {
				ready = true // data, or an error for the real read to report
				return
			}
			if time.Since(start) > c.opts.Spin {
				return
			}
		}
	})
	if ready {
		c.spinBackoff = 0
		return
	}
	c.spinBackoff = min(2*c.spinBackoff+1, 64)
	c.spinSkip = c.spinBackoff
}

// decode turns one line into a Message.
func (c *Conn) decode(line []byte) (Message, error) {
	info, ok := scanJSON(line)
	if !ok {
		c.lineErrors.Add(1)
		return Message{}, newLineError(line, len(line), ErrInvalidJSON)
	}
	if cmdIs(info.cmd, "NODE_HANDLE_ACK") || cmdIs(info.cmd, "NODE_HANDLE_NACK") {
		// The answer to a handle this end sent: the sender's business, not
		// a message (Node does not emit it either).
		c.handleAnswered(cmdIs(info.cmd, "NODE_HANDLE_ACK"))
		return Message{}, errConsumed
	}
	m := Message{Raw: append(json.RawMessage(nil), line...), Internal: cmdIsInternal(info.cmd)}
	if m.Internal && cmdIs(info.cmd, "NODE_HANDLE") {
		// Node sends one handle at a time and waits for the answer, so the
		// oldest unclaimed descriptor belongs to this line.
		reply := nackLine
		if len(c.fds) > 0 {
			m.Handle = os.NewFile(uintptr(c.fds[0]), "ipc-handle")
			c.fds = c.fds[1:]
			reply = ackLine
		}
		// Best effort, like Node's own ACK: a closed or failed channel is
		// reported by the next Send or Recv anyway.
		c.enqueueCtl(reply)
	}
	c.received.Add(1)
	return m, nil
}

// takeFDs collects descriptors from SCM_RIGHTS control messages.
func (c *Conn) takeFDs(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if c.dropFD > 0 || len(c.fds) >= maxPendingFDs {
				if c.dropFD > 0 {
					c.dropFD--
				}
				syscall.Close(fd)
				continue
			}
			c.fds = append(c.fds, fd)
		}
	}
}

func (c *Conn) isClosed() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.closed
}

// Stats returns the Conn's counters.
func (c *Conn) Stats() Stats {
	s := Stats{Received: c.received.Load(), LineErrors: c.lineErrors.Load()}
	if c.broken != nil {
		return s
	}
	c.wmu.Lock()
	s.Sent, s.Dropped = c.sent, c.dropped
	s.Queued = uint64(c.wqN + c.headN + len(c.fdq) + c.inflight)
	c.wmu.Unlock()
	return s
}

// Close shuts the socket at once: queued messages not yet written are
// dropped (Flush first to deliver them), a blocked Recv returns ErrClosed,
// and descriptors received but never claimed are closed.
func (c *Conn) Close() error {
	if c.broken != nil {
		return nil // nothing was opened
	}
	c.closeOnce.Do(func() {
		c.wmu.Lock()
		c.closed = true
		c.dropped += uint64(c.wqN + c.headN)
		c.wq, c.wqN, c.head, c.headN = nil, 0, nil, 0
		failed := c.takeHandlesLocked()
		wake := c.idle
		c.idle = false
		c.wmu.Unlock()
		if wake {
			c.wake <- struct{}{}
		}
		// The handles' owners get their descriptors back only once the
		// writer has stopped: it may be sending one right now.
		// Closing the socket also unblocks a writer stuck on a peer that
		// never reads.
		if err := c.uc.Close(); err != nil {
			c.closeErr = fmt.Errorf("ipc: close: %w", err)
		}
		<-c.writerDone
		failHandles(failed, ErrClosed)
		c.rmu.Lock()
		for _, fd := range c.fds {
			syscall.Close(fd)
		}
		c.fds = nil
		c.rmu.Unlock()
	})
	return c.closeErr
}
