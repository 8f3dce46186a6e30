// Package quietterm keeps the terminal libraries kelpie links from querying
// the terminal behind kelpie's back.
//
// Bubble Tea's package init asks the terminal for its background colour
// (through Lip Gloss and termenv: an OSC 11 query and a cursor position
// report), then waits up to 5 s for an answer. For `kelpie logs`, `kelpie ps`
// and the other commands without a screen that is two stray sequences on the
// user's terminal; for every command, the screen included, it is a 5 s wait
// before the first byte where nothing answers (script, some remote or
// embedded terminals). The screen asks for the background itself, without
// waiting for the answer (ui/termquery.go), so nothing needs the init query.
//
// The query runs before main, so this package works at init time: Go
// initialises packages in import-path order among those whose imports are
// initialised (the Go 1.21 rule). This package imports only os, which termenv
// imports too, and its path sorts before github.com/muesli/termenv, so its
// init runs before termenv's and so before Bubble Tea's. It sets TERM=dumb,
// for which termenv never queries; main calls Restore first thing, so nothing
// else (the units' environment above all) sees the change.
package quietterm

import "os"

// saved is TERM as kelpie was started with it; it is written once, at init.
var saved = hush()

type term struct {
	value  string
	set    bool
	hushed bool
}

// hush sets TERM=dumb and says what to restore.
func hush() term {
	t := term{}
	t.value, t.set = os.LookupEnv("TERM")
	t.hushed = os.Setenv("TERM", "dumb") == nil
	return t
}

// Restore puts TERM back as it was when kelpie started.
func Restore() { saved.restore() }

func (t term) restore() {
	if !t.hushed {
		return
	}
	if t.set {
		_ = os.Setenv("TERM", t.value)
	} else {
		_ = os.Unsetenv("TERM")
	}
}

// Hushed reports whether the terminal query was kept from running.
func Hushed() bool { return saved.hushed }
