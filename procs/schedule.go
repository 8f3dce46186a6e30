package procs

import "time"

// Schedule gives a scheduled unit's run times: Next returns the first time
// after t a run is due (the zero time: never again). A cron expression
// parsed by github.com/robfig/cron/v3 is one; procs does not parse them.
type Schedule interface {
	Next(t time.Time) time.Time
}

// armSchedule sets the timer for a scheduled unit's next run and shows its
// time in Info.NextRun. after is the time to look from: now, or the run just
// due if the clock reads earlier (so a timer never yields the same run
// twice). Owner goroutine only.
func (s *Supervisor) armSchedule(u *unit, after time.Time) {
	s.stopSchedule(u)
	u.info.NextRun = time.Time{}
	if u.spec.Schedule == nil || u.spec.Disabled || s.shutting {
		return
	}
	now := s.clock.Now()
	next := u.spec.Schedule.Next(later(now, after))
	if next.IsZero() {
		return // the expression has no more times
	}
	u.info.NextRun = next
	gen := u.schedGen
	// Its own timer, not u.timer: the schedule goes on across the runs'
	// starts and stops, which bump the epoch that u.timer is tagged with.
	u.sched = s.clock.AfterFunc(next.Sub(now), func() {
		s.post(func() {
			if u.schedGen != gen || s.units[u.spec.Name] != u {
				return // re-armed or removed meanwhile
			}
			u.sched = nil
			s.scheduledRun(u, next)
		})
	})
}

// scheduledRun starts a scheduled unit's run that is due, or skips it (and
// says so) while the previous run is still going; then arms the next.
func (s *Supervisor) scheduledRun(u *unit, due time.Time) {
	if s.shutting {
		return
	}
	if u.info.State.Live() || u.info.State == Backoff || u.info.State == Waiting {
		s.event(u, "scheduled run of %s skipped: the previous run is still going (%s)",
			due.Format(time.RFC3339), u.info.State)
	} else {
		s.event(u, "scheduled run of %s", due.Format(time.RFC3339))
		u.failures = 0
		// Not a restart: each scheduled run is a first run of its own;
		// it waits for its dependencies as every start does.
		s.launch(u, false)
	}
	s.armSchedule(u, due)
	s.publish(u)
}

// stopSchedule cancels a unit's schedule (it is being removed, or re-armed).
// Owner goroutine only.
func (s *Supervisor) stopSchedule(u *unit) {
	if u.sched != nil {
		u.sched.Stop()
		u.sched = nil
	}
	u.schedGen++
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
