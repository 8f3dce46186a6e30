package procs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Condition is what a dependency must be in before its dependent starts.
type Condition string

// The dependency conditions (depends_on in kelpie.yaml).
const (
	// CondStarted: the dependency is running (for a group: every member).
	CondStarted Condition = "started"
	// CondReady: the dependency is running and ready (Info.Ready). A unit
	// without any readiness signal (Spec.AwaitReady false, not a cluster
	// member) is ready as soon as it is running.
	CondReady Condition = "ready"
	// CondCompleted: the dependency ran and ended for good, whatever its
	// status (exited, or crashed after running).
	CondCompleted Condition = "completed"
	// CondCompletedSuccessfully: the dependency ran and exited with status 0
	// for good (state exited).
	CondCompletedSuccessfully Condition = "completed_successfully"
)

// Conditions lists the dependency conditions, for messages and the docs.
func Conditions() []string {
	return []string{string(CondStarted), string(CondReady), string(CondCompleted), string(CondCompletedSuccessfully)}
}

// Dependency is one entry of Spec.DependsOn: the unit (or group, by its
// group name) Name must be in Condition before the unit starts.
type Dependency struct {
	Name      string    `json:"name"`
	Condition Condition `json:"condition"`
}

// String renders the dependency as the waiting reason shows it: "db (ready)".
func (d Dependency) String() string { return d.Name + " (" + string(d.Condition) + ")" }

// checkDeps rejects a spec's dependencies that can never make sense
// whatever else is added: an empty name, itself (or its own group), an
// unknown condition. Unknown names are not checked here: units are added one
// at a time, so a dependency may come later (config rejects unknown names).
func checkDeps(spec *Spec) error {
	var errs []error
	for _, d := range spec.DependsOn {
		switch {
		case d.Name == "":
			errs = append(errs, errors.New("depends_on: empty name"))
		case d.Name == spec.Name || (spec.Group != "" && d.Name == spec.Group):
			errs = append(errs, fmt.Errorf("depends_on: %q depends on itself", d.Name))
		}
		if !slices.Contains(Conditions(), string(d.Condition)) {
			errs = append(errs, fmt.Errorf("depends_on %q: unknown condition %q (want %s)", d.Name, d.Condition, strings.Join(Conditions(), ", ")))
		}
	}
	return errors.Join(errs...)
}

// depUnits returns the units a dependency name stands for: the unit of that
// name, or every member of the group of that name (nil: none). Owner
// goroutine only.
func (s *Supervisor) depUnits(name string) []*unit {
	if u := s.units[name]; u != nil {
		return []*unit{u}
	}
	if s.members[name] == 0 {
		return nil
	}
	var out []*unit
	for _, n := range s.order {
		if u := s.units[n]; u.spec.Group == name {
			out = append(out, u)
		}
	}
	return out
}

// awaitsReady reports whether d signals its readiness (a `ready:` probe, a
// cluster member, or AwaitReady set by whoever built the spec), so that a
// `ready` dependency on it waits for Info.Ready rather than for it to run.
func (s *Supervisor) awaitsReady(d *unit) bool {
	return d.spec.AwaitReady || d.spec.Ready != nil || (d.spec.Group != "" && s.clusters[d.spec.Group] != nil)
}

// condition says whether unit d is in condition c (holds), or, if it never
// will be without someone starting it again, why not (never). Owner
// goroutine only.
func (s *Supervisor) condition(d *unit, c Condition) (holds bool, never string) {
	st := d.info.State
	up := st == Running || st == Paused
	switch c {
	case CondStarted:
		if up {
			return true, ""
		}
	case CondReady:
		if up && (d.info.Ready || !s.awaitsReady(d)) {
			return true, ""
		}
	case CondCompleted:
		if (st == Exited || st == Crashed) && d.ranOut {
			return true, ""
		}
		if st == Crashed {
			return false, fmt.Sprintf("%s crashed before it ran: %s", d.spec.Name, d.info.Reason)
		}
		return false, ""
	case CondCompletedSuccessfully:
		if st == Exited && d.ranOut {
			return true, ""
		}
		if st == Crashed {
			return false, fmt.Sprintf("%s crashed: %s", d.spec.Name, d.info.Reason)
		}
		return false, ""
	}
	switch st {
	case Exited:
		return false, fmt.Sprintf("%s exited and will not be restarted", d.spec.Name)
	case Crashed:
		return false, fmt.Sprintf("%s crashed: %s", d.spec.Name, d.info.Reason)
	}
	return false, ""
}

