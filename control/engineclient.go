package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/kelpie-dev/kelpie/procs"
)

// Client is a running kelpie's engine over its control socket: it
// implements procs.Engine, so the screen (attach) and procs.Follow work on
// it as on a supervisor in the same process. Each call is one request on a
// connection of its own; Subscribe keeps its connection for its events.
//
// Differences from the supervisor, by nature: errors carry the server's
// text (errors.Is still finds procs' errors by their code); Shutdown's ctx
// bounds only the wait (the server stops its units with its own timeouts).
type Client struct {
	path string // where the kelpie is, for messages: a socket, ssh://host
	dial Dialer
}

var _ procs.Engine = (*Client)(nil)

// Dial checks that a kelpie that speaks ProtocolVersion answers at path
// and returns its engine.
func Dial(ctx context.Context, path string) (*Client, error) {
	return DialWith(ctx, path, unixDialer(path, os.Geteuid()))
}

// DialWith is Dial over any transport: dial opens each connection (see
// Dialer), and where names the kelpie in messages (a socket path, or the
// ssh:// host it is reached through).
func DialWith(ctx context.Context, where string, dial Dialer) (*Client, error) {
	c := &Client{path: where, dial: dial}
	var v int
	err := c.do(ctx, Request{Cmd: "hello"}, func(r Response) error { v = r.V; return nil })
	if err != nil {
		return nil, err
	}
	if v < ProtocolVersion {
		return nil, fmt.Errorf("the kelpie at %s speaks control protocol version %d, not %d: use a kelpie of the same version", where, max(v, 1), ProtocolVersion)
	}
	return c, nil
}

func (c *Client) do(ctx context.Context, req Request, each func(Response) error) error {
	req.V = ProtocolVersion
	return DoWith(ctx, c.dial, req, each, nil)
}

func (c *Client) call(req Request, each func(Response) error) error {
	if each == nil {
		each = func(Response) error { return nil }
	}
	return c.do(context.Background(), req, each)
}

// List returns every unit's snapshot in display order.
func (c *Client) List() []procs.Info {
	var units []procs.Info
	_ = c.call(Request{Cmd: "ps"}, func(r Response) error { units = r.Units; return nil })
	return units
}

// Start starts a unit (without waiting for it to run).
func (c *Client) Start(name string) error {
	return c.call(Request{Cmd: "start", Name: name, NoWait: true}, nil)
}

// Stop stops a unit (without waiting for it to end).
func (c *Client) Stop(name string) error {
	return c.call(Request{Cmd: "stop", Name: name, NoWait: true}, nil)
}

// Restart restarts a unit (without waiting for it to run again).
func (c *Client) Restart(name string) error {
	return c.call(Request{Cmd: "restart", Name: name, NoWait: true}, nil)
}

// Signal sends sig to the unit's process group.
func (c *Client) Signal(name string, sig syscall.Signal) error {
	return c.call(Request{Cmd: "signal", Name: name, Signal: strconv.Itoa(int(sig))}, nil)
}

// Tail returns the unit's newest n lines, oldest first.
func (c *Client) Tail(name string, n int) ([]procs.Line, error) {
	if n <= 0 {
		// The server reads 0 as its default; ask for nothing by not asking,
		// but still say whether the unit exists.
		_, _, err := c.Since(name, ^uint64(0)-1, 1)
		return nil, err
	}
	var lines []procs.Line
	err := c.call(Request{Cmd: "logs", Name: name, N: n}, func(r Response) error {
		if r.Line != nil {
			lines = append(lines, *r.Line)
		}
		return nil
	})
	return lines, err
}

// Since returns up to limit lines after seq after (at most 10,000 a call).
func (c *Client) Since(name string, after uint64, limit int) ([]procs.Line, uint64, error) {
	return since(c, Request{Cmd: "since", Name: name, After: after}, limit, sinceLines)
}

// SinceID is Since of the unit with this Info.ID (procs.IDSource): a
// removed unit's last lines too, never a new unit's of its name.
func (c *Client) SinceID(name string, id, after uint64, limit int) ([]procs.Line, uint64, error) {
	return since(c, Request{Cmd: "since", Name: name, ID: id, After: after}, limit, sinceLines)
}

// sinceLines picks a since answer's lines.
func sinceLines(r Response) []procs.Line { return r.Lines }

// since asks req (a since or messages-since, with what came after which
// seq, of which unit) for up to limit items, picked out of the answer. A
// limit of 0 still asks, for the missed count and whether the unit exists,
// and returns nothing.
func since[T any](c *Client, req Request, limit int, pick func(Response) []T) ([]T, uint64, error) {
	var out []T
	var missed uint64
	req.N = max(limit, 1)
	err := c.call(req, func(r Response) error {
		out, missed = pick(r), r.Missed
		return nil
	})
	if limit <= 0 {
		out = nil
	}
	return out, missed, err
}

