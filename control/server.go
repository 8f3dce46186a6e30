package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/procs"
)

// Bounds on what clients can make kelpie hold. A client is the same user, but
// a runaway script must not be able to exhaust kelpie's memory, descriptors
// or shutdown.
const (
	// maxRequest bounds one request line, and so the largest `kelpie send`
	// message (a little less, for the envelope). 64 connections times this
	// is the most request memory clients can pin.
	maxRequest = 1 << 20
	// maxConns bounds the connections served at once; one more is answered
	// with a one-line error and closed, not queued.
	maxConns = 64
	// requestTimeout is how long a client has to send its request line.
	requestTimeout = 10 * time.Second
	// writeTimeout is how long one response line may wait for a client that
	// does not read: past it the connection is dropped (a `logs --follow`
	// reader stopped for that long loses its stream, not kelpie its time).
	writeTimeout = 30 * time.Second
	// closeWait bounds how long Close waits for the handlers to return.
	closeWait = 5 * time.Second
)

// errTooLarge is what readRequest returns for a line over the limit.
var errTooLarge = fmt.Errorf("request too large: over %d bytes (1 MiB)", maxRequest)

// Engine is what the server drives: the one engine interface, which a
// *procs.Supervisor implements (and Client, over the socket, too).
type Engine = procs.Engine

// AlreadyRunningError says another kelpie holds the socket.
type AlreadyRunningError struct{ Path string }

func (e *AlreadyRunningError) Error() string {
	return "kelpie is already running for this config (control socket " + e.Path + ")"
}

// fileID identifies a file by device and inode, so kelpie removes only the
// very socket and lock it made, never whatever took their names since.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: st.Ino}
	}
	return fileID{}
}

// Server serves the control socket.
type Server struct {
	eng  Engine
	path string
	ln   *net.UnixListener
	lock *os.File
	// sock and lockID are the identities of the files Listen made or claimed.
	sock, lockID fileID
	// Down is called (once, in its own goroutine) when a client asks for `down`.
	Down func()

	// uid is the only user let in (checked with SO_PEERCRED on every
	// connection): the server's own. Root is not let in either; a root
	// client can use `sudo -u`. Tests change it to see a stranger refused.
	uid int
	// maxConns is maxConns; tests lower it.
	maxConns int
	// read counts the request bytes read from clients (tests check the bound).
	read atomic.Int64

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	once      sync.Once
	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	conns  map[*net.UnixConn]struct{}
	closed bool
	// streams are the subscribe connections: Close gives them streamGrace
	// to send the last events (the units' final states) before it hangs up.
	streams map[*net.UnixConn]bool
	swg     sync.WaitGroup
}

