package procs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// addIdle registers a unit that never runs; the test writes its log.
func addIdle(t *testing.T, s *Supervisor, name string, logBuffer int) {
	t.Helper()
	if err := s.Add(Spec{Name: name, Argv: []string{"/bin/true"}, LogBuffer: logBuffer}); err != nil {
		t.Fatal(err)
	}
}

// emit appends lines to a unit's ring and announces them, as a pump does.
func emit(s *Supervisor, name string, from, n int) {
	r := s.ring(name)
	var last uint64
	for i := from; i < from+n; i++ {
		last = r.Append(time.Now(), Stdout, fmt.Appendf(nil, "%s %d", name, i))
	}
	s.broker.logs(name, last)
}

func nextCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// drain reads from c until want lines (and missed) of unit arrived.
func drain(t *testing.T, c *Cursor, unit string, want uint64) (texts []string, missed uint64) {
	t.Helper()
	for uint64(len(texts))+missed < want {
		out, err := c.Next(nextCtx(t))
		if err != nil {
			t.Fatalf("after %d lines and %d missed of %d: %v", len(texts), missed, want, err)
		}
		for _, o := range out {
			if o.Unit != unit {
				t.Fatalf("lines of %s, want only %s", o.Unit, unit)
			}
			missed += o.Missed
			for _, l := range o.Lines {
				texts = append(texts, l.Text)
			}
		}
	}
	return texts, missed
}

func TestFollowStartsWithBackLinesAndRefusesUnknownUnits(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 0)
	emit(s, "web", 1, 5)
	if _, err := s.Follow([]string{"nope"}, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("follow of an unknown unit: %v, want ErrNotFound", err)
	}
	c, err := s.Follow([]string{"web"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	texts, missed := drain(t, c, "web", 2)
	if missed != 0 || fmt.Sprint(texts) != "[web 4 web 5]" {
		t.Fatalf("history: %q missed %d, want the last two and none missed", texts, missed)
	}
}

func TestFollowCountsWhatTheRingDroppedPastTheCursor(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 1) // the smallest ring: a few hundred lines
	c, err := s.Follow([]string{"web"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 20000
	emit(s, "web", 1, n) // far more than the ring keeps, before any read
	texts, missed := drain(t, c, "web", n)
	if missed == 0 || uint64(len(texts))+missed != n {
		t.Fatalf("got %d lines and %d missed, want some missed and %d in all", len(texts), missed, n)
	}
	if texts[len(texts)-1] != fmt.Sprintf("web %d", n) {
		t.Fatalf("last line %q, want the newest", texts[len(texts)-1])
	}
	// Read up: the next lines come with nothing missed.
	emit(s, "web", n+1, 3)
	texts, missed = drain(t, c, "web", 3)
	if missed != 0 || fmt.Sprint(texts) != fmt.Sprintf("[web %d web %d web %d]", n+1, n+2, n+3) {
		t.Fatalf("after catching up: %q missed %d", texts, missed)
	}
}

func TestFollowAllUnitsTakesInUnitsAddedLater(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "a", 0)
	addIdle(t, s, "b", 0)
	emit(s, "a", 1, 3)
	c, err := s.Follow(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	emit(s, "b", 1, 2)
	got := map[string][]string{}
	for len(got["a"]) < 1 || len(got["b"]) < 2 {
		out, err := c.Next(nextCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			for _, l := range o.Lines {
				got[o.Unit] = append(got[o.Unit], l.Text)
			}
		}
	}
	if fmt.Sprint(got) != "map[a:[a 3] b:[b 1 b 2]]" {
		t.Fatalf("got %v", got)
	}
	addIdle(t, s, "c", 0)
	emit(s, "c", 1, 2)
	texts, _ := drain(t, c, "c", 2)
	if fmt.Sprint(texts) != "[c 1 c 2]" {
		t.Fatalf("a unit added later: %q, want its lines from the first", texts)
	}
	if fmt.Sprint(c.Units()) != "[a b c]" {
		t.Fatalf("units followed: %v", c.Units())
	}
}

func TestFollowIsWokenByTheBroker(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 0)
	c, err := s.Follow([]string{"web"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan []Output, 1)
	go func() {
		out, err := c.Next(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- out
	}()
	select {
	case out := <-got:
		t.Fatalf("Next returned %v before any line", out)
	case <-time.After(20 * time.Millisecond): // a negative check: nothing must come
	}
	emit(s, "web", 1, 1)
	select {
	case out := <-got:
		if len(out) != 1 || len(out[0].Lines) != 1 || out[0].Lines[0].Text != "web 1" {
			t.Fatalf("woken with %v", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next was not woken by the announced line")
	}
}

func TestFollowDrainsThenClosesOnShutdown(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 0)
	c, err := s.Follow(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	emit(s, "web", 1, 3)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rb RawBatch
	var texts []string
	for {
		err := c.NextRaw(nextCtx(t), &rb)
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range rb.Units {
			for _, l := range u.Lines {
				texts = append(texts, u.Unit+":"+string(rb.Buf[l.Off:l.Off+l.Len]))
			}
		}
	}
	if fmt.Sprint(texts) != "[web:web 1 web:web 2 web:web 3]" {
		t.Fatalf("before ErrClosed: %q, want every line", texts)
	}
}

func TestFollowFromTheFirstLineCountsWhatIsGone(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 1)
	const n = 20000
	emit(s, "web", 1, n)
	c, err := s.Follow(nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	texts, missed := drain(t, c, "web", n)
	if missed == 0 || uint64(len(texts))+missed != n || fmt.Sprint(c.Units()) != "[web]" {
		t.Fatalf("%d lines, %d missed, units %v: want all %d accounted for, once", len(texts), missed, c.Units(), n)
	}
}
