package procs

import (
	"context"
	"syscall"
)

// Engine is everything a front end (the screen, the control server, a
// control-socket client) asks of a running set of units. The in-process
// *Supervisor implements it, and so does control.Client over the control
// socket; one contract test suite (internal/enginetest) runs against both.
// Every method may block: a front end with an event loop calls them off it.
type Engine interface {
	// Subscribe returns every unit's snapshot and the events that follow
	// it, atomically: no event falls between the two. The first batch
	// announces the newest line of every unit with output.
	Subscribe() ([]Info, Events)
	// List returns every unit's snapshot in display order.
	List() []Info
	Start(name string) error
	Stop(name string) error
	Restart(name string) error
	Signal(name string, sig syscall.Signal) error
	// Tail returns the unit's newest n lines, oldest first.
	Tail(name string, n int) ([]Line, error)
	// Since returns up to limit lines after seq after, oldest first; missed
	// counts lines after it that are gone.
	Since(name string, after uint64, limit int) (lines []Line, missed uint64, err error)
	// Send sends one JSON message to a unit with a channel. What
	// ipc.CheckUser refuses (invalid JSON, Node's own NODE_ messages), a
	// full queue and a closed channel are refused with an error.
	Send(name string, msg []byte) error
	// Messages returns up to limit of the unit's channel messages (both
	// ways, from its own message store and sequence) after seq after,
	// oldest first; missed counts those after it that are gone. Each
	// message also leaves a line in the log, which is how a front end
	// learns that there are new ones.
	Messages(name string, after uint64, limit int) (msgs []Message, missed uint64, err error)
	// Details returns what the Stats view shows of a unit beyond its Info.
	Details(name string) (Details, error)
	// Shutdown stops every unit gracefully; cancelling ctx kills what is
	// left (over the socket: stops waiting, see control.Client).
	Shutdown(ctx context.Context) error
}

// Events delivers an engine's events in coalesced batches (see Batch).
type Events interface {
	// Next waits for the next batch. It returns ErrClosed once the engine
	// has shut down (or the events were closed), or ctx's error.
	Next(ctx context.Context) (Batch, error)
	// Close ends the subscription; pending events are discarded.
	Close()
}

var _ Engine = (*Supervisor)(nil)
