package control

import (
	"errors"

	"github.com/kelpie-dev/kelpie/procs"
)

// MessageSource is implemented by engines that keep their units' channel
// messages in a store of their own (a *procs.Supervisor does).
type MessageSource interface {
	TailMessages(name string, n int) ([]procs.Message, error)
}

// messages answers the "messages" request: the unit's newest N channel
// messages (100 by default), oldest first, one Response.Message each. A
// message too large to keep whole comes as a JSON string of its start with
// "truncated": true, so every line is valid JSON.
func (s *Server) messages(req Request, reply func(Response) error) error {
	src, ok := s.eng.(MessageSource)
	if !ok {
		return errors.New("this kelpie keeps no messages")
	}
	if req.Name == "" {
		return errors.New("no unit named")
	}
	n := req.N
	if n <= 0 {
		n = 100
	}
	msgs, err := src.TailMessages(req.Name, n)
	if err != nil {
		return err
	}
	for i := range msgs {
		if err := reply(Response{Message: &msgs[i]}); err != nil {
			return nil // the client hung up
		}
	}
	return nil
}
