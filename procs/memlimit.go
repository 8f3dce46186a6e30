package procs

import "fmt"

// memLimitSamples is how many samples in a row a unit's memory must be over
// its MaxMemory before it is restarted: one sample over is often a passing
// peak (a GC cycle, a burst of requests), three is a trend.
const memLimitSamples = 3

// checkMemory counts the samples in a row the unit's tree was over its
// memory limit, and once there have been memLimitSamples stops the run
// gracefully as a failed one (see unhealthy): the restart policy decides
// what follows, with backoff and the crash-loop limit, as for a crash. A
// run never seen under its limit for MinUptime is a quick failure, however
// long the samples took. Owner goroutine only.
func (s *Supervisor) checkMemory(u *unit, rss uint64) {
	if u.spec.MaxMemory == 0 || u.stopping || s.shutting {
		return
	}
	if rss <= u.spec.MaxMemory {
		u.memOver = 0
		u.memWell = s.clock.Now()
		return
	}
	u.memOver++
	if u.memOver < memLimitSamples {
		return
	}
	u.memOver = 0
	s.unhealthy(u, fmt.Sprintf("memory limit (%s > %s)", mib(rss), mib(u.spec.MaxMemory)), u.memWell)
}

// restartFor stops a live unit gracefully (its stop signal, then SIGKILL
// after its stop timeout) and starts it again once it has ended, saying why
// in its event line and in its reason while it stops. It is a deliberate
// restart (a watched file changed), not a failure: the restart policy and
// the crash-loop count are not involved (a failed run goes through
// unhealthy). Owner goroutine only.
func (s *Supervisor) restartFor(u *unit, why string) {
	if !u.alive() || u.stopping {
		return
	}
	s.event(u, "restarting: %s", why)
	u.restart = true
	u.info.Reason = why // stopUnit keeps it, and publishes
	s.stopUnit(u)
}

// mib writes a byte count in whole MiB, as the memory limit's reason does.
func mib(n uint64) string {
	if n%(1<<20) == 0 || n >= 10<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