// Listen claims path for this kelpie: a lock file beside it makes the claim
// race-free, a socket left by a crashed kelpie is replaced, and one held by a
// live kelpie gives *AlreadyRunningError. Nothing that is not a socket is ever
// removed: a regular file, directory, symlink or anything else at path is
// refused with an error naming it, and so is anything but a regular file at
// path+".lock" (opened without following symlinks). The socket is mode 0600.
func Listen(path string) (*Server, error) {
	// Refuse before making anything, so a typo (--socket kelpie.yaml) leaves
	// no lock file behind either.
	if err := checkSocketPath(path); err != nil {
		return nil, err
	}
	lock, lockID, created, err := claimLock(path + ".lock")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		if created {
			removeIfSame(lock.Name(), lockID)
		}
		lock.Close()
		return nil, err
	}
	// We hold the lock, so a socket there was left by a dead kelpie; still,
	// remove it only if it is a socket nothing answers on.
	if err := removeStaleSocket(path); err != nil {
		return fail(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fail(fmt.Errorf("control socket: %w", err))
	}
	// Close removes the socket itself, after checking it is still ours.
	ln.SetUnlinkOnClose(false)
	fi, err := os.Lstat(path)
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	if err != nil {
		ln.Close()
		return fail(fmt.Errorf("control socket mode: %w", err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		path: path, ln: ln, lock: lock, sock: idOf(fi), lockID: lockID,
		uid: os.Geteuid(), maxConns: maxConns,
		ctx: ctx, cancel: cancel, conns: make(map[*net.UnixConn]struct{}),
	}, nil
}

// checkSocketPath refuses a path that holds anything but a socket.
func checkSocketPath(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("control socket: %w", err)
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("control socket %s is %s, not a socket; refusing to replace it", path, kind(fi.Mode()))
	}
	return nil
}

// removeStaleSocket removes the socket at path if it is one that nothing
// answers on (ECONNREFUSED). Anything else there is refused.
func removeStaleSocket(path string) error {
	if err := checkSocketPath(path); err != nil {
		return err
	}
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	for deadline := time.Now().Add(forkGrace); err == nil && time.Now().Before(deadline); {
		// Answered, yet we hold the lock: maybe a dead kelpie's child
		// caught between fork and exec (see forkGrace). Look again.
		c.Close()
		time.Sleep(5 * time.Millisecond)
		c, err = net.DialTimeout("unix", path, time.Second)
	}
	switch {
	case err == nil:
		c.Close()
		// A listener that does not hold our lock: not ours to take over.
		return &AlreadyRunningError{Path: path}
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("control socket %s: %w; refusing to replace it", path, errors.Unwrap(err))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale control socket: %w", err)
	}
	return nil
}

// claimLock opens (making it if needed) the lock file at p without following
// symlinks and takes an exclusive flock on it. created says whether this
// call made the file.
func claimLock(p string) (f *os.File, id fileID, created bool, err error) {
	// A lock file that a kelpie removes on its way out may vanish between
	// our open and our flock; then the lock we hold is on a file nobody else
	// can find. Retry a few times on a fresh file.
	for range 3 {
		if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
			return nil, fileID{}, false, fmt.Errorf("control socket lock %s is %s, not a regular file; refusing to use it", p, kind(fi.Mode()))
		}
		const flags = os.O_RDWR | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
		created = true
		f, err = os.OpenFile(p, flags|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			created = false
			f, err = os.OpenFile(p, flags, 0)
		}
		if errors.Is(err, syscall.ELOOP) {
			return nil, fileID{}, false, fmt.Errorf("control socket lock %s is a symlink; refusing to follow it", p)
		}
		if errors.Is(err, os.ErrNotExist) {
			continue // removed between the two opens
		}
		if err != nil {
			return nil, fileID{}, false, fmt.Errorf("control socket lock: %w", err)
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, fileID{}, false, fmt.Errorf("control socket lock %s is not a regular file; refusing to use it", p)
		}
		id = idOf(fi)
		if err := flockGrace(f); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fileID{}, false, &AlreadyRunningError{Path: p[:len(p)-len(".lock")]}
			}
			return nil, fileID{}, false, fmt.Errorf("control socket lock %s: %w", p, err)
		}
		if now, err := os.Lstat(p); err == nil && idOf(now) == id {
			return f, id, created, nil
		}
		f.Close()
	}
	return nil, fileID{}, false, fmt.Errorf("control socket lock %s keeps being replaced; is another kelpie starting and stopping?", p)
}

// forkGrace is how long a busy lock, or an answer on a socket we hold the
// lock of, is given to go away before another kelpie is said to be running.
// A kelpie killed while it was starting a unit leaves that child, caught
// between fork and exec, with copies of all its descriptors (the lock and
// the listener among them) for a moment after the kelpie itself is gone:
// `kill -9` and an immediate `kelpie up` met it about one time in ten.
const forkGrace = 250 * time.Millisecond

