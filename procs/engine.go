package procs

import (
	"context"
	"syscall"

	"github.com/kelpie-dev/kelpie/vterm"
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

// Terminals is what a front end asks of an engine beyond Engine for its
// tty units (Spec.TTY, Info.TTY): the emulated screen, its scrollback,
// input and size. The Supervisor and control.Client implement it; a front
// end finds it by a type assertion on its Engine. A unit that is not a
// tty unit is refused with ErrNotTTY; a tty unit that is not running has
// its last screen (Keys and Paste are refused with an error).
type Terminals interface {
	// Screen returns a tty unit's emulated screen as drawn from its cells
	// (text and SGR only), its cursor, title and scrollback length.
	Screen(name string) (Screen, error)
	// Scrollback returns lines [from, to) of the unit's scrollback, oldest
	// first (0 is the oldest kept line), as text and SGR; to is clamped.
	Scrollback(name string, from, to int) ([]string, error)
	// Keys sends key presses to the child, each encoded in the mode the
	// child set (see vterm.Key, vterm.ParseKeys).
	Keys(name string, keys []vterm.Key) error
	// Paste sends text as one paste, bracketed when the child asked.
	Paste(name string, text string) error
	// Resize sets the unit's terminal size (emulator and PTY) to its
	// pane's; the child gets SIGWINCH. Sizes are clamped to 1..1000.
	Resize(name string, cols, rows int) error
}

// Scaler is what an engine with groups (clusters, worker groups) does
// beyond Engine. The Supervisor and control.Client implement it; a front
// end or the control server finds it by a type assertion on its Engine.
type Scaler interface {
	// Scale sets a group's member count to n, starting or stopping members.
	Scale(name string, n int) error
	// Reload replaces a group's members one at a time, each new one up
	// before the next old one stops (a rolling reload); it returns once
	// that is done.
	Reload(name string) error
}

// Screen is a tty unit's emulated screen (see Terminals.Screen).
type Screen struct {
	vterm.Snapshot
	// Title is the last title the child set, cleaned.
	Title string `json:"title,omitempty"`
	// Scrollback is how many lines the scrollback holds.
	Scrollback int `json:"scrollback"`
}

var _ Engine = (*Supervisor)(nil)
var _ Scaler = (*Supervisor)(nil)
