package procs

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// memberIndex is a group member's index (-1: not a member).
func memberIndex(sp *Spec) int {
	if sp.Group == "" {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimPrefix(sp.Name, sp.Group+"/"))
	if err != nil {
		return -1
	}
	return n
}

// groupUnits is the group's members in display order, those being removed
// left out. Owner goroutine only.
func (s *Supervisor) groupUnits(group string) []*unit {
	var out []*unit
	for _, name := range s.order {
		if u := s.units[name]; u.spec.Group == group && !u.remove {
			out = append(out, u)
		}
	}
	return out
}

// newMember registers and starts one more member of the group, at the
// lowest free index: a cluster's made from its definition, another group's
// as a copy of the member like. It starts as every member does (launch):
// waiting, its reason shown, while the group's depends_on do not hold.
// Owner goroutine only.
func (s *Supervisor) newMember(group string, like *unit) (*unit, error) {
	i := 0
	for s.units[MemberName(group, i)] != nil {
		i++
	}
	var u *unit
	var err error
	if cs := s.clusters[group]; cs != nil {
		u, err = s.addMember(cs, i)
	} else {
		sp := like.spec
		sp.Name = MemberName(group, i)
		u, err = s.addUnit(sp)
	}
	if err != nil {
		return nil, err
	}
	s.launch(u, false)
	return u, nil
}

// retire stops a member and forgets it once stopped. Owner goroutine only.
func (s *Supervisor) retire(u *unit) {
	u.remove = true
	u.restart = false
	s.releaseUp(u, errRestartCancelled)
	s.stopUnit(u)
	if !u.info.State.Live() {
		s.removeUnit(u) // it had no run (backoff, crashed, stopped)
	}
}

// Scale sets the number of a group's members (a cluster's, or a worker
// group's) to n, live: new members take the lowest free indices and start
// at once (or wait, as StartAll's do, for the group's dependencies); the
// highest-numbered members beyond n are stopped gracefully and then
// removed. It returns without waiting for those stops.
func (s *Supervisor) Scale(name string, n int) error {
	if n < 1 || n > MaxInstances {
		return fmt.Errorf("scale %q: %d members (want 1 to %d)", name, n, MaxInstances)
	}
	var err error
	cerr := s.call(func() {
		if s.shutting {
			err = ErrShutdown
			return
		}
		us := s.groupUnits(name)
		if len(us) == 0 {
			if s.units[name] != nil {
				err = fmt.Errorf("scale %q: it is a unit, not a group or cluster", name)
			} else {
				err = fmt.Errorf("scale: %w: %q", ErrNotFound, name)
			}
			return
		}
		for len(us) < n {
			u, e := s.newMember(name, us[0])
			if e != nil {
				err = fmt.Errorf("scale %q: %w", name, e)
				return
			}
			us = append(us, u)
		}
		if len(us) > n {
			slices.SortFunc(us, func(a, b *unit) int { return memberIndex(&b.spec) - memberIndex(&a.spec) })
			for _, u := range us[:len(us)-n] {
				s.retire(u)
			}
		}
	})
	return errors.Join(cerr, err)
}

// Reload replaces a group's members one at a time without a gap in
// service: it starts a new member, waits until it is ready (ReadyTimeout at
// most; for a group with no readiness signal, until it is running), then
// stops the old one gracefully and waits for it to be gone, then the next.
// A member without a readiness signal (a worker group's, say) is taken as
// ready once it runs. A new member waits for the group's dependencies
// first, within the same ReadyTimeout. A new member that fails (or is not
// ready in time) ends the reload with an error, the remaining old members
// left serving.
func (s *Supervisor) Reload(name string) error {
	var old []string
	var signals bool // the group's members say when they are ready: a cluster's
	err := s.call(func() {
		for _, u := range s.groupUnits(name) {
			old = append(old, u.spec.Name)
		}
		if len(old) > 0 {
			// The rule a `ready` dependency uses: a probe, AwaitReady or a
			// cluster's own readiness.
			signals = s.awaitsReady(s.units[old[0]])
		}
	})
	if err != nil {
		return err
	}
	if len(old) == 0 {
		return fmt.Errorf("reload: %w: %q", ErrNotFound, name)
	}
	for _, o := range old {
		var ready chan error
		var up chan upNote // a new member waiting for its dependencies: its start
		var fresh string
		var gone chan struct{}
		var err error
		cerr := s.call(func() {
			if s.shutting {
				err = ErrShutdown
				return
			}
			ou := s.units[o]
			if ou == nil || ou.remove {
				return // scaled away meanwhile
			}
			u, e := s.newMember(name, ou)
			if e != nil {
				err = e
				return
			}
			fresh = u.spec.Name
			if u.info.State == Waiting {
				up = make(chan upNote, 1)
				u.upWaiters = append(u.upWaiters, up)
			}
			switch {
			case signals:
				ready = s.waitForReady(u) // waits while it waits too
			case up != nil:
				ready = make(chan error) // its start decides
			default:
				ready = make(chan error, 1)
				if u.info.State.Live() {
					ready <- nil
				} else {
					ready <- fmt.Errorf("%s", u.info.Reason)
				}
			}
		})
		if err = errors.Join(cerr, err); err != nil {
			return fmt.Errorf("reload %q: %w", name, err)
		}
		if ready == nil {
			continue
		}
		t := time.NewTimer(ReadyTimeout)
		for done := false; !done; {
			select {
			case n := <-up:
				// Started (or never will be: the dependency failed, the
				// member was stopped); one that signals goes on to ready.
				up, err = nil, n.err
				done = err != nil || !signals
			case err = <-ready:
				done = true
			case <-t.C:
				err, done = fmt.Errorf("not ready within %s", ReadyTimeout), true
			case <-s.loopDone:
				err, done = ErrShutdown, true
			}
		}
		t.Stop()
		if err != nil {
			_ = s.call(func() {
				if u := s.units[fresh]; u != nil {
					s.retire(u)
				}
			})
			return fmt.Errorf("reload %q: new member %s: %w (the old members still serve)", name, fresh, err)
		}
		_ = s.call(func() {
			ou := s.units[o]
			if ou == nil {
				return
			}
			gone = make(chan struct{})
			ou.goneWait = append(ou.goneWait, gone)
			s.event(ou, "reload: replaced by %s", fresh)
			s.retire(ou)
		})
		if gone != nil {
			select {
			case <-gone:
			case <-s.loopDone:
				return fmt.Errorf("reload %q: %w", name, ErrShutdown)
			}
		}
	}
	return nil
}
