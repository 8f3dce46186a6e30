package control

import (
	"errors"
	"fmt"
	"sync"

	"github.com/kelpie-dev/kelpie/procs"
)

// members returns the members of the group named name (units whose
// Info.Group is name), or nil when name is a unit or no group. Group names
// and unit names never collide (procs.Supervisor.Add refuses it).
func (s *Server) members(name string) []string {
	if name == "" {
		return nil
	}
	var out []string
	for _, in := range s.eng.List() {
		if in.Name == name {
			return nil
		}
		if in.Group == name {
			out = append(out, in.Name)
		}
	}
	return out
}

// groupCmds are the requests that, on a group's name, apply to every member.
func groupCmd(cmd string) bool {
	switch cmd {
	case "start", "stop", "restart", "signal", "send", "logs", "messages":
		return true
	}
	return false
}

// onGroup serves a request on a group: logs covers every member (as logs of
// several units); messages lists each member's in turn, each message naming
// its unit; start, stop, restart, signal and send are done for every member
// at once, and the one answer carries every member's state (or the errors,
// each naming its member).
func (s *Server) onGroup(req Request, members []string, reply func(Response) error, one func(Request, func(Response) error) error) error {
	switch req.Cmd {
	case "logs":
		req.Units = append(members, req.Units...)
		req.Name = ""
		return one(req, reply)
	case "messages":
		for _, m := range members {
			r := req
			r.Name = m
			err := one(r, func(resp Response) error {
				if resp.Message != nil {
					resp.Message.Unit = m
				}
				return reply(resp)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	units := make([]procs.Info, 0, len(members))
	errs := make([]error, len(members))
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := req
			r.Name = m
			err := one(r, func(resp Response) error {
				mu.Lock()
				units = append(units, resp.Units...)
				mu.Unlock()
				return nil
			})
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", m, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return reply(Response{OK: true, Units: units})
}
