package procs

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// releaseGrace is how long the pipes of an ended run are still read for
// output written last (by the group being killed, or by an escaped descendant
// still holding them) before they are closed regardless.
const releaseGrace = 2 * time.Second

// maxReaders caps the reader threads: all units' pipes share them.
const maxReaders = 4

// readers reads every unit's output pipes on a fixed, small set of OS threads,
// whatever the number of units. Each thread runs its own epoll instance
// (level-triggered, used directly, not Go's netpoller) over its share of the
// pipes. A pipe that reads short (its child writes line by line) leaves epoll
// and is read once after each pause of a millisecond, so the child's writes
// gather in the pipe buffer without waking anyone (see readLoop.run). A run's pipes are released
// when its process has been reaped: read until EOF, or closed after a grace
// period if an escaped descendant still holds them, so no run leaves a
// descriptor behind.
type readers struct {
	loops []*readLoop
	wg    sync.WaitGroup
}

// readLoop is one reader thread and its epoll instance.
type readLoop struct {
	epfd int
	wake int // eventfd: tells the thread to look at pending releases or close

	mu       sync.Mutex
	pipes    map[int32]*outPipe // every open pipe of this loop, by descriptor
	released []*outPipe         // released since the thread last looked
	closing  bool
	closeBy  time.Time // when closing: the last moment to wait for EOF
}

// outPipe is the read end of one output pipe of one run. fd, loop and pump
// are fixed, grace is set under loop.mu, and the rest is touched only by the
// loop's thread.
type outPipe struct {
	fd       int
	loop     *readLoop
	pump     *pump
	grace    time.Duration // read for this long after release
	deadline time.Time     // zero until released
	closed   bool
}

// newReaders starts n reader threads (n < 1: min(maxReaders, GOMAXPROCS)).
func newReaders(n int) (*readers, error) {
	if n < 1 {
		n = min(maxReaders, runtime.GOMAXPROCS(0))
	}
	rd := &readers{}
	for range n {
		l, err := newReadLoop()
		if err != nil {
			rd.close(0)
			return nil, err
		}
		rd.loops = append(rd.loops, l)
		rd.wg.Add(1)
		go func() { defer rd.wg.Done(); l.run() }()
	}
	return rd, nil
}

func newReadLoop() (*readLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("output readers: epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("output readers: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil, fmt.Errorf("output readers: watch eventfd: %w", err)
	}
	return &readLoop{epfd: epfd, wake: wake, pipes: make(map[int32]*outPipe)}, nil
}

// newOutputPipe makes a pipe for a child's stdout or stderr: the write end
// (blocking, as children expect) as a File to hand to the child, the read end
// as a raw non-blocking descriptor for add, never seen by Go's netpoller.
// Both are close-on-exec.
func newOutputPipe() (r int, w *os.File, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return -1, nil, err
	}
	// O_NONBLOCK belongs to the read end's open file description only; the
	// child's end stays blocking.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, nil, err
	}
	// A bigger buffer lets a child that writes in bursts (or line by line
	// while its reader pauses) go on without waiting for kelpie. Failure (a
	// per-user limit) only means a smaller buffer.
	_, _ = unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, pipeSize)
	return fds[0], os.NewFile(uintptr(fds[1]), "|1"), nil
}

// add starts reading fd (a non-blocking read end) into p; the readers own fd
// from now on. It goes to the thread with the fewest pipes.
func (rd *readers) add(fd int, p *pump) (*outPipe, error) {
	var l *readLoop
	least := -1
	for _, c := range rd.loops {
		c.mu.Lock()
		n := len(c.pipes)
		c.mu.Unlock()
		if least < 0 || n < least {
			l, least = c, n
		}
	}
	op := &outPipe{fd: fd, loop: l, pump: p}
	l.mu.Lock()
	// Checked under the lock the thread takes before it ends (closing and
	// no pipes left), so a pipe is never handed to a thread that has gone.
	closing := l.closing
	if !closing {
		l.pipes[int32(fd)] = op
	}
	l.mu.Unlock()
	if closing {
		unix.Close(fd)
		return nil, errors.New("output readers are shut down")
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.mu.Lock()
		delete(l.pipes, int32(fd))
		l.mu.Unlock()
		unix.Close(fd)
		return nil, fmt.Errorf("watch output pipe: %w", err)
	}
	return op, nil
}