// flockGrace takes an exclusive flock on f, waiting up to forkGrace for a
// holder to go.
func flockGrace(f *os.File) error {
	deadline := time.Now().Add(forkGrace)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// removeIfSame removes p only if it is still the file identified by id.
func removeIfSame(p string, id fileID) {
	if fi, err := os.Lstat(p); err == nil && idOf(fi) == id {
		_ = os.Remove(p)
	}
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers clients with eng until Close. Run it in its own goroutine.
func (s *Server) Serve(eng Engine) {
	s.eng = eng
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			// Out of descriptors, say: wait a moment rather than spin or
			// leave the socket unserved for good.
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if !s.admit(c) {
			continue
		}
		go func() {
			defer s.release(c)
			s.handle(c)
		}()
	}
}

// admit checks who is calling and whether there is room, and registers c.
// A refused connection gets a one-line error and is closed at once.
func (s *Server) admit(c *net.UnixConn) bool {
	uid, err := peerUID(c)
	if err != nil {
		refuse(c, "cannot tell who is connecting: "+err.Error())
		return false
	}
	if uid != s.uid {
		refuse(c, fmt.Sprintf("permission denied: this kelpie serves only uid %d", s.uid))
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	if len(s.conns) >= s.maxConns {
		refuse(c, fmt.Sprintf("kelpie is busy: %d control connections are open; try again", len(s.conns)))
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) release(c *net.UnixConn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// refuse answers c with one error line and closes it. It runs on the
// accept loop, so it never waits: one non-blocking write, which a new
// connection's empty socket buffer always takes. (A write deadline of its
// own, as before, could expire while the goroutine waited for a CPU on a
// busy machine, and then nothing was written at all.)
func refuse(c *net.UnixConn, msg string) {
	line, _ := json.Marshal(Response{Error: msg})
	line = append(line, '\n')
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Write(func(fd uintptr) bool {
			_, _ = unix.Write(int(fd), line)
			return true
		})
	}
	c.Close()
}

// peerUID is the user id of the process at the other end of c.
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	return int(cred.Uid), nil
}

// Close stops serving, closes every client connection (so no client, however
// slow, holds kelpie up), waits up to closeWait for the handlers, and removes
// the socket and the lock file if they are still the ones Listen made.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.closeErr = s.ln.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			if !s.streams[c] {
				c.Close()
			}
		}
		s.mu.Unlock()
		s.waitStreams()
		done := make(chan struct{})
		go func() {
			s.wg.Wait()
			close(done)
		}()
		t := time.NewTimer(closeWait)
		select {
		case <-done:
		case <-t.C:
			// A handler stuck in the engine: it ends with its closed
			// connection; kelpie need not wait for it to exit.
		}
		t.Stop()
		removeIfSame(s.path, s.sock)
		// Lock files are always empty; a non-empty one is someone's file.
		if fi, err := s.lock.Stat(); err == nil && fi.Size() == 0 {
			removeIfSame(s.lock.Name(), s.lockID)
		}
		s.lock.Close()
	})
	return s.closeErr
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// readRequest reads one request line (without its newline; a last line
// without one is taken whole at EOF) of at most limit bytes. It reads at most
// limit plus one buffer (4 KiB) from r and holds no more than that: a longer
// line gives errTooLarge.
func readRequest(r io.Reader, limit int) ([]byte, error) {
	br := bufio.NewReaderSize(r, 4096)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if len(line)+len(chunk) > limit {
			return nil, errTooLarge
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

// decodeRequest parses one request line. It is the protocol's decoder: it
// must take any bytes without panicking (FuzzRequest).
func decodeRequest(line []byte) (Request, error) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Request{}, fmt.Errorf("bad request: %w", err)
	}
	return req, nil
}

func (s *Server) handle(c *net.UnixConn) {
	_ = c.SetReadDeadline(time.Now().Add(requestTimeout))
	line, err := readRequest(countingReader{r: c, n: &s.read}, maxRequest)
	enc := json.NewEncoder(c)
	// Every write has a deadline: a client that stops reading loses its
	// connection instead of holding this goroutine.
	reply := func(r Response) error {
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		return enc.Encode(r)
	}
	if errors.Is(err, errTooLarge) {
		_ = reply(Response{Error: err.Error()})
		return
	}
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	req, err := decodeRequest(line)
	if err != nil {
		_ = reply(Response{Error: err.Error()})
		return
	}
	if err := s.dispatch(c, req, reply); err != nil {
		_ = reply(Response{Error: err.Error(), Code: codeOf(err)})
	}
}

func (s *Server) dispatch(c *net.UnixConn, req Request, reply func(Response) error) error {
	if req.V > ProtocolVersion {
		return fmt.Errorf("this kelpie speaks control protocol version %d, not %d: use a kelpie of the same version", ProtocolVersion, req.V)
	}
	// A group's name stands for its members. Logs resolve it first (a
	// follower of an unknown name would wait for it); the rest try the name
	// as a unit's and only look for a group when there is none.
	one := func(r Request, rep func(Response) error) error { return s.dispatch1(c, r, rep) }
	if req.Cmd == "logs" {
		if members := s.members(req.Name); members != nil {
			return s.onGroup(req, members, reply, one)
		}
	}
	err := s.dispatch1(c, req, reply)
	if errors.Is(err, procs.ErrNotFound) && groupCmd(req.Cmd) {
		if members := s.members(req.Name); members != nil {
			return s.onGroup(req, members, reply, one)
		}
	}
	return err
}

