// Package ui is kelpie's screen: one Bubble Tea program showing every unit,
// its state and resource use, and the selected unit's output.
//
// The UI knows the engine only through Backend. Every Backend call happens
// inside a tea.Cmd; Update only applies messages; View only joins strings that
// Update prepared.
package ui

import (
	"context"
	"syscall"

	"github.com/kelpie-dev/kelpie/procs"
)

// Backend is all the UI knows of the engine: a local supervisor now, a
// control-socket client later. Every method may block; the UI calls them only
// from commands, never from Update or View.
type Backend interface {
	// Subscribe returns every unit's snapshot and the events that follow it,
	// atomically.
	Subscribe() ([]procs.Info, Subscription)
	Start(name string) error
	Stop(name string) error
	Restart(name string) error
	Signal(name string, sig syscall.Signal) error
	// Tail returns the unit's newest n lines, oldest first.
	Tail(name string, n int) ([]procs.Line, error)
	// Since returns up to limit lines after seq after, oldest first; missed
	// counts lines after it that are gone.
	Since(name string, after uint64, limit int) (lines []procs.Line, missed uint64, err error)
	// Send sends one JSON message to a unit with a channel. The engine
	// refuses what ipc.CheckUser refuses (invalid JSON, Node's own NODE_
	// messages), a full queue and a closed channel with an error.
	Send(name string, msg []byte) error
	// Messages returns up to limit of the unit's channel messages (both
	// ways, from its own message store and sequence) after seq after,
	// oldest first; missed counts those after it that are gone. Each
	// message also leaves a line in the log, which is how the UI learns
	// that there are new ones.
	Messages(name string, after uint64, limit int) (msgs []procs.Message, missed uint64, err error)
	// Details returns what the Stats view shows of a unit beyond its Info.
	Details(name string) (procs.Details, error)
	// Shutdown stops every unit gracefully; cancelling ctx kills what is left.
	Shutdown(ctx context.Context) error
}

// Subscription delivers the engine's events in coalesced batches.
type Subscription interface {
	// Next waits for the next batch. It returns procs.ErrClosed once the
	// engine has shut down, or ctx's error.
	Next(ctx context.Context) (procs.Batch, error)
	Close()
}

// Local adapts a supervisor running in this process.
func Local(s *procs.Supervisor) Backend { return local{s} }

type local struct{ *procs.Supervisor }

func (l local) Subscribe() ([]procs.Info, Subscription) {
	infos, sub := l.Supervisor.Subscribe()
	return infos, sub
}
