package procs

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// floodPump feeds n numbered lines into a unit's ring through a pump that
// may wait for a lossless follower, as a pipe's reader does, in 1,000-line
// reads; done is closed when the last is stored.
func floodPump(s *Supervisor, name string, n int) (done chan struct{}) {
	p := newPump(s.ring(name), Stdout, DefaultMaxLine, func(last uint64) { s.broker.logs(name, last) })
	p.hurry = s.hurrier(name)
	done = make(chan struct{})
	go func() {
		defer close(done)
		var b []byte
		for i := 1; i <= n; i++ {
			b = fmt.Appendf(b, "%d\n", i)
			if i%1000 == 0 || i == n {
				p.feed(b, time.Now(), false)
				b = b[:0]
			}
		}
	}()
	return done
}

// losslessOn starts a supervisor with an idle unit "u" (a ring of
// logBuffer bytes) and a lossless cursor over units (nil: all) from back
// lines of history; closeIt closes the cursor with the test.
func losslessOn(t *testing.T, logBuffer int, units []string, back int, closeIt bool) (*Supervisor, *Cursor) {
	t.Helper()
	s := newTestSupervisor(t, Options{})
	if logBuffer > 0 {
		addIdle(t, s, "u", logBuffer)
	}
	c, err := s.Follow(units, back)
	if err != nil {
		t.Fatal(err)
	}
	if closeIt {
		t.Cleanup(c.Close)
	}
	c.Lossless()
	return s, c
}

// A lossless cursor reads every line of a unit that writes far faster than
// it reads, through a ring of a few dozen lines: the writer waits for it.
func TestLosslessCursorMissesNothing(t *testing.T) {
	s, c := losslessOn(t, 4096, []string{"u"}, 0, true)
	const n = 50000
	done := floodPump(s, "u", n)
	texts, missed := drain(t, c, "u", n)
	<-done
	if missed != 0 {
		t.Fatalf("%d lines missed, want none", missed)
	}
	for i, text := range texts {
		if text != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q", i+1, text)
		}
	}
}

// A lossless cursor that stops reading holds its unit back, and closing it
// lets the unit go on: nothing waits on a follower that has gone.
func TestClosingALosslessCursorReleasesItsUnits(t *testing.T) {
	s, c := losslessOn(t, 4096, []string{"u"}, 0, false)
	done := floodPump(s, "u", 20000)
	// The ring holds a few dozen lines: the flood cannot end unread.
	for s.ring("u").Last() < 100 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("the flood ended, its lines unread by the lossless cursor")
	default:
	}
	c.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the flood still waits after the lossless cursor closed")
	}
}

// A unit removed right after a flood, its last lines not read yet: the
// removed unit's ring stays pinned until the lossless cursor has read it to
// its end, then the removal is reported.
func TestLosslessCursorReadsARemovedUnitToItsEnd(t *testing.T) {
	s, c := losslessOn(t, 4096, nil, 0, true)
	const n = 30000
	done := floodPump(s, "u", n)
	var rb RawBatch
	next, removing, removed := 1, false, false
	for !removed {
		if err := c.NextRaw(nextCtx(t), &rb); err != nil {
			t.Fatalf("after line %d: %v", next-1, err)
		}
		for _, o := range rb.Units {
			if o.Missed != 0 {
				t.Fatalf("%d lines of %s missed after line %d", o.Missed, o.Unit, next-1)
			}
			for _, l := range o.Lines {
				if l.Stream != Stdout {
					continue
				}
				if got := string(rb.Buf[l.Off : l.Off+l.Len]); got != strconv.Itoa(next) {
					t.Fatalf("line %q where %d was due", got, next)
				}
				next++
			}
		}
		removed = len(rb.Removed) > 0
		select {
		case <-done:
			if !removing {
				removing = true
				if err := s.Remove("u"); err != nil {
					t.Fatal(err)
				}
			}
		default:
		}
	}
	if next != n+1 {
		t.Fatalf("removal reported after %d lines, want all %d", next-1, n)
	}
}

// A lossless cursor that makes no progress at all (a log writer stuck on a
// hung disk) is given up on after pinWait: the unit goes on, and the lines
// it could not keep are counted missed when the cursor reads again.
func TestAStuckLosslessCursorIsGivenUp(t *testing.T) {
	s, c := losslessOn(t, 4096, []string{"u"}, 0, true)
	const n = 20000
	select {
	case <-floodPump(s, "u", n):
	case <-time.After(10 * pinWait):
		t.Fatal("the flood still waits for a cursor that never reads")
	}
	texts, missed := drain(t, c, "u", n)
	if missed == 0 || texts[len(texts)-1] != strconv.Itoa(n) {
		t.Fatalf("%d missed, last %q; want some missed and the last line", missed, texts[len(texts)-1])
	}
}

// Lapse lets go of every ring a lossless cursor holds, and ending it holds
// them again from where the cursor is.
func TestLapseSuspendsTheHold(t *testing.T) {
	s, c := losslessOn(t, 4096, []string{"u"}, 0, true)
	r := s.ring("u")
	pinned := func() uint64 { r.mu.Lock(); defer r.mu.Unlock(); return r.pin }
	if pinned() != 1 {
		t.Fatalf("pin %d, want 1 (nothing read yet)", pinned())
	}
	c.Lapse(true)
	if pinned() != 0 {
		t.Fatalf("pin %d while lapsed, want none", pinned())
	}
	<-floodPump(s, "u", 5000) // nothing holds it
	c.Lapse(false)
	if pinned() != 1 {
		t.Fatalf("pin %d after the lapse, want 1", pinned())
	}
}

// A unit added after the lossless cursor started is held from its first
// line, before the cursor has heard of it: a flood it writes at once loses
// nothing.
func TestLosslessCursorHoldsAUnitAddedLater(t *testing.T) {
	s, c := losslessOn(t, 0, nil, -1, true)
	addIdle(t, s, "late", 4096)
	r := s.ring("late")
	r.mu.Lock()
	pin := r.pin
	r.mu.Unlock()
	if pin != 1 {
		t.Fatalf("the new ring's pin is %d before the cursor heard of it, want 1", pin)
	}
	const n = 20000
	done := floodPump(s, "late", n)
	texts, missed := drain(t, c, "late", n)
	<-done
	if missed != 0 || len(texts) != n || texts[n-1] != strconv.Itoa(n) {
		t.Fatalf("%d lines, %d missed; want all %d", len(texts), missed, n)
	}
}

// Appends that do not wait (events, message notes) let a pinned ring grow
// past its limit, but not past twice it: then the follower is given up on.
func TestAPinnedRingGrowsToTwiceItsLimitAtMost(t *testing.T) {
	s, _ := losslessOn(t, 64<<10, []string{"u"}, 0, true)
	r := s.ring("u")
	note := []byte(strings.Repeat("n", 200))
	for range 10000 { // 2 MB of notes, never read
		r.appendFlags(time.Now(), Event, 0, note)
	}
	r.mu.Lock()
	used, limit, lapsed := r.used, r.limit, r.lapsed
	r.mu.Unlock()
	if used > 2*limit || !lapsed {
		t.Fatalf("ring holds %d bytes (limit %d), lapsed %v; want at most twice the limit, lapsed", used, limit, lapsed)
	}
}