// Send sends one JSON message to a unit with a channel.
func (c *Client) Send(name string, msg []byte) error {
	return c.call(Request{Cmd: "send", Name: name, Msg: msg}, nil)
}

// Messages returns up to limit of the unit's channel messages after seq after.
func (c *Client) Messages(name string, after uint64, limit int) ([]procs.Message, uint64, error) {
	return since(c, Request{Cmd: "messages-since", Name: name, After: after}, limit, func(r Response) []procs.Message { return r.Messages })
}

// TailMessages returns the unit's newest n channel messages, oldest first.
func (c *Client) TailMessages(name string, n int) ([]procs.Message, error) {
	var msgs []procs.Message
	err := c.call(Request{Cmd: "messages", Name: name, N: max(n, 1)}, func(r Response) error {
		if r.Message != nil {
			msgs = append(msgs, *r.Message)
		}
		return nil
	})
	if n <= 0 {
		msgs = nil
	}
	return msgs, err
}

// Details returns what the Stats view shows of a unit beyond its Info.
func (c *Client) Details(name string) (procs.Details, error) {
	var d procs.Details
	err := c.call(Request{Cmd: "details", Name: name}, func(r Response) error {
		if r.Details != nil {
			d = *r.Details
		}
		return nil
	})
	return d, err
}

// Shutdown asks the kelpie to stop every unit and exit ("down"), and
// waits until it has (it hangs up), or until ctx ends.
func (c *Client) Shutdown(ctx context.Context) error {
	err := c.do(ctx, Request{Cmd: "down"}, func(Response) error { return nil })
	if errors.Is(err, ErrLost) {
		return nil // it went away: that is what was asked
	}
	return err
}

// Subscribe returns every unit's snapshot and the events that follow it,
// over a connection of its own. If the kelpie cannot be reached, the
// snapshot is nil and Next returns the error.
func (c *Client) Subscribe() ([]procs.Info, procs.Events) {
	ctx, cancel := context.WithCancel(context.Background())
	ev := &remoteEvents{wake: make(chan struct{}, 1), cancel: cancel}
	snap := make(chan []procs.Info, 1)
	go func() {
		first := true
		err := c.do(ctx, Request{Cmd: "subscribe"}, func(r Response) error {
			if first {
				first = false
				if r.Units == nil {
					r.Units = []procs.Info{}
				}
				snap <- r.Units
				return nil
			}
			if r.Event != nil {
				ev.put(procs.Batch(*r.Event))
			}
			return nil
		})
		if first {
			close(snap)
		}
		if err == nil || errors.Is(err, ErrLost) || errors.Is(err, context.Canceled) {
			err = procs.ErrClosed // the kelpie shut down (or Close was called)
		}
		ev.end(err)
	}()
	return <-snap, ev
}

// remoteEvents is a subscription over the socket: batches that arrive
// coalesce here until Next takes them, as in the engine's own broker.
type remoteEvents struct {
	mu     sync.Mutex
	batch  procs.Batch
	err    error // set when the stream has ended
	wake   chan struct{}
	cancel context.CancelFunc
}

func (e *remoteEvents) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *remoteEvents) put(b procs.Batch) {
	e.mu.Lock()
	e.batch.States = append(e.batch.States, b.States...)
	e.batch.Removed = append(e.batch.Removed, b.Removed...)
	if b.Stats != nil {
		e.batch.Stats = b.Stats
	}
	for name, seq := range b.Logs {
		if e.batch.Logs == nil {
			e.batch.Logs = make(map[string]uint64)
		}
		e.batch.Logs[name] = max(e.batch.Logs[name], seq)
	}
	e.mu.Unlock()
	e.signal()
}

func (e *remoteEvents) end(err error) {
	e.mu.Lock()
	e.err = err
	e.mu.Unlock()
	e.signal()
}

// Next waits for the next batch; once the stream has ended and what came is
// taken, it returns procs.ErrClosed (or the error that ended it).
func (e *remoteEvents) Next(ctx context.Context) (procs.Batch, error) {
	for {
		e.mu.Lock()
		if !e.batch.Empty() {
			b := e.batch
			e.batch = procs.Batch{}
			e.mu.Unlock()
			return b, nil
		}
		err := e.err
		e.mu.Unlock()
		if err != nil {
			return procs.Batch{}, err
		}
		select {
		case <-e.wake:
		case <-ctx.Done():
			return procs.Batch{}, ctx.Err()
		}
	}
}

// Close ends the subscription and its connection.
func (e *remoteEvents) Close() {
	e.cancel()
	e.mu.Lock()
	e.batch = procs.Batch{}
	e.mu.Unlock()
}
