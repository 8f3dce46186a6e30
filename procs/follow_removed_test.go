package procs

import (
	"errors"
	"fmt"
	"testing"
)

// TestFollowReadsARemovedUnitsLastLines: lines a unit wrote just before it
// was removed reach every follower (NextRaw, as `logs -f` and headless
// output read, and Next, as the screen reads), in order and once, and then the
// removal. The removal races the reader, so it is repeated.
func TestFollowReadsARemovedUnitsLastLines(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	for round := range 50 {
		raw, err := s.Follow(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		str, err := s.Follow(nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("web-%d", round%3) // names come back as new units
		addIdle(t, s, name, 0)
		want := []string{"a", "b", "c"}
		for _, w := range want {
			if err := s.Note(name, w); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Remove(name); err != nil {
			t.Fatal(err)
		}
		// NextRaw: every line, then the removal.
		var got []string
		var rb RawBatch
		removed := false
		for !removed {
			if err := raw.NextRaw(nextCtx(t), &rb); err != nil {
				t.Fatalf("round %d: after %q: %v", round, got, err)
			}
			for _, u := range rb.Units {
				if u.Unit != name || u.Missed != 0 {
					t.Fatalf("round %d: %d missed of %s", round, u.Missed, u.Unit)
				}
				for _, l := range u.Lines {
					got = append(got, string(rb.Buf[l.Off:l.Off+l.Len]))
				}
			}
			for _, r := range rb.Removed {
				removed = removed || r == name
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round %d: NextRaw read %q, want %q", round, got, want)
		}
		// Next: the same lines.
		texts, missed := drain(t, str, name, uint64(len(want)))
		if missed != 0 || fmt.Sprint(texts) != fmt.Sprint(want) {
			t.Fatalf("round %d: Next read %q (%d missed), want %q", round, texts, missed, want)
		}
		raw.Close()
		str.Close()
	}
}

// rawRead reads rb's lines as "unit text" and its removals as "-unit".
func rawRead(rb *RawBatch) []string {
	var got []string
	for _, u := range rb.Units {
		if u.Missed > 0 {
			got = append(got, fmt.Sprintf("%s missed %d", u.Unit, u.Missed))
		}
		for _, l := range u.Lines {
			got = append(got, u.Unit+" "+string(rb.Buf[l.Off:l.Off+l.Len]))
		}
	}
	for _, r := range rb.Removed {
		got = append(got, "-"+r)
	}
	return got
}

// TestFollowNeverMixesARemovedUnitWithItsSuccessor: a unit removed and
// added again under its name before the follower reads is two histories:
// the old one's lines, its removal, then the new one's from its first line,
// to a follower of every unit and to one of that unit alone.
func TestFollowNeverMixesARemovedUnitWithItsSuccessor(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "api", 0)
	all, err := s.Follow(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	one, err := s.Follow([]string{"api"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	for _, l := range []string{"old 1", "old 2"} {
		if err := s.Note("api", l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Remove("api"); err != nil {
		t.Fatal(err)
	}
	addIdle(t, s, "api", 0)
	if err := s.Note("api", "new 1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"api old 1", "api old 2", "-api", "api new 1"}
	var got []string
	var rb RawBatch
	for len(got) < len(want) {
		if err := all.NextRaw(nextCtx(t), &rb); err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, rawRead(&rb)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("following every unit read %q, want %q", got, want)
	}
	got = nil
	for len(got) < 3 {
		if err := one.NextRaw(nextCtx(t), &rb); err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, rawRead(&rb)...)
	}
	if fmt.Sprint(got) != fmt.Sprint(want[:3]) {
		t.Fatalf("following api read %q, want %q (the new api is not followed)", got, want[:3])
	}
}

// TestFollowLetsGoOfRemovedRingsItDoesNotRead: a follower that does not
// read pins at most maxPendingRetired removed units' rings; the lines of
// those let go are counted as missed, the others read.
func TestFollowLetsGoOfRemovedRingsItDoesNotRead(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	c, err := s.Follow(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = maxPendingRetired + 3
	for i := range n {
		name := fmt.Sprintf("job%d", i)
		addIdle(t, s, name, 0)
		for _, l := range []string{"x", "y"} {
			if err := s.Note(name, l); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	var missed, lines, removed int
	var rb RawBatch
	for removed < n {
		if err := c.NextRaw(nextCtx(t), &rb); err != nil {
			t.Fatalf("after %d removals: %v", removed, err)
		}
		for _, u := range rb.Units {
			missed += int(u.Missed)
			lines += len(u.Lines)
		}
		removed += len(rb.Removed)
	}
	if lines != 2*maxPendingRetired || missed != 2*3 {
		t.Fatalf("read %d lines and %d missed, want %d and %d", lines, missed, 2*maxPendingRetired, 2*3)
	}
}

// TestSinceIDReadsOneUnitOfAName: SinceID reads the unit with that id, live
// or among the newest maxGoneRings removed, and never another of its name.
func TestSinceIDReadsOneUnitOfAName(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addIdle(t, s, "api", 0)
	old, err := s.Get("api")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Note("api", "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("api"); err != nil {
		t.Fatal(err)
	}
	addIdle(t, s, "api", 0)
	cur, err := s.Get("api")
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID == old.ID || old.ID == 0 {
		t.Fatalf("ids %d then %d", old.ID, cur.ID)
	}
	if lines, _, err := s.SinceID("api", old.ID, 0, 10); err != nil || len(lines) != 1 || lines[0].Text != "old" {
		t.Fatalf("the removed api: %v %v", lines, err)
	}
	if lines, _, err := s.SinceID("api", cur.ID, 0, 10); err != nil || len(lines) != 0 {
		t.Fatalf("the new api: %v %v", lines, err)
	}
	for i := range maxGoneRings {
		name := fmt.Sprintf("job%d", i)
		addIdle(t, s, name, 0)
		if err := s.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.SinceID("api", old.ID, 0, 10); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a removed ring past the bound: %v, want ErrNotFound", err)
	}
}
