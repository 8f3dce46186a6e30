package control

import (
	"errors"
	"fmt"

	"github.com/kelpie-dev/kelpie/procs"
)

// scale serves scale (a group's member count, N) and reload (a rolling
// replacement of a group's members, answered once it is done). The answer
// lists the group's members as they are then.
func (s *Server) scale(req Request, reply func(Response) error) error {
	if req.Name == "" {
		return errors.New("no group or cluster named")
	}
	sc, ok := s.eng.(procs.Scaler)
	if !ok {
		return fmt.Errorf("%s: this engine cannot scale or reload groups", req.Cmd)
	}
	var err error
	if req.Cmd == "scale" {
		err = sc.Scale(req.Name, req.N)
	} else {
		err = sc.Reload(req.Name)
	}
	if err != nil {
		return err
	}
	units := []procs.Info{}
	for _, in := range s.eng.List() {
		if in.Group == req.Name {
			units = append(units, in)
		}
	}
	return reply(Response{OK: true, Units: units})
}

var _ procs.Scaler = (*Client)(nil)

// Scale sets the number of a group's (or cluster's) members, live.
func (c *Client) Scale(name string, n int) error {
	return c.call(Request{Cmd: "scale", Name: name, N: n}, nil)
}

// Reload replaces a group's (or cluster's) members one at a time, each new
// one ready before the old one stops; it returns once all are new.
func (c *Client) Reload(name string) error {
	return c.call(Request{Cmd: "reload", Name: name}, nil)
}
