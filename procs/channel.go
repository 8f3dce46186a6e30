package procs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kelpie-dev/kelpie/cluster"
	"github.com/kelpie-dev/kelpie/ipc"
)

// ErrNoChannel is returned when sending to a unit whose channel is absent or closed.
var ErrNoChannel = errors.New("no open message channel")

// readChannel reads every message the unit sends, all the time, whatever
// anyone is looking at: a Node child whose messages are not read stalls.
// Messages land in the unit's message store, and a note of each in its log
// as an ipc-in line.
//
// A cluster member's channel also carries the cluster's own protocol (Node's
// NODE_CLUSTER messages, handed connections' acknowledgements): cw, when
// set, takes every message first, and what it consumes is not stored.
func (s *Supervisor) readChannel(name string, ms *msgStore, r *ring, conn *ipc.Conn, cw *cluster.Worker) {
	for {
		m, err := conn.Recv()
		if err != nil {
			var le *ipc.LineError
			if errors.As(err, &le) {
				s.eventTo(name, r, "channel: skipped a bad line from the child (%d bytes): %v", le.Len, le.Err)
				continue
			}
			conn.Close()
			s.post(func() {
				u := s.units[name]
				if u == nil {
					return
				}
				if p, ok := u.run.(*procRun); ok && p.conn == conn {
					p.conn = nil
					u.info.Channel = ChannelDisconnected
					s.event(u, "channel: the child closed it (disconnected)")
					s.publish(u)
				}
			})
			return
		}
		if cw != nil && cw.Handle(m) {
			continue
		}
		if m.Handle != nil {
			// kelpie has no use for descriptors a child passes; the ACK has
			// been sent, so close ours rather than leak it.
			m.Handle.Close()
		}
		_ = s.recordMessage(name, ms, r, IPCIn, m.Raw, nil)
		if saysReady(m.Raw) {
			s.post(func() {
				if u := s.units[name]; u != nil {
					if p, ok := u.run.(*procRun); ok && p.conn == conn {
						s.setReady(u, "it said so on its channel")
					}
				}
			})
		}
	}
}

// saysReady reports whether a message is {"ready":true} (other fields may
// come with it): a unit's word that it is ready to serve.
func saysReady(raw []byte) bool {
	if !bytes.Contains(raw, []byte(`"ready"`)) {
		return false // the common case, without decoding
	}
	var m struct {
		Ready bool `json:"ready"`
	}
	return json.Unmarshal(raw, &m) == nil && m.Ready
}

// Send sends one JSON message to the unit over its channel. msg must pass
// ipc.CheckUser (exactly one valid JSON value, not one of Node's own
// NODE_ messages). It never blocks: a full outbound queue (a child that does
// not read) is an error. The message is recorded (ipc-out) before the child
// can have it, so its reply never comes first in the log or the store.
func (s *Supervisor) Send(name string, msg []byte) error {
	if err := ipc.CheckUser(msg); err != nil {
		if errors.Is(err, ipc.ErrReserved) {
			return err // one plain sentence, shown as it is
		}
		return fmt.Errorf("send to %q: not valid JSON: %w", name, err)
	}
	msg, err := compactJSON(msg)
	if err != nil {
		return fmt.Errorf("send to %q: not valid JSON: %w", name, err)
	}
	// A running worker's inbox is reached without the owner goroutine: the
	// round trip to a worker is a channel send, not two thread handoffs.
	s.ringsMu.RLock()
	wr := s.inboxes[name]
	s.ringsMu.RUnlock()
	if wr != nil {
		err := s.recordMessage(name, wr.msgs, wr.ring, IPCOut, msg, func() error {
			return wr.send(msg)
		})
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNoChannel) {
			return fmt.Errorf("send to %q: %w", name, err)
		}
		// It ended meanwhile: the owner goroutine says how.
	}
	return s.do(name, func(u *unit) error {
		if !u.spec.IPC {
			return fmt.Errorf("send to %q: it has no message channel (set ipc: true)", name)
		}
		r := u.run
		if r == nil || u.info.Channel != ChannelConnected {
			return fmt.Errorf("send to %q: %w (%s)", name, ErrNoChannel, u.info.State)
		}
		err := s.recordMessage(name, u.msgs, u.ring, IPCOut, msg, func() error {
			return r.send(msg)
		})
		if err != nil {
			return fmt.Errorf("send to %q: %w", name, err)
		}
		return nil
	})
}

// compactJSON returns msg, a valid JSON value, without insignificant
// whitespace. Most messages have none (JSON.stringify, json.Marshal): they
// are returned as they are, without a copy.
func compactJSON(msg []byte) ([]byte, error) {
	if bytes.IndexAny(msg, " \t\r\n") < 0 {
		return msg, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, msg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