// release says the run that writes into these pipes has ended: each is read
// until EOF, or for grace at most, then closed, whoever still holds its
// write end.
func (rd *readers) release(grace time.Duration, pipes ...*outPipe) {
	for _, op := range pipes {
		if op == nil {
			continue
		}
		l := op.loop
		l.mu.Lock()
		op.grace = grace
		l.released = append(l.released, op)
		l.mu.Unlock()
		l.poke()
	}
}

// open counts the pipes still being read.
func (rd *readers) open() int {
	n := 0
	for _, l := range rd.loops {
		l.mu.Lock()
		n += len(l.pipes)
		l.mu.Unlock()
	}
	return n
}

// close reads every pipe until EOF or for grace at most, closes them all, and
// ends the reader threads. It waits for that.
func (rd *readers) close(grace time.Duration) {
	by := time.Now().Add(grace)
	for _, l := range rd.loops {
		l.mu.Lock()
		if !l.closing {
			l.closing, l.closeBy = true, by
		}
		l.mu.Unlock()
		l.poke()
	}
	rd.wg.Wait()
}

func (l *readLoop) poke() {
	var one = [8]byte{1} // the eventfd counter is a native-endian uint64; any nonzero value wakes
	_, _ = unix.Write(l.wake, one[:])
}

// run is the reader thread. It holds its OS thread for life (the goroutine
// exits locked, so the thread ends with it) and blocks in epoll_wait when no
// pipe has anything to read, so idle units cost no CPU.
func (l *readLoop) run() {
	runtime.LockOSThread()
	buf := make([]byte, readSize)
	events := make([]unix.EpollEvent, 256)
	var draining []*outPipe // released pipes waiting for EOF or their deadline
	// hot are the pipes that gave a short read last round: their writers are
	// writing in small pieces. They are out of epoll and read once after
	// every pause, like the blocking reader of a thread per pipe would: in
	// epoll, every single write to a pipe runs epoll's wake-up callback
	// (since Linux 5.5, on a pipe that was ever polled) and costs the writer.
	// A hot pipe that had nothing after a pause goes back into epoll.
	var hot []*outPipe
	var ebuf [8]byte
	for {
		timeout := -1
		switch {
		case len(hot) > 0:
			timeout = 0 // the pause was the wait
		case len(draining) > 0:
			first := draining[0].deadline
			for _, op := range draining[1:] {
				if op.deadline.Before(first) {
					first = op.deadline
				}
			}
			// Round up: waking a hair early would only spin.
			timeout = max(0, int((time.Until(first)+time.Millisecond-1)/time.Millisecond))
		}
		n, err := unix.EpollWait(l.epfd, events, timeout)
		if err != nil && err != unix.EINTR {
			// Cannot happen with a valid epfd and buffer; give up on every
			// pipe rather than spin.
			l.mu.Lock()
			l.closing, l.closeBy = true, time.Time{}
			l.mu.Unlock()
			n = 0
		}
		full := false
		// Hot pipes first: they are out of epoll and read once a round.
		kept := hot[:0]
		for _, op := range hot {
			if op.closed { // drained at its deadline
				continue
			}
			r := l.readOnce(op, buf)
			switch {
			case op.closed:
			case r == 0:
				// Nothing came during the pause: the writer has gone
				// quiet, and epoll watches the pipe again (level-
				// triggered, so what arrives meanwhile is not missed).
				ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(op.fd)}
				if unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, op.fd, &ev) != nil {
					kept = append(kept, op) // cannot happen; keep polling it
				}
			default:
				full = full || r >= len(buf)/2
				kept = append(kept, op)
			}
		}
		clear(hot[len(kept):])
		hot = kept
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) == l.wake {
				_, _ = unix.Read(l.wake, ebuf[:])
				continue
			}
			l.mu.Lock()
			op := l.pipes[ev.Fd]
			l.mu.Unlock()
			if op == nil {
				continue
			}
			switch r := l.readOnce(op, buf); {
			case op.closed:
			case r >= len(buf)/2:
				full = true // level-triggered: reported again
			case r > 0:
				// A short read: the child writes in small pieces. Take
				// the pipe out of epoll while it keeps writing (see hot).
				if unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, op.fd, nil) == nil {
					hot = append(hot, op)
				}
			}
		}

		l.mu.Lock()
		rel := l.released
		l.released = nil
		closing, closeBy := l.closing, l.closeBy
		var all []*outPipe
		if closing {
			all = make([]*outPipe, 0, len(l.pipes))
			for _, op := range l.pipes {
				all = append(all, op)
			}
		}
		l.mu.Unlock()
		now := time.Now()
		for _, op := range rel {
			if !op.closed && op.deadline.IsZero() {
				op.deadline = now.Add(op.grace)
				draining = append(draining, op)
			}
		}
		for _, op := range all {
			if op.deadline.IsZero() {
				op.deadline = closeBy
				draining = append(draining, op)
			} else if closeBy.Before(op.deadline) {
				op.deadline = closeBy
			}
		}
		dkept := draining[:0]
		for _, op := range draining {
			switch {
			case op.closed:
			case !now.Before(op.deadline):
				l.drain(op, buf)
			default:
				dkept = append(dkept, op)
			}
		}
		clear(draining[len(dkept):])
		draining = dkept

		if closing && len(draining) == 0 && len(hot) == 0 {
			l.mu.Lock()
			empty := len(l.pipes) == 0
			l.mu.Unlock()
			if empty {
				unix.Close(l.wake)
				unix.Close(l.epfd)
				return
			}
		}
		if len(hot) > 0 && !full {
			// Only short reads: kelpie is keeping up with its children
			// write by write, woken by each. Pausing lets their output
			// gather in the (large) pipe buffers instead: a child then
			// writes without waking anyone, and one read takes a thousand
			// lines. One pause serves every pipe of this thread, and a
			// millisecond of delay is nothing in a log.
			time.Sleep(coalesce)
		}
	}
}