// dispatch1 serves a request on one unit (or none).
func (s *Server) dispatch1(c *net.UnixConn, req Request, reply func(Response) error) error {
	if req.NoWait {
		switch req.Cmd {
		case "start":
			return s.act(req.Name, s.eng.Start, reply)
		case "stop":
			return s.act(req.Name, s.eng.Stop, reply)
		case "restart":
			return s.act(req.Name, s.eng.Restart, reply)
		}
	}
	if handled, err := s.dispatch2(c, req, reply); handled {
		return err
	}
	if handled, err := s.terminals(req, reply); handled {
		return err
	}
	switch req.Cmd {
	case "ps":
		units := s.eng.List()
		if units == nil {
			units = []procs.Info{}
		}
		if req.Threads {
			// The units run on this machine, as this server does.
			units = procs.WithThreads(units, procs.DefaultThreadInterval)
		}
		return reply(Response{OK: true, Units: units})
	case "start":
		return s.actWait(req.Name, s.eng.Start, reply, func(in procs.Info) bool {
			return in.State != procs.Starting && in.State != procs.Stopped
		})
	case "stop":
		return s.actWait(req.Name, s.eng.Stop, reply, func(in procs.Info) bool {
			// A stuck worker is as stopped as it will get: say so now.
			return in.State == procs.Stuck || (!in.State.Live() && in.State != procs.Backoff)
		})
	case "restart":
		// Restart itself returns once the new run is up.
		return s.restart(req.Name, reply)
	case "signal":
		sig, err := procs.ParseSignal(req.Signal)
		if err != nil {
			return err
		}
		return s.act(req.Name, func(n string) error { return s.eng.Signal(n, sig) }, reply)
	case "send":
		return s.act(req.Name, func(n string) error { return s.eng.Send(n, req.Msg) }, reply)
	case "down":
		if err := reply(Response{OK: true, Text: "stopping every unit"}); err != nil {
			return nil
		}
		s.once.Do(func() {
			if s.Down != nil {
				go s.Down()
			}
		})
		// Hang up only when this kelpie closes the socket on its way out,
		// so `kelpie down` returns once everything has stopped.
		<-s.ctx.Done()
		return nil
	case "logs":
		return s.logs(c, req, reply)
	case "messages":
		return s.messages(req, reply)
	case "scale", "reload":
		return s.scale(req, reply)
	}
	return fmt.Errorf("unknown command %q", req.Cmd)
}

func (s *Server) act(name string, f func(string) error, reply func(Response) error) error {
	if name == "" {
		return errors.New("no unit named")
	}
	if err := f(name); err != nil {
		return err
	}
	return reply(Response{OK: true})
}

