// Package quietterm keeps the terminal libraries kelpie links from querying
// the terminal when kelpie draws no screen.
//
// Bubble Tea's package init asks the terminal for its background colour
// (through Lip Gloss and termenv: an OSC 11 query and a cursor position
// report), then waits up to 5 s for an answer. For `kelpie logs`, `kelpie ps`
// and the other commands without a screen that is two stray sequences on the
// user's terminal and, where nothing answers (script, some remote or
// embedded terminals), a 5 s wait before the first byte.
//
// The query runs before main, so this package works at init time: Go
// initialises packages in import-path order among those whose imports are
// initialised (the Go 1.21 rule). This package imports only os, which termenv
// imports too, and its path sorts before github.com/muesli/termenv, so its
// init runs before termenv's and so before Bubble Tea's. For a command that
// draws no screen it sets TERM=dumb, for which termenv never queries; main
// calls Restore first thing, so nothing else (the units' environment above
// all) sees the change.
package quietterm

import "os"

// saved is TERM as kelpie was started with it; it is written once, at init.
var saved = hush(os.Args[1:])

type term struct {
	value  string
	set    bool
	hushed bool
}

// hush sets TERM=dumb unless args ask for the screen, and says what to restore.
func hush(args []string) term {
	t := term{}
	t.value, t.set = os.LookupEnv("TERM")
	if WantsScreen(args) {
		return t
	}
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

// WantsScreen reports whether args (without the program name) run the
// terminal UI: no command or `up`, without --headless, help or version.
// It errs towards the screen: a wrong guess there costs only the query.
func WantsScreen(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--file" || a == "--socket":
			i++ // the flag's value
		case noScreenFlag(a):
			return false
		case a == "--" || a != "" && a[0] != '-' && a != "up":
			return false // another command
		}
	}
	return true
}

// noScreenFlag reports whether a is a flag that means no screen.
func noScreenFlag(a string) bool {
	switch a {
	case "--headless", "--headless=true", "--headless=1", "-h", "--help", "--version", "-v":
		return true
	}
	return false
}
