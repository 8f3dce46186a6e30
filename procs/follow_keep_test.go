package procs

import (
	"fmt"
	"testing"
)

// A cursor that keeps only the newest n lines of a unit far behind skips the
// rest, counted as missed, instead of reading through the flood.
func TestFollowKeepNewestSkipsAFloodItCannotShow(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 0)
	c, err := s.Follow([]string{"web"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.KeepNewest(3)
	emit(s, "web", 1, 1000)
	texts, missed := drain(t, c, "web", 1000)
	if missed != 997 || fmt.Sprint(texts) != "[web 998 web 999 web 1000]" {
		t.Fatalf("got %q and %d missed, want the newest 3 and 997 missed", texts, missed)
	}
}

// From continues a unit after a tail the reader took before the cursor
// started: nothing between the two is lost, nothing comes twice.
func TestFollowFromContinuesAfterATail(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "web", 0)
	emit(s, "web", 1, 5)
	tail, err := s.Tail("web", 2) // the reader shows lines 4 and 5
	if err != nil || len(tail) != 2 {
		t.Fatalf("tail %v %v", tail, err)
	}
	emit(s, "web", 6, 2) // written before the cursor starts
	c, err := s.Follow(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.From("web", tail[1].Seq)
	emit(s, "web", 8, 1)
	texts, missed := drain(t, c, "web", 3)
	if missed != 0 || fmt.Sprint(texts) != "[web 6 web 7 web 8]" {
		t.Fatalf("after the tail: %q missed %d, want lines 6 to 8", texts, missed)
	}
}
