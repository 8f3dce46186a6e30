package procs

import (
	"fmt"
	"testing"
)

// TestFollowReadsARemovedUnitsLastLines: lines a unit wrote just before it
// was removed reach every follower (NextRaw, as the log files and `logs -f`
// read, and Next, as the screen reads), in order and once, and then the
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
