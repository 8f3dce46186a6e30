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
// Messages land in the unit's log as ipc-in lines.
func (s *Supervisor) readChannel(u *unit, conn *ipc.Conn) {
	name := u.spec.Name
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
		seq := u.ring.Append(s.clock.Now(), IPCIn, m.Raw)
		s.broker.logs(name, seq)
	}
}

// Send sends one JSON message to the unit over its channel. msg must be
// exactly one valid JSON value; objects whose "cmd" starts with "NODE_" are
// Node's own and refused. It never blocks: a full outbound queue (a child
// that does not read) is an error.
func (s *Supervisor) Send(name string, msg []byte) error {
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
		if err := u.conn.SendRaw(compact.Bytes()); err != nil {
			return fmt.Errorf("send to %q: %w", name, err)
		}
		seq := u.ring.Append(s.clock.Now(), IPCOut, compact.Bytes())
		s.broker.logs(name, seq)
		return nil
	})
}
