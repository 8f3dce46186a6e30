package ui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/kelpie-dev/kelpie/procs"
)

// attached is a harness whose screen is attached to a kelpie elsewhere.
func attached(t *testing.T) (*harness, *fakeBackend) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 24)
	hs.m.opts.Attached = "/run/k.sock"
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 24}) // the keys are applied again
	return hs, fb
}

func TestAttachedQLeavesEverythingRunning(t *testing.T) {
	hs, fb := attached(t)
	if f := footer(hs); !strings.Contains(f, "q leave") || !strings.Contains(f, "Q stop all") {
		t.Errorf("footer: %q", f)
	}
	hs.key("q")
	if !hs.quit || slices.Contains(fb.Calls(), "shutdown ") {
		t.Fatalf("q: quit=%v calls=%q", hs.quit, fb.Calls())
	}
}

func TestAttachedSignalLeavesToo(t *testing.T) {
	hs, fb := attached(t)
	hs.send(signalMsg{})
	if !hs.quit || slices.Contains(fb.Calls(), "shutdown ") {
		t.Fatalf("a signal to the client: quit=%v calls=%q", hs.quit, fb.Calls())
	}
}

func TestAttachedStopAllAsksFirst(t *testing.T) {
	hs, fb := attached(t)
	hs.key("Q")
	if s := statusLine(hs); !strings.Contains(s, "stop every unit and the kelpie at /run/k.sock?") {
		t.Fatalf("status = %q", s)
	}
	hs.key("n")
	if hs.quit || slices.Contains(fb.Calls(), "shutdown ") {
		t.Fatal("n stopped it")
	}
	hs.key("Q", "y")
	if !hs.quit || !slices.Contains(fb.Calls(), "shutdown ") || !hs.m.ShutdownDone() {
		t.Fatalf("Q y: quit=%v calls=%q", hs.quit, fb.Calls())
	}
}

// The kelpie going away ends an attached screen (Run then says so); a local
// screen whose events fail stays, to show why.
func TestAttachedKelpieGoneEndsTheScreen(t *testing.T) {
	hs, _ := attached(t)
	hs.send(subEndMsg{err: procs.ErrClosed})
	if !hs.quit || !hs.m.subEnded || hs.m.shutting {
		t.Fatalf("quit=%v subEnded=%v", hs.quit, hs.m.subEnded)
	}
	if (&GoneError{Where: "/run/k.sock"}).Error() != "kelpie at /run/k.sock has gone away" {
		t.Fatal("GoneError's words")
	}
}

func TestLocalScreenHasNoStopAll(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 120, 24)
	if f := footer(hs); strings.Contains(f, "Q stop all") || strings.Contains(f, "leave") {
		t.Errorf("footer: %q", f)
	}
	hs.key("Q")
	if hs.m.confirm != nil {
		t.Fatal("Q asked something on a local screen")
	}
}

func TestAttachedHelpListsStopAll(t *testing.T) {
	hs, _ := attached(t)
	hs.send(tea.WindowSizeMsg{Width: 200, Height: 60})
	hs.key("?")
	if text := hs.screen(); !strings.Contains(text, "stop every unit and kelpie") || !strings.Contains(text, "leave (kelpie keeps running)") {
		t.Fatalf("help:\n%s", text)
	}
}