// actWait does f and answers once the unit's state satisfies done, so that
// `kelpie stop api` returns when api has stopped, like systemctl does.
func (s *Server) actWait(name string, f func(string) error, reply func(Response) error, done func(in procs.Info) bool) error {
	if name == "" {
		return errors.New("no unit named")
	}
	// Subscribe before acting: the change cannot slip between.
	_, sub := s.eng.Subscribe()
	defer sub.Close()
	if err := f(name); err != nil {
		return err
	}
	for _, in := range s.eng.List() {
		if in.Name == name && done(in) {
			return reply(Response{OK: true, Units: []procs.Info{in}})
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	defer cancel()
	for {
		b, err := sub.Next(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", name, err)
		}
		for _, in := range b.States {
			if in.Name == name && done(in) {
				return reply(Response{OK: true, Units: []procs.Info{in}})
			}
		}
	}
}

// restart restarts a unit. Restart itself returns once the new run is up;
// the answer is the unit's state as that run came up (through RestartInfo
// where the engine has it: a concurrent restart may already be stopping it
// again), not whatever a later call made of it.
func (s *Server) restart(name string, reply func(Response) error) error {
	if name == "" {
		return errors.New("no unit named")
	}
	if r, ok := s.eng.(interface {
		RestartInfo(string) (procs.Info, error)
	}); ok {
		in, err := r.RestartInfo(name)
		if err != nil {
			return err
		}
		return reply(Response{OK: true, Units: []procs.Info{in}})
	}
	if err := s.eng.Restart(name); err != nil {
		return err
	}
	for _, in := range s.eng.List() {
		if in.Name == name {
			return reply(Response{OK: true, Units: []procs.Info{in}})
		}
	}
	return reply(Response{OK: true})
}

// logs serves `kelpie logs`: the newest N lines (0: 100; negative: none) of
// one unit (Name), of several (Units) or of every unit (neither), several
// units' merged in time order with each line naming its unit; with Follow,
// then every new line as it comes (every unit's, those added later too, when
// none is named), one write per batch.
func (s *Server) logs(c *net.UnixConn, req Request, _ func(Response) error) error {
	units := req.Units
	if req.Name != "" {
		units = append([]string{req.Name}, units...)
	}
	multi := len(units) != 1
	n := req.N
	if n == 0 {
		n = 100
	}
	// The cursor starts first, with lines to come only, then the history is
	// read: a line written in between is in both, and the cursor skips what
	// the history had. Nothing falls between, nothing comes twice.
	var cur *procs.Cursor
	if req.Follow {
		var err error
		if cur, err = procs.Follow(s.eng, units, 0); err != nil {
			return err
		}
		defer cur.Close()
	}
	names := units
	if len(names) == 0 {
		for _, in := range s.eng.List() {
			names = append(names, in.Name)
		}
	}
	last := make(map[string]uint64, len(names))
	var hist []procs.Line
	for _, u := range names {
		if n < 0 {
			break
		}
		lines, err := s.eng.Tail(u, n)
		if errors.Is(err, procs.ErrNotFound) && len(units) == 0 {
			continue // removed since List
		}
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			last[u] = lines[len(lines)-1].Seq
		}
		for i := range lines {
			if multi {
				lines[i].Unit = u
			}
		}
		hist = append(hist, lines...)
	}
	if multi {
		sort.SliceStable(hist, func(i, j int) bool { return hist[i].Time.Before(hist[j].Time) })
	}
	w := &lineWriter{c: c}
	for _, l := range hist {
		if err := w.line(rawLine{unit: l.Unit, seq: l.Seq, ts: l.Time, stream: l.Stream, text: []byte(l.Text), trunc: l.Truncated}); err != nil {
			return nil // the client hung up or stopped reading
		}
	}
	if err := w.flush(); err != nil || cur == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() { // the client hanging up ends the stream
		_, _ = io.Copy(io.Discard, c)
		cancel()
	}()
	ends := s.followsNamed(units)
	var rb procs.RawBatch
	for {
		if err := cur.NextRaw(ctx, &rb); err != nil {
			return nil
		}
		if err := writeRaw(w, &rb, multi, last); err != nil {
			return nil
		}
		// A removed unit's lines came before its removal; a new unit of
		// its name numbers its lines from 1 again: no history to skip.
		for _, name := range rb.Removed {
			delete(last, name)
		}
		if ends.gone(rb.Removed) {
			// Every unit named has been removed (a member scaled away):
			// say so and end, rather than follow nothing for ever.
			_ = w.put(Response{Event: &Event{Removed: ends.removed}})
			_ = w.flush()
			return nil
		}
		if err := w.flush(); err != nil {
			return nil
		}
	}
}

// writeRaw adds a batch's lines (those after last, per unit) and missed
// counts to w; with multi, each names its unit.
func writeRaw(w *lineWriter, rb *procs.RawBatch, multi bool, last map[string]uint64) error {
	for _, o := range rb.Units {
		unit := ""
		if multi {
			unit = o.Unit
		}
		if o.Missed > 0 {
			if err := w.put(Response{Missed: o.Missed, Unit: unit}); err != nil {
				return err
			}
		}
		seen := last[o.Unit]
		for _, l := range o.Lines {
			if l.Seq <= seen {
				continue
			}
			rl := rawLine{unit: unit, seq: l.Seq, ts: time.Unix(0, l.Time), stream: l.Stream,
				text: rb.Buf[l.Off : l.Off+l.Len], cut: l.Cut, trunc: l.Trunc}
			if err := w.line(rl); err != nil {
				return err
			}
		}
	}
	return nil
}

// namedFollow is what a `logs --follow` of named units waits on to end:
// the named units still there, and those removed so far.
type namedFollow struct {
	left    map[string]bool
	removed []string
}

// followsNamed notes which of units exist now; nil (never ends) when none
// is named or none exists.
func (s *Server) followsNamed(units []string) *namedFollow {
	if len(units) == 0 {
		return nil
	}
	n := &namedFollow{left: make(map[string]bool, len(units))}
	for _, in := range s.eng.List() {
		if slices.Contains(units, in.Name) {
			n.left[in.Name] = true
		}
	}
	if len(n.left) == 0 {
		return nil
	}
	return n
}

// gone notes a batch's removals and reports whether every named unit is
// now removed.
func (n *namedFollow) gone(removed []string) bool {
	if n == nil {
		return false
	}
	for _, name := range removed {
		if n.left[name] {
			delete(n.left, name)
			n.removed = append(n.removed, name)
		}
	}
	return len(n.left) == 0
}

// lineWriter gathers response lines and writes them in one write(2) per
// batch (or per flushAt bytes), each write bounded by writeTimeout.
type lineWriter struct {
	c   *net.UnixConn
	buf []byte
}

// flushAt is the most a lineWriter holds before it writes.
const flushAt = 256 << 10

// line adds one log line's response (see appendLine).
func (w *lineWriter) line(l rawLine) error {
	w.buf = appendLine(w.buf, l)
	return w.full()
}

// put adds any other response.
func (w *lineWriter) put(r Response) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	w.buf = append(append(w.buf, b...), '\n')
	return w.full()
}

func (w *lineWriter) full() error {
	if len(w.buf) >= flushAt {
		return w.flush()
	}
	return nil
}

func (w *lineWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := w.c.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}
