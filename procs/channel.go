package procs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kelpie-dev/kelpie/ipc"
)

// ErrNoChannel is returned when sending to a unit whose channel is absent or closed.
var ErrNoChannel = errors.New("no open message channel")

// readChannel reads every message the unit sends, all the time, whatever
// anyone is looking at: a Node child whose messages are not read stalls.
// Messages land in the unit's message store, and a note of each in its log
// as an ipc-in line.
func (s *Supervisor) readChannel(u *unit, conn *ipc.Conn) {
	name, ms, r := u.spec.Name, u.msgs, u.ring
	for {
		m, err := conn.Recv()
		if err != nil {
			var le *ipc.LineError
			if errors.As(err, &le) {
				s.event(u, "channel: skipped a bad line from the child (%d bytes): %v", le.Len, le.Err)
				continue
			}
			conn.Close()
			s.post(func() {
				if u.conn == conn {
					u.conn = nil
					u.info.Channel = ChannelDisconnected
					s.event(u, "channel: the child closed it (disconnected)")
					s.publish(u)
				}
			})
			return
		}
		if m.Handle != nil {
			// kelpie has no use for descriptors a child passes; the ACK has
			// been sent, so close ours rather than leak it.
			m.Handle.Close()
		}
		_ = s.recordMessage(name, ms, r, IPCIn, m.Raw, nil)
	}
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
	var compact bytes.Buffer
	if err := json.Compact(&compact, msg); err != nil {
		return fmt.Errorf("send to %q: not valid JSON: %w", name, err)
	}
	return s.do(name, func(u *unit) error {
		if !u.spec.IPC {
			return fmt.Errorf("send to %q: it has no message channel (set ipc: true)", name)
		}
		if u.conn == nil {
			return fmt.Errorf("send to %q: %w (%s)", name, ErrNoChannel, u.info.State)
		}
		conn := u.conn
		err := s.recordMessage(name, u.msgs, u.ring, IPCOut, compact.Bytes(), func() error {
			return conn.SendRaw(compact.Bytes())
		})
		if err != nil {
			return fmt.Errorf("send to %q: %w", name, err)
		}
		return nil
	})
}
