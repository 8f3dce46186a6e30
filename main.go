// Command kelpie is a terminal process manager: it runs the processes of a
// kelpie.yaml (or Procfile, or its built-in demo), keeps them alive, and shows
// them live in a terminal UI; `kelpie up --headless` runs the same engine
// without the UI, and the other subcommands talk to a running kelpie over its
// control socket.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/demo"
	"github.com/kelpie-dev/kelpie/internal/quietterm"
	"github.com/kelpie-dev/kelpie/procs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// guardArg is the hidden first argument of the guard role (see procs.RunGuard).
const guardArg = "__guard"

func main() {
	// Undo the TERM=dumb that kept the terminal libraries from querying the
	// terminal at init (see quietterm) before anything reads TERM.
	quietterm.Restore()
	if os.Getenv("GOGC") == "" {
		// kelpie lives for days beside the programs it runs and allocates
		// slowly (a stats tick, a frame): a heap goal of 1.5x the live
		// heap instead of 2x costs a GC cycle every few seconds at most and
		// keeps its memory flat (a thousand idle workers under the screen:
		// 66 -> 56 MiB). GOGC in the environment still wins.
		debug.SetGCPercent(50)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // the command failed (no such unit, no kelpie running, ...)
	exitUsage = 2 // bad arguments or a bad config file
)

func run(args []string, stdout, stderr io.Writer) int {
	// The hidden roles are matched before the command line is parsed: they
	// are kelpie re-executing itself and must not change with the CLI.
	if len(args) > 0 {
		switch args[0] {
		case guardArg:
			if len(args) != 2 {
				return exitUsage
			}
			procs.RunGuard(args[1], os.Stdin)
			return exitOK
		case demo.RoleArg:
			if len(args) != 2 {
				return exitUsage
			}
			return demo.Run(args[1])
		}
	}
	c := &cli{stdout: stdout, stderr: stderr}
	root := c.commands()
	root.SetArgs(args)
	err := root.Execute()
	c.closeTarget() // an ssh session to the kelpie talked to ends here
	return c.report(err)
}

// cli carries the output streams and the flags of the command being run.
type cli struct {
	stdout, stderr io.Writer
	file           string
	socket         string
	headless       bool
	detach         bool          // up: run headless in a session of its own and return
	quietUnits     bool          // up --headless: print kelpie's own messages only, no unit's output (the detached kelpie's log)
	detachWait     time.Duration // up --detach: how long to wait for the kelpie to answer
	host           string        // client commands: ssh://[user@]server[:port][/path/to/kelpie.yaml]
	sshControl     bool          // --host: share one ssh connection (ControlMaster) between commands
	sshBatch       bool          // --host: never ask for a password (ssh's BatchMode)
	json           bool
	logDir         string // up: keep every unit's output in files here (over log_dir:)
	threads        bool   // ps: each unit's OS threads
	follow         bool
	lines          count
	tgt            *target // the running kelpie talked to, once found (see target)
}

// usageError is a mistake on the command line: said in one line, followed
// by where to read the command's usage, exit 2.
type usageError struct {
	cmd string // the command path, e.g. "kelpie logs"
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd *cobra.Command, format string, a ...any) error {
	return &usageError{cmd: cmd.CommandPath(), msg: fmt.Sprintf(format, a...)}
}

// exitError ends a command with a status other than 1, its text printed as
// it is (a config file's positioned errors) or, if empty, not at all.
type exitError struct {
	code int
	text string
}

func (e *exitError) Error() string { return e.text }

// report prints err (if any) to stderr and returns the exit status.
func (c *cli) report(err error) int {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "kelpie: %s\nRun '%s --help' for usage.\n", procs.Clean(ue.msg), ue.cmd)
		return exitUsage
	case errors.As(err, &ee):
		if ee.text != "" {
			fmt.Fprintln(c.stderr, ee.text)
		}
		return ee.code
	}
	// Errors can quote what a running kelpie or a child said.
	fmt.Fprintln(c.stderr, "kelpie:", procs.Clean(err.Error()))
	return exitFail
}

// configNames are the files kelpie looks for, in order (see config.Find).
const configNames = "kelpie.yaml, kelpie.yml or Procfile"

// locate finds the config the same way for every command: -f, else the
// first of kelpie.yaml, kelpie.yml, Procfile in the working directory or the
// nearest directory above it that has one (as git finds its repository), so
// `kelpie ps` works from a subdirectory. An empty path means the built-in
// demo. key identifies the config for the default socket path.
func (c *cli) locate() (path, key string, err error) {
	path = c.file
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", fmt.Errorf("working directory: %w", err)
		}
		if path, err = findUp(wd); err != nil {
			return "", "", err
		}
		if path == "" {
			return "", filepath.Join(wd, "(demo)"), nil
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", fmt.Errorf("config path: %w", err)
	}
	return abs, abs, nil
}

// findUp looks for a config file in dir, then in each directory above it,
// and returns the first found ("" if none). A problem with dir itself is an
// error; one with a directory above it (no permission) ends the search.
func findUp(dir string) (string, error) {
	path, err := config.Find(dir)
	for err == nil && path == "" {
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
		if path, err = config.Find(dir); err != nil {
			return "", nil
		}
	}
	return path, err
}