// readOnce reads what op has (one read) into its pump, and finishes op at
// EOF or on a read error. It returns the bytes read.
func (l *readLoop) readOnce(op *outPipe, buf []byte) int {
	for {
		n, err := unix.Read(op.fd, buf)
		switch {
		case n > 0:
			op.pump.feed(buf[:n], time.Now(), false)
			return n
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0
		default:
			// EOF, or an error, which ends the pipe alike; the process's
			// exit is reported by the reaper, not here.
			l.finish(op)
			return 0
		}
	}
}

// drain reads what is left in a released pipe whose grace is over, without
// waiting for more, and finishes it.
func (l *readLoop) drain(op *outPipe, buf []byte) {
	// Bounded: a writer that keeps the pipe full must not keep the thread.
	for range 8 {
		if l.readOnce(op, buf) == 0 {
			break
		}
	}
	l.finish(op)
}

// finish stores the unfinished last line, stops watching op and closes it.
func (l *readLoop) finish(op *outPipe) {
	if op.closed {
		return
	}
	op.closed = true
	if len(op.pump.partial) > 0 {
		op.pump.feed(nil, time.Now(), true)
	}
	// Out of epoll before close, so no stale event can name a descriptor
	// number that is reused meanwhile.
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, op.fd, nil)
	l.mu.Lock()
	delete(l.pipes, int32(op.fd))
	l.mu.Unlock()
	unix.Close(op.fd)
}
