package control

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// The requests of protocol version 2: what makes the socket a whole
// procs.Engine (see Client).

// maxSince bounds the lines or messages one since answers with.
const maxSince = 10000

// dispatch2 serves the version 2 requests; handled is false for any other.
func (s *Server) dispatch2(c *net.UnixConn, req Request, reply func(Response) error) (handled bool, err error) {
	switch req.Cmd {
	case "hello":
		return true, reply(Response{OK: true, V: ProtocolVersion})
	case "subscribe":
		return true, s.subscribe(c, reply)
	case "details":
		d, err := s.eng.Details(req.Name)
		if err != nil {
			return true, err
		}
		return true, reply(Response{OK: true, Details: &d})
	case "since":
		var lines []procs.Line
		var missed uint64
		var err error
		if ids, ok := s.eng.(procs.IDSource); ok && req.ID != 0 {
			lines, missed, err = ids.SinceID(req.Name, req.ID, req.After, sinceLimit(req.N))
		} else {
			lines, missed, err = s.eng.Since(req.Name, req.After, sinceLimit(req.N))
		}
		if err != nil {
			return true, err
		}
		return true, reply(Response{OK: true, Lines: lines, Missed: missed})
	case "messages-since":
		msgs, missed, err := s.eng.Messages(req.Name, req.After, sinceLimit(req.N))
		if err != nil {
			return true, err
		}
		return true, reply(Response{OK: true, Messages: msgs, Missed: missed})
	}
	return false, nil
}

func sinceLimit(n int) int {
	if n <= 0 || n > maxSince {
		return maxSince
	}
	return n
}

// subscribe streams the engine's events: the snapshot (Units, never
// omitted, and V), then one Event per batch until the engine shuts down
// (the server then hangs up) or the client does. Batches coalesce in the
// engine while a write waits, so a slow client gets fewer, larger batches;
// it never misses a state change. One that stops reading for writeTimeout
// is dropped.
func (s *Server) subscribe(c *net.UnixConn, reply func(Response) error) error {
	s.mu.Lock()
	if s.closed { // Close is already waiting for the streams it knows
		s.mu.Unlock()
		return nil
	}
	if s.streams == nil {
		s.streams = make(map[*net.UnixConn]bool)
	}
	s.streams[c] = true
	s.swg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, c)
		s.mu.Unlock()
		s.swg.Done()
	}()
	snap, ev := s.eng.Subscribe()
	defer ev.Close()
	if snap == nil {
		snap = []procs.Info{}
	}
	if err := reply(Response{OK: true, V: ProtocolVersion, Units: snap}); err != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() { // the client hanging up ends the stream
		_, _ = io.Copy(io.Discard, c)
		cancel()
	}()
	for {
		b, err := ev.Next(ctx)
		if err != nil && s.ctx.Err() != nil {
			// The server is closing, most often because the engine has
			// shut down: send what is pending (the last states), then go.
			dctx, dcancel := context.WithTimeout(context.Background(), drainWait)
			b, err = ev.Next(dctx)
			dcancel()
		}
		if err != nil {
			return nil
		}
		e := Event(b)
		if err := reply(Response{Event: &e}); err != nil {
			return nil
		}
	}
}

// drainWait bounds how long a closing server's subscription waits for
// events still pending (log announcements are paced at 50 ms).
const drainWait = 100 * time.Millisecond

// streamGrace bounds how long Close lets subscriptions send their last events.
const streamGrace = time.Second

// waitStreams waits (at most streamGrace) for the subscribe handlers to end.
func (s *Server) waitStreams() {
	done := make(chan struct{})
	go func() {
		s.swg.Wait()
		close(done)
	}()
	t := time.NewTimer(streamGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	s.mu.Lock()
	for c := range s.streams {
		c.Close()
	}
	s.mu.Unlock()
}

// errorCode names one of procs' errors on the wire.
type errorCode struct {
	code string
	err  error
}

// errorCodes name procs' errors on the wire, so that errors.Is works on a
// Client's errors as on the supervisor's.
func errorCodes() []errorCode {
	return []errorCode{
		{"not_found", procs.ErrNotFound},
		{"exists", procs.ErrExists},
		{"running", procs.ErrRunning},
		{"not_running", procs.ErrNotRunning},
		{"shutdown", procs.ErrShutdown},
		{"unkillable", procs.ErrUnkillable},
		{"not_tty", procs.ErrNotTTY},
	}
}

// codeOf names err's kind ("" for any other error).
func codeOf(err error) string {
	for _, c := range errorCodes() {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// remoteError is an error the server answered with: its text as the server
// said it, and the procs error its code names, for errors.Is.
type remoteError struct {
	text string
	kind error
}

func (e *remoteError) Error() string { return e.text }
func (e *remoteError) Unwrap() error { return e.kind }

// responseError makes the error of a response that carries one.
func responseError(r Response) error {
	for _, c := range errorCodes() {
		if c.code == r.Code {
			return &remoteError{text: r.Error, kind: c.err}
		}
	}
	return errors.New(r.Error)
}
