package ui

import (
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// A unit waiting for its dependencies reads "waiting" in the amber of a
// unit on its way, not as an unknown state.
func TestWaitingState(t *testing.T) {
	in := procs.Info{Name: "web", State: procs.Waiting, Reason: "waiting for db (ready)"}
	glyph, words, tone := stateText(&in, time.Now())
	if glyph != "◌" || words != "waiting" || tone != toneStarting || toneOf(in.State) != toneStarting {
		t.Fatalf("waiting shows as %q %q tone %v", glyph, words, tone)
	}
	if got := shownReason(&in); got != in.Reason {
		t.Fatalf("reason shown as %q", got)
	}
}
