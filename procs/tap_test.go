package procs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recTap records what a Tap is given, per unit, and lets its units wait
// while full is set.
type recTap struct {
	mu     sync.Mutex
	units  map[string]*recUnit
	closed chan struct{}
}

type recUnit struct {
	t       *recTap
	lock    sync.Locker
	lines   []string
	lost    uint64
	removed int
	plain   int // lines given as plain
	runs    int // Lines calls
	// fullAfter: once Lines has taken this many lines in all, it stops
	// and the tap is full (0: never), as a log file's backlog fills in the
	// middle of a read.
	fullAfter int
	taken     int
	full      bool
	waits     int
	room      chan struct{}
}

func newRecTap() *recTap {
	return &recTap{units: map[string]*recUnit{}, closed: make(chan struct{})}
}

func (t *recTap) Unit(name string, lock sync.Locker) UnitTap {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := &recUnit{t: t, lock: lock, room: make(chan struct{})}
	t.units[name] = u
	return u
}

func (t *recTap) Close() { close(t.closed) }

func (t *recTap) unit(name string) *recUnit {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.units[name]
}

// The methods below are called with the unit's lock held (Wait aside).
func (u *recUnit) Line(_ int64, s Stream, text []byte, plain bool) {
	u.lines = append(u.lines, s.String()+" "+string(text))
	if plain {
		u.plain++
	}
}
func (u *recUnit) Lines(ts int64, s Stream, text []byte, fit Fit) (int, int) {
	u.runs++
	taken, lines := 0, 0
	for {
		e := fit.LineEnd(text, taken)
		if e < 0 || !fit.Fits(taken, lines, e-taken) {
			return taken, lines
		}
		n := e - taken
		if u.full || u.fullAfter > 0 && u.taken == u.fullAfter {
			u.full = true
			return taken, lines
		}
		u.Line(ts, s, text[taken:taken+n], true)
		u.taken++
		taken += n + 1
		lines++
	}
}
func (u *recUnit) Lost(n uint64) { u.lost += n }
func (u *recUnit) Full() bool {
	if u.full {
		u.waits++
	}
	return u.full
}
func (u *recUnit) Wait()    { <-u.room }
func (u *recUnit) Removed() { u.removed++ }

// read runs f with u's lock held, as the Tap's owner would read what it got.
func (u *recUnit) read(f func()) {
	u.lock.Lock()
	defer u.lock.Unlock()
	f()
}

func (u *recUnit) has(line string) func() bool {
	return func() bool {
		found := false
		u.read(func() {
			for _, l := range u.lines {
				found = found || l == line
			}
		})
		return found
	}
}

// A Tap is given every line as it is stored, in order, events too: a unit
// present when it is set from its oldest kept line (those already dropped
// counted as lost), a unit added later from its first; removal is said;
// Close comes with the shutdown; a second Tap is refused.
func TestTapIsGivenEveryLineInOrder(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	if err := s.Add(Spec{Name: "old", Shell: "seq 1 3000; exec sleep 600", LogBuffer: 4096}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("old"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "old's last line in its ring", func() bool {
		l, _ := s.Tail("old", 1)
		return len(l) == 1 && l[0].Text == "3000"
	})
	tp := newRecTap()
	if err := s.Tap(tp); err != nil {
		t.Fatal(err)
	}
	if err := s.Tap(newRecTap()); !errors.Is(err, ErrTapSet) {
		t.Fatalf("a second Tap: %v, want ErrTapSet", err)
	}
	old := tp.unit("old")
	kept, _ := s.Tail("old", 10000) // not read under the unit's lock: Tail takes it
	old.read(func() {
		if len(old.lines) != len(kept) || old.lost == 0 || uint64(len(kept))+old.lost != 3001 {
			t.Errorf("old: %d lines and %d lost given, want the %d kept and the rest (of 3001) lost", len(old.lines), old.lost, len(kept))
		}
	})

	if err := s.Add(Spec{Name: "new", Shell: "seq 1 20000; echo done; exec sleep 600"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("new"); err != nil {
		t.Fatal(err)
	}
	nu := tp.unit("new")
	waitFor(t, "new's last line", nu.has("stdout done"))
	nu.read(func() {
		next := 1
		for _, l := range nu.lines {
			var k int
			if _, err := fmt.Sscanf(l, "stdout %d", &k); err != nil {
				continue
			}
			if k != next {
				t.Fatalf("line %q where %d was due", l, next)
			}
			next++
		}
		// A line whose start came in an earlier read is not known plain.
		if next != 20001 || nu.lost != 0 || nu.plain < 19000 {
			t.Errorf("new: lines up to %d, %d lost, %d plain; want 20000, 0, most", next-1, nu.lost, nu.plain)
		}
		if nu.lines[0] != "event starting" && nu.lines[0][:6] != "event " {
			t.Errorf("new's first line %q is not its start event", nu.lines[0])
		}
	})

	w := watch(t, s)
	if err := s.Stop("new"); err != nil {
		t.Fatal(err)
	}
	w.until("new", "stopped", func(in Info) bool { return !in.State.Live() })
	if err := s.Remove("new"); err != nil {
		t.Fatal(err)
	}
	nu.read(func() {
		if nu.removed != 1 {
			t.Errorf("Removed said %d times, want 1", nu.removed)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
	select {
	case <-tp.closed:
	default:
		t.Fatal("the Tap was not closed by the shutdown")
	}
}

// A pipe's reader asks a full Tap before it stores and waits for it: the
// unit's output stops there (its pipe fills) and goes on when the Tap has
// room, nothing lost.
func TestAFullTapHoldsTheUnit(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	tp := newRecTap()
	if err := s.Tap(tp); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Spec{Name: "u", Shell: "echo one; exec sleep 600"}); err != nil {
		t.Fatal(err)
	}
	u := tp.unit("u")
	u.read(func() { u.full = true })
	if err := s.Start("u"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reader waiting", func() bool {
		w := 0
		u.read(func() { w = u.waits })
		return w > 0
	})
	if u.has("stdout one")() {
		t.Fatal("a line was given while the Tap was full")
	}
	u.read(func() { u.full = false })
	close(u.room)
	waitFor(t, "the held line", u.has("stdout one"))
}

// A Tap that fills in the middle of a read's run of lines takes only some:
// the ring stores just those, the reader waits, and the rest of the read is
// given after, in order, none twice.
func TestATapFullInMidRunTakesTheRestAfter(t *testing.T) {
	r := newRing(1 << 20)
	u := &recUnit{lock: &r.mu, room: make(chan struct{}), fullAfter: 3}
	r.tap = u
	p := newPump(r, Stdout, DefaultMaxLine, nil)
	p.mayWait = true
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		p.feed([]byte("l1\nl2\nl3\nl4\nl5\n"), time.Unix(0, 0), false)
	}()
	waitFor(t, "the reader waiting", func() bool {
		w := 0
		u.read(func() { w = u.waits })
		return w > 0
	})
	stored := 0
	u.read(func() { stored = len(u.lines) })
	if stored != 3 || r.Last() != 3 {
		t.Fatalf("while full: the tap has %d lines and the ring %d, want 3 and 3", stored, r.Last())
	}
	u.read(func() { u.full, u.fullAfter = false, 0 })
	close(u.room)
	<-fed
	if got := strings.Join(u.lines, ","); got != "stdout l1,stdout l2,stdout l3,stdout l4,stdout l5" || r.Last() != 5 {
		t.Fatalf("after the wait: tap %q, ring %d lines", got, r.Last())
	}
}