// depsState checks every dependency of u: ok when all hold; otherwise never
// says why one of them never will (empty: they may yet), and waiting lists
// the ones that do not hold yet, as the waiting reason shows them.
func (s *Supervisor) depsState(u *unit) (ok bool, never string, waiting []string) {
	for _, d := range u.spec.DependsOn {
		units := s.depUnits(d.Name)
		if len(units) == 0 {
			waiting = append(waiting, d.Name+" (no such unit)")
			continue
		}
		held := true
		for _, du := range units {
			h, why := s.condition(du, d.Condition)
			if why != "" {
				return false, fmt.Sprintf("dependency %s can never hold: %s", d, why), nil
			}
			held = held && h
		}
		if !held {
			waiting = append(waiting, d.String())
		}
	}
	return len(waiting) == 0, "", waiting
}

// launch starts u, or, if it has dependencies, parks it in the waiting
// state: settleDeps starts it (or fails it) once they are decided. The
// decision is deferred to the end of the owner's current command so that
// units started by the same command (StartAll) count. Owner goroutine only.
func (s *Supervisor) launch(u *unit, isRestart bool) {
	if len(u.spec.DependsOn) == 0 {
		s.startUnit(u, isRestart)
		return
	}
	u.epoch++ // a pending backoff timer must not start it behind our back
	s.cancelTimer(u)
	u.waitRestart = isRestart
	u.ranOut = false
	u.stopping, u.draining, u.killed = false, false, false
	u.info.State = Waiting
	u.info.NextStart = time.Time{}
	_, _, waiting := s.depsState(u)
	u.info.Reason = waitReason(waiting)
	s.publish(u)
}

// waitReason is the waiting state's Reason.
func waitReason(waiting []string) string {
	return "waiting for " + strings.Join(waiting, ", ")
}

// startWithDeps starts u (see launch) after starting, first, every
// dependency of it (and theirs) that is stopped, ended or crashed and not
// already in its condition; the unit's event line names them. Owner
// goroutine only.
func (s *Supervisor) startWithDeps(u *unit, isRestart bool) {
	seen := map[*unit]bool{u: true}
	var started []string
	s.pullDeps(u, seen, &started)
	if len(started) > 0 {
		s.event(u, "starting its dependencies first: %s", strings.Join(started, ", "))
	}
	s.launch(u, isRestart)
}

// pullDeps launches u's dependencies that nothing else will start, deepest
// first; seen guards against cycles (config rejects them, Add cannot).
func (s *Supervisor) pullDeps(u *unit, seen map[*unit]bool, started *[]string) {
	for _, d := range u.spec.DependsOn {
		for _, du := range s.depUnits(d.Name) {
			if seen[du] {
				continue
			}
			seen[du] = true
			st := du.info.State
			if st.Live() || st == Waiting || st == Backoff {
				continue // on its way already
			}
			if ok, _ := s.condition(du, d.Condition); ok {
				continue // completed already, say
			}
			s.pullDeps(du, seen, started)
			*started = append(*started, du.spec.Name)
			du.failures = 0
			s.launch(du, du.runs > 0)
		}
	}
}

