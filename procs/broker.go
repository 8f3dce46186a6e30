package procs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by a subscription whose supervisor has shut down or
// that was closed.
var ErrClosed = errors.New("procs: subscription closed")

// logPace is the shortest gap between two batches that carry only log
// announcements: a flooding child costs a subscriber at most ~20 wake-ups a
// second, while state changes are delivered at once.
const logPace = 50 * time.Millisecond

// maxPendingStates bounds what a subscriber that never reads can pile up.
// Past it the pending states are folded to the newest per unit: the reader
// still sees every unit's latest state, just not each step on the way.
const maxPendingStates = 4096

// broker fans events out to subscribers. Each subscriber has a mailbox that
// coalesces: publishing never blocks and never waits for a reader.
type broker struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
	shut bool
	// nsubs is len(subs), readable without mu: a log announcement with
	// nobody subscribed (headless, a worker's round trip) then touches no
	// lock that the other side of a conversation also writes.
	nsubs atomic.Int32
	// clock paces log-only batches; nil is the wall clock. Tests inject
	// one to drive the pacing without waiting on real time.
	clock Clock
}

func (b *broker) now() time.Time {
	if b.clock == nil {
		return time.Now()
	}
	return b.clock.Now()
}

func (b *broker) afterFunc(d time.Duration, f func()) Timer {
	if b.clock == nil {
		return time.AfterFunc(d, f)
	}
	return b.clock.AfterFunc(d, f)
}

func newBroker() *broker { return &broker{subs: make(map[*Subscription]struct{})} }

// Subscription receives Batches. Use Next in a loop; Close when done.
type Subscription struct {
	b      *broker
	wake   chan struct{} // capacity 1: "something is pending"
	mu     sync.Mutex
	batch  Batch
	closed bool
	last   time.Time // when the previous batch was handed out
	// pacing says Next is holding back a log-only batch until its pace
	// timer fires: a log announcement then need not wake it (the timer
	// will), so a flood costs the reader no extra wake-ups, while a state
	// change still does and is handed out at once.
	pacing bool
	// retired goes with the pending batch's Removed, took with the batch
	// Next handed out last (read by the Cursor that owns the subscription,
	// right after Next).
	retired, took []retiredRing
}

func (b *broker) subscribe() *Subscription {
	s := &Subscription{b: b, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shut {
		s.closed = true
		return s
	}
	b.subs[s] = struct{}{}
	b.nsubs.Store(int32(len(b.subs)))
	return s
}

func (b *broker) each(f func(*Subscription)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		f(s)
	}
}

func (b *broker) state(info Info) {
	b.each(func(s *Subscription) {
		s.put(func(bt *Batch) {
			bt.States = append(bt.States, info)
			if len(bt.States) > maxPendingStates {
				bt.States = foldStates(bt.States)
			}
		})
	})
}

// maxPendingRetired bounds the removed units' rings a subscriber that does
// not read can pin: past it the oldest is let go, and a Cursor counts its
// unread lines as missed.
const maxPendingRetired = 64

// removed announces a unit's removal with its ring r, so that followers can
// still read the lines it wrote before (see retiredRing).
func (b *broker) removed(name string, r *ring) {
	b.each(func(s *Subscription) {
		s.put(func(bt *Batch) {
			bt.Removed = append(bt.Removed, name)
			s.retired = append(s.retired, retiredRing{name: name, r: r, last: bt.Logs[name], at: len(bt.States)})
			delete(bt.Logs, name)
			if i := len(s.retired) - maxPendingRetired - 1; i >= 0 {
				s.retired[i].r = nil
			}
		})
	})
}

func (b *broker) stats(st *Stats) {
	b.each(func(s *Subscription) { s.put(func(bt *Batch) { bt.Stats = st }) })
}

// logs announces a unit's newest line (paced: see Subscription.Next).
func (b *broker) logs(name string, last uint64) {
	// Lines are in their ring before they are announced, and a new
	// subscriber is told every ring's newest line after it is counted
	// (Supervisor.Subscribe): skipping when nobody was counted loses nothing.
	if b.nsubs.Load() == 0 {
		return
	}
	b.each(func(s *Subscription) {
		s.putLog(func(bt *Batch) {
			if bt.Logs == nil {
				bt.Logs = make(map[string]uint64)
			}
			if last > bt.Logs[name] {
				bt.Logs[name] = last
			}
		})
	})
}

// shutdown closes every subscription; Next returns what is pending, then ErrClosed.
func (b *broker) shutdown() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shut = true
	for s := range b.subs {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.signal()
		delete(b.subs, s)
	}
	b.nsubs.Store(0)
}

// put adds to the pending batch and wakes Next.
func (s *Subscription) put(f func(*Batch)) {
	s.mu.Lock()
	f(&s.batch)
	s.mu.Unlock()
	s.signal()
}

// putLog adds a log announcement to the pending batch. It wakes Next only
// when Next is not pacing: a pacing Next is woken by its pace timer, so a
// flood of lines costs a reader no more wake-ups than the pace allows.
func (s *Subscription) putLog(f func(*Batch)) {
	s.mu.Lock()
	f(&s.batch)
	wake := !s.pacing
	s.mu.Unlock()
	if wake {
		s.signal()
	}
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next waits for the next non-empty batch. It returns ErrClosed once the
// subscription is closed and drained, or ctx's error.
//
// A batch of log announcements alone is handed out at most once per
// logPace; anything else (a state change, a removal, stats, the close) is
// handed out as soon as it is pending, with whatever logs came with it,
// even in the middle of a pacing wait.
func (s *Subscription) Next(ctx context.Context) (Batch, error) {
	var pace Timer
	defer func() {
		if pace != nil {
			pace.Stop()
		}
	}()
	for {
		s.mu.Lock()
		// A wake-up already queued is for what this look sees: drop it, or
		// it would end the wait below at once (a log announced just before
		// Next, then pacing, then a spurious second round).
		select {
		case <-s.wake:
		default:
		}
		s.pacing = false
		empty, closed := s.batch.Empty(), s.closed
		onlyLogs := len(s.batch.States) == 0 && len(s.batch.Removed) == 0 && s.batch.Stats == nil
		var wait time.Duration
		if !empty && onlyLogs && !closed {
			wait = logPace - s.b.now().Sub(s.last)
		}
		if !empty && wait <= 0 {
			b := s.batch
			s.batch = Batch{}
			s.took, s.retired = s.retired, nil
			s.last = s.b.now()
			s.mu.Unlock()
			return b, nil
		}
		if wait > 0 {
			s.pacing = true
		}
		s.mu.Unlock()
		if empty && closed {
			return Batch{}, ErrClosed
		}
		if wait > 0 && pace == nil {
			// The timer only wakes this loop, which then checks again:
			// one wake channel serves the timer and every urgent event.
			pace = s.b.afterFunc(wait, s.signal)
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			s.mu.Lock()
			s.pacing = false
			s.mu.Unlock()
			return Batch{}, ctx.Err()
		}
		if pace != nil {
			pace.Stop()
			pace = nil
		}
	}
}

// Close unsubscribes. Pending events are discarded.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.nsubs.Store(int32(len(s.b.subs)))
	s.b.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.batch = Batch{}
	s.retired, s.took = nil, nil
	s.mu.Unlock()
	s.signal()
}

// foldStates keeps the newest state of each unit, in the order of their last change.
func foldStates(in []Info) []Info {
	seen := make(map[string]bool, len(in))
	out := make([]Info, 0, len(in))
	for i := len(in) - 1; i >= 0; i-- {
		if !seen[in[i].Name] {
			seen[in[i].Name] = true
			out = append(out, in[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
