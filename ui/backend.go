// Package ui is kelpie's screen: one Bubble Tea program showing every unit,
// its state and resource use, and the selected unit's output.
//
// The UI knows the engine only through Backend. Every Backend call happens
// inside a tea.Cmd; Update only applies messages; View only joins strings that
// Update prepared.
package ui

import (
	"github.com/kelpie-dev/kelpie/procs"
)

// Backend is all the UI knows of the engine: the one engine interface,
// implemented by the supervisor in this process and by control.Client over
// a control socket. Every method may block; the UI calls them only from
// commands, never from Update or View. Following a unit's output is
// procs.Follow over it.
type Backend = procs.Engine

// Subscription delivers the engine's events in coalesced batches.
type Subscription = procs.Events

// Local is the backend of a supervisor running in this process: the
// supervisor itself.
func Local(s *procs.Supervisor) Backend { return s }
