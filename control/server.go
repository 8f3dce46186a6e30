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
	"sync"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// maxRequest bounds one request line (a `send` may carry a large message).
const maxRequest = 17 << 20

// Engine is what the server drives: a *procs.Supervisor satisfies it.
type Engine interface {
	List() []procs.Info
	Start(name string) error
	Stop(name string) error
	Restart(name string) error
	Signal(name string, sig syscall.Signal) error
	Tail(name string, n int) ([]procs.Line, error)
	Since(name string, after uint64, limit int) ([]procs.Line, uint64, error)
	Subscribe() ([]procs.Info, *procs.Subscription)
}

// Sender is implemented by engines whose units can take messages.
type Sender interface {
	Send(name string, msg []byte) error
}

// AlreadyRunningError says another kelpie holds the socket.
type AlreadyRunningError struct{ Path string }

func (e *AlreadyRunningError) Error() string {
	return "kelpie is already running for this config (control socket " + e.Path + ")"
}

// Server serves the control socket.
type Server struct {
	eng  Engine
	path string
	ln   *net.UnixListener
	lock *os.File
	// Down is called (once, in its own goroutine) when a client asks for `down`.
	Down func()

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Listen claims path for this kelpie: a lock file beside it makes the claim
// race-free, a socket left by a crashed kelpie is replaced, and one held by a
// live kelpie gives *AlreadyRunningError. The socket is made mode 0600.
func Listen(path string) (*Server, error) {
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("control socket lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &AlreadyRunningError{Path: path}
		}
		return nil, fmt.Errorf("control socket lock %s: %w", path+".lock", err)
	}
	// We hold the lock, so whatever socket is there was left by a dead kelpie.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("remove stale control socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("control socket mode: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{path: path, ln: ln, lock: lock, ctx: ctx, cancel: cancel}, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers clients with eng until Close. Run it in its own goroutine.
func (s *Server) Serve(eng Engine) {
	s.eng = eng
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.handle(c)
		}()
	}
}

// Close stops serving, ends streaming clients and removes the socket.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close() // removes the socket file too
	s.wg.Wait()
	os.Remove(s.lock.Name())
	s.lock.Close()
	return err
}

func (s *Server) handle(c *net.UnixConn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxRequest), 64<<10).ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	enc := json.NewEncoder(c)
	reply := func(r Response) error { return enc.Encode(r) }
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		_ = reply(Response{Error: "bad request: " + err.Error()})
		return
	}
	if err := s.dispatch(c, req, reply); err != nil {
		_ = reply(Response{Error: err.Error()})
	}
}

func (s *Server) dispatch(c *net.UnixConn, req Request, reply func(Response) error) error {
	switch req.Cmd {
	case "ps":
		units := s.eng.List()
		if units == nil {
			units = []procs.Info{}
		}
		return reply(Response{OK: true, Units: units})
	case "start":
		return s.actWait(req.Name, s.eng.Start, reply, func(prev, in procs.Info) bool {
			return in.State != procs.Starting && in.State != procs.Stopped
		})
	case "stop":
		return s.actWait(req.Name, s.eng.Stop, reply, func(prev, in procs.Info) bool {
			return !in.State.Live() && in.State != procs.Backoff
		})
	case "restart":
		// Restart itself returns once the new run is up.
		return s.actWait(req.Name, s.eng.Restart, reply, nil)
	case "signal":
		sig, err := procs.ParseSignal(req.Signal)
		if err != nil {
			return err
		}
		return s.act(req.Name, func(n string) error { return s.eng.Signal(n, sig) }, reply)
	case "send":
		snd, ok := s.eng.(Sender)
		if !ok {
			return errors.New("this kelpie cannot send messages")
		}
		return s.act(req.Name, func(n string) error { return snd.Send(n, req.Msg) }, reply)
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
// `kelpie stop api` returns when api has stopped, like systemctl does. A nil
// done is for Restart, which itself returns once the new run is up: the answer
// is the unit's state as that run came up (through RestartInfo where the
// engine has it: a concurrent restart may already be stopping it again).
func (s *Server) actWait(name string, f func(string) error, reply func(Response) error, done func(prev, in procs.Info) bool) error {
	if name == "" {
		return errors.New("no unit named")
	}
	if done == nil {
		// The state the unit reached, not whatever a later call made of it.
		if r, ok := s.eng.(interface {
			RestartInfo(string) (procs.Info, error)
		}); ok {
			in, err := r.RestartInfo(name)
			if err != nil {
				return err
			}
			return reply(Response{OK: true, Units: []procs.Info{in}})
		}
		if err := f(name); err != nil {
			return err
		}
		for _, in := range s.eng.List() {
			if in.Name == name {
				return reply(Response{OK: true, Units: []procs.Info{in}})
			}
		}
		return reply(Response{OK: true})
	}
	// Subscribe before acting: the change cannot slip between.
	snap, sub := s.eng.Subscribe()
	defer sub.Close()
	var prev procs.Info
	for _, in := range snap {
		if in.Name == name {
			prev = in
		}
	}
	if err := f(name); err != nil {
		return err
	}
	for _, in := range s.eng.List() {
		if in.Name == name && done(prev, in) {
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
			if in.Name == name && done(prev, in) {
				return reply(Response{OK: true, Units: []procs.Info{in}})
			}
		}
	}
}

// logs sends the last N lines and, with follow, every new line until the
// client hangs up. A client too slow for the unit's output loses lines (the
// ring moves on) and is told how many; it never slows the unit down.
func (s *Server) logs(c *net.UnixConn, req Request, reply func(Response) error) error {
	if req.Name == "" {
		return errors.New("no unit named")
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var sub *procs.Subscription
	if req.Follow {
		// Subscribe before reading the tail so no line falls in between.
		_, sub = s.eng.Subscribe()
		defer sub.Close()
		go func() { // the client hanging up ends the stream
			_, _ = io.Copy(io.Discard, c)
			cancel()
		}()
	}
	n := req.N
	if n <= 0 {
		n = 100
	}
	lines, err := s.eng.Tail(req.Name, n)
	if err != nil {
		return err
	}
	var cursor uint64
	for i := range lines {
		if err := reply(Response{Line: &lines[i]}); err != nil {
			return nil
		}
		cursor = lines[i].Seq
	}
	if cursor == 0 {
		// An empty tail: follow from whatever is newest now.
		if l, _ := s.eng.Tail(req.Name, 1); len(l) == 1 {
			cursor = l[0].Seq
		}
	}
	if !req.Follow {
		return nil
	}
	for {
		b, err := sub.Next(ctx)
		if err != nil {
			return nil
		}
		if _, ok := b.Logs[req.Name]; !ok {
			continue
		}
		for {
			lines, missed, err := s.eng.Since(req.Name, cursor, 4096)
			if err != nil {
				return err
			}
			if missed > 0 {
				if err := reply(Response{Missed: missed}); err != nil {
					return nil
				}
			}
			for i := range lines {
				if err := reply(Response{Line: &lines[i]}); err != nil {
					return nil
				}
				cursor = lines[i].Seq
			}
			if len(lines) < 4096 {
				break
			}
		}
	}
}
