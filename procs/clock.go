package procs

import (
	"math/rand/v2"
	"time"
)

// Clock is the supervisor's source of time, injected so tests can drive
// backoff and stop timeouts without sleeping.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened yet.
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// backoffDelay is the wait before restart number n of a run of quick failures
// (n starts at 1). The first restart is immediate, so a process that had been
// healthy is back at once; from the second on the delay doubles from initial
// up to max, with ±20 % jitter so a crowd of units doesn't restart in step.
func backoffDelay(n int, initial, ceiling time.Duration, jitter func() float64) time.Duration {
	if n <= 1 {
		return 0
	}
	d := initial
	for i := 2; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	// Clamp after the jitter too: the ceiling is a promise to the user.
	return min(time.Duration(float64(d)*(0.8+0.4*jitter())), ceiling)
}

// defaultJitter draws from the runtime-seeded generator.
func defaultJitter() float64 { return rand.Float64() }