// settleDeps re-decides every waiting unit and every ordered stop after a
// state change: it runs on the owner goroutine after each command and exit
// (when something was published), so a dependent starts as soon as its
// conditions hold, with no polling. Owner goroutine only.
func (s *Supervisor) settleDeps() {
	if s.nDeps == 0 {
		s.depsDirty = false
		return
	}
	for s.depsDirty {
		s.depsDirty = false
		for i := 0; i < len(s.order); i++ {
			u := s.units[s.order[i]]
			if u == nil || u.info.State != Waiting || s.shutting {
				continue
			}
			ok, never, waiting := s.depsState(u)
			switch {
			case ok:
				s.event(u, "dependencies hold: starting")
				s.startUnit(u, u.waitRestart)
			case never != "":
				u.epoch++
				u.info.State = Crashed
				u.info.Reason = never
				s.event(u, "%s", never)
				s.releaseUp(u, errors.New(never))
				u.notifyReady(errors.New(never))
				s.publish(u)
			default:
				if r := waitReason(waiting); r != u.info.Reason {
					u.info.Reason = r
					s.publish(u)
				}
			}
		}
		s.advanceStops()
	}
}

// dependsOnUnit reports whether w depends on d (by d's name or its group's).
func dependsOnUnit(w, d *unit) bool {
	for _, dep := range w.spec.DependsOn {
		if dep.Name == d.spec.Name || (d.spec.Group != "" && dep.Name == d.spec.Group) {
			return true
		}
	}
	return false
}

// stopOrdered stops the units in dependency order: a unit is stopped once
// no unit that depends on it is live any more (a stuck worker does not
// hold it up). A dependency restarting never restarts its dependents, and
// a dependent that is stopped never stops its dependencies: only a stop of
// the stack (StopAll, Shutdown) orders stops. Owner goroutine only.
func (s *Supervisor) stopOrdered(units []*unit) {
	if s.nDeps == 0 {
		for _, u := range units {
			s.stopUnit(u)
		}
		return
	}
	for _, u := range units {
		if u.run == nil {
			// Waiting, in backoff or ended: stopping it is immediate and
			// must not wait (a backoff timer would start it meanwhile).
			s.stopUnit(u)
			continue
		}
		if !u.stopAfter {
			u.stopAfter = true
			s.nStopAfter++
		}
	}
	s.advanceStops()
}

// advanceStops stops every unit waiting in stopOrdered whose dependents
// are all stopped. If none can go and nothing is stopping (a dependency
// cycle among live units: Add cannot reject those), the rest go at once.
func (s *Supervisor) advanceStops() {
	if s.nStopAfter == 0 {
		return // no ordered stop pending: settleDeps calls this on every change
	}
	// Most units are nobody's dependency: they go at once, without a scan
	// for dependents each (a big cluster would make that quadratic).
	needed := map[string]bool{}
	for _, name := range s.order {
		for _, d := range s.units[name].spec.DependsOn {
			needed[d.Name] = true
		}
	}
	for s.nStopAfter > 0 {
		progress, busy := false, false
		for _, name := range s.order {
			u := s.units[name]
			if u.info.State == Stopping {
				busy = true
			}
			if !u.stopAfter {
				continue
			}
			if (needed[u.spec.Name] || (u.spec.Group != "" && needed[u.spec.Group])) && s.hasLiveDependent(u) {
				continue
			}
			u.stopAfter = false
			s.nStopAfter--
			s.stopUnit(u)
			progress = true
		}
		if progress {
			continue
		}
		if !busy {
			for _, name := range s.order {
				if u := s.units[name]; u.stopAfter {
					u.stopAfter = false
					s.nStopAfter--
					s.event(u, "stopping despite live dependents (a dependency cycle)")
					s.stopUnit(u)
				}
			}
		}
		return
	}
}

// hasLiveDependent reports whether a unit that depends on u is still live.
func (s *Supervisor) hasLiveDependent(u *unit) bool {
	for _, name := range s.order {
		w := s.units[name]
		if w != u && w.info.State.Live() && w.info.State != Stuck && dependsOnUnit(w, u) {
			return true
		}
	}
	return false
}

// StopAll stops every unit, dependents before what they depend on (each
// unit waits for its dependents to have stopped); pending restarts are
// cancelled. It returns at once; units are stopped in the background.
func (s *Supervisor) StopAll() error {
	err := s.call(func() {
		if s.shutting {
			return
		}
		units := make([]*unit, 0, len(s.order))
		for _, name := range s.order {
			u := s.units[name]
			u.restart = false
			s.releaseUp(u, errRestartCancelled)
			units = append(units, u)
		}
		s.stopOrdered(units)
	})
	return err
}
