package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// texts is a buffer's lines' texts.
func texts(b *logBuf) []string {
	var out []string
	for _, l := range b.lines {
		out = append(out, l.text)
	}
	return out
}

// A pane's history is a Tail and its cursor continues from the tail's last
// line: lines written between the two are read once, none lost, none twice.
func TestFollowNothingBetweenTailAndCursor(t *testing.T) {
	fb := newFake(fixture()...)
	fb.addLines("api", procs.Stdout, "one", "two", "three")
	once := true
	fb.onTail = func(name string) {
		if name == "api" && once {
			once = false
			fb.addLines("api", procs.Stdout, "between 1", "between 2")
		}
	}
	hs := newHarness(t, fb, 120, 40)
	b := hs.m.logs.get("api")
	want := []string{"one", "two", "three", "between 1", "between 2"}
	if got := texts(b); !slices.Equal(got, want) {
		t.Fatalf("after the start: %q, want %q", got, want)
	}
	seq := fb.addLines("api", procs.Stdout, "four")
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": seq}})
	if got := texts(b); !slices.Equal(got, append(want, "four")) {
		t.Errorf("after a batch: %q", got)
	}
	if !strings.HasSuffix(bodyText(hs), "four") {
		t.Errorf("pane:\n%s", bodyText(hs))
	}
}

// A unit's cursor is closed once its pane shows another unit; its lines are
// not read any more, and coming back resumes after the newest line held.
func TestFollowerStopsWhenItsUnitLeavesTheScreen(t *testing.T) {
	fb := newFake(fixture()...)
	apiOutput(fb)
	hs := newHarness(t, fb, 120, 40)
	if hs.m.follows["api"] == nil || len(fb.followers) != 1 {
		t.Fatalf("followers %v, subscriptions %d", hs.m.follows, len(fb.followers))
	}
	apiSub := fb.follower(0)
	hs.key("j")
	if _, ok := hs.m.follows["api"]; ok || hs.m.follows["worker"] == nil {
		t.Fatalf("after j: followers %v", hs.m.follows)
	}
	for deadline := time.Now().Add(5 * time.Second); !apiSub.isClosed(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("api's cursor was not closed")
		}
	}
	seq := fb.addLines("api", procs.Stdout, "unseen")
	before := len(fb.Calls())
	hs.deliver(procs.Batch{Logs: map[string]uint64{"api": seq}})
	if got := fb.Calls()[before:]; len(got) != 0 {
		t.Errorf("a batch of an unshown unit's lines made calls %q", got)
	}
	// Back on api: it resumes after its newest line (no tail, one Since).
	hs.key("k")
	if got := fb.Calls()[before:]; !slices.Equal(got, []string{"since api 7"}) {
		t.Errorf("back on api: calls %q", got)
	}
	if !strings.HasSuffix(bodyText(hs), "unseen") {
		t.Errorf("pane:\n%s", bodyText(hs))
	}
}

// The merged stream's one cursor follows every unit, also one added after
// the stream started.
func TestMergedFollowsUnitsAddedLater(t *testing.T) {
	hs := rich(t, 120, 40)
	fb := hs.fb
	hs.key("M")
	late := running("late", 7000, 0, 1<<20, time.Second)
	fb.mu.Lock()
	fb.infos = append(fb.infos, late)
	fb.mu.Unlock()
	seq := fb.addLines("late", procs.Stdout, "late says hi")
	hs.deliver(procs.Batch{States: []procs.Info{late}, Logs: map[string]uint64{"late": seq}})
	if body := bodyOf(hs.m.merged.pane.rows); !strings.Contains(body, "│ late says hi") {
		t.Errorf("merged pane lacks the new unit's line:\n%s", body)
	}
}

// A cursor whose events fail is let go: the pane says so, and no
// subscription is left open behind the stopped follower.
func TestFailedFollowerClosesItsCursor(t *testing.T) {
	fb := newFake(fixture()...)
	apiOutput(fb)
	hs := newHarness(t, fb, 120, 40)
	f := hs.m.follows["api"]
	if f == nil {
		t.Fatal("api is not followed")
	}
	cur, err := procs.Follow(fb, []string{"api"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	sub := fb.follower(len(fb.followers) - 1)
	hs.send(followMsg{id: f.id, cur: cur, err: errors.New("events failed")})
	if !sub.isClosed() {
		t.Fatal("the failed follower's cursor is still open")
	}
	if !strings.Contains(hs.m.View(), "events failed") {
		t.Errorf("the failure is not on screen:\n%s", hs.m.View())
	}
}

// A failed read of a unit's messages is said, not swallowed.
func TestFailedMessagesReadIsSaid(t *testing.T) {
	hs := newHarness(t, newFake(fixture()...), 120, 40)
	hs.send(msgsMsg{name: "api", f: &msgsFetch{err: errors.New("store gone")}})
	if !strings.Contains(hs.m.View(), "store gone") {
		t.Errorf("the failure is not on screen:\n%s", hs.m.View())
	}
}
