// Command kelpie is a terminal process manager: it runs the processes of a
// kelpie.yaml (or Procfile, or its built-in demo), keeps them alive, and shows
// them live in a terminal UI; `kelpie up --headless` runs the same engine
// without the UI, and the other subcommands talk to a running kelpie over its
// control socket.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/demo"
	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// guardArg is the hidden first argument of the guard role (see procs.StartGuard).
const guardArg = "__guard"

const usage = `kelpie — a terminal process manager

Usage:
  kelpie [up] [-f FILE] [--headless] [--socket PATH]   run kelpie.yaml / Procfile (or the built-in demo)
  kelpie validate [-f FILE]                             check a config file
  kelpie ps [--json]                                    list units of the running kelpie
  kelpie logs NAME [-n N] [--follow] [--json]           show a unit's output
  kelpie start|stop|restart NAME                        control a unit (waits until done)
  kelpie signal NAME SIGNAL                             send a signal to a unit's process group
  kelpie send NAME JSON                                 send a message to a unit with a channel
  kelpie down                                           stop every unit and the running kelpie
  kelpie version

Client commands find the running kelpie by --socket, $KELPIE_SOCKET, or the
config in the current directory (as kelpie up would).
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // the command failed (no such unit, no kelpie running, ...)
	exitUsage = 2 // bad arguments or a bad config file
)

func run(args []string, stdout, stderr io.Writer) int {
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
	cmd := "up"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	c := &cli{stdout: stdout, stderr: stderr}
	switch cmd {
	case "up":
		return c.up(args)
	case "validate":
		return c.validate(args)
	case "ps", "logs", "start", "stop", "restart", "signal", "send", "down":
		return c.client(cmd, args)
	case "version":
		fmt.Fprintln(stdout, "kelpie", version)
		return exitOK
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "kelpie: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// cli carries the output streams and the flags every command shares.
type cli struct {
	stdout, stderr io.Writer
	file           string
	socket         string
}

func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("kelpie "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.file, "f", "", "config file (default: kelpie.yaml, kelpie.yml or Procfile here)")
	fs.StringVar(&c.socket, "socket", "", "control socket path (default: $KELPIE_SOCKET, else derived from the config)")
	fs.Usage = func() { fmt.Fprint(c.stderr, usage) }
	return fs
}

// parse parses flags wherever they stand among the positional arguments
// (`kelpie logs api -n 50` as well as `kelpie logs -n 50 api`).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *cli) fail(err error) int {
	fmt.Fprintln(c.stderr, "kelpie:", err)
	return exitFail
}

// locate finds the config the same way for every command: -f, else the
// first of kelpie.yaml, kelpie.yml, Procfile in the working directory. An
// empty path means the built-in demo. key identifies the config for the
// default socket path.
func (c *cli) locate() (path, key string, err error) {
	path = c.file
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", "", fmt.Errorf("working directory: %w", err)
		}
		if path, err = config.Find(wd); err != nil {
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

func (c *cli) validate(args []string) int {
	fs := c.flags("validate")
	pos, err := parse(fs, args)
	if err != nil || len(pos) > 0 {
		return exitUsage
	}
	path, _, err := c.locate()
	if err != nil {
		return c.fail(err)
	}
	if path == "" {
		fmt.Fprintln(c.stderr, "kelpie: no kelpie.yaml, kelpie.yml or Procfile here (use -f FILE)")
		return exitUsage
	}
	f, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "%s: %d processes, OK\n", path, len(f.Specs))
	return exitOK
}

func (c *cli) up(args []string) int {
	fs := c.flags("up")
	headless := fs.Bool("headless", false, "run without the terminal UI, printing every unit's output")
	pos, err := parse(fs, args)
	if err != nil || len(pos) > 0 {
		if err == nil {
			fmt.Fprintf(c.stderr, "kelpie up: unexpected argument %q\n", pos[0])
		}
		return exitUsage
	}
	if !*headless && (!isTerminal(os.Stdin) || !isTerminal(os.Stdout)) {
		fmt.Fprintln(c.stderr, "kelpie: the screen needs a terminal; use `kelpie up --headless` to run without one")
		return exitUsage
	}
	path, key, err := c.locate()
	if err != nil {
		return c.fail(err)
	}
	exe, err := os.Executable()
	if err != nil {
		return c.fail(fmt.Errorf("find own executable: %w", err))
	}
	var specs []procs.Spec
	title := "demo"
	if path == "" {
		specs = demo.Specs(exe)
	} else {
		f, err := config.Load(path)
		if err != nil {
			fmt.Fprintln(c.stderr, err)
			return exitUsage
		}
		specs, title = f.Specs, filepath.Base(path)
	}

	sockPath, err := control.Path(c.socket, key)
	if err != nil {
		return c.fail(err)
	}
	srv, err := control.Listen(sockPath)
	if err != nil {
		return c.fail(err)
	}
	defer srv.Close()

	tag := procs.NewTag()
	// The guard cleans up after us even if we are SIGKILLed.
	guard, err := procs.StartGuard(exe, []string{guardArg, tag})
	if err != nil {
		return c.fail(err)
	}
	defer guard.Close()

	sup, err := procs.New(procs.Options{Tag: tag, Subreaper: true})
	if err != nil {
		return c.fail(err)
	}
	for _, sp := range specs {
		if err := sup.Add(sp); err != nil {
			_ = sup.Shutdown(context.Background())
			return c.fail(err)
		}
	}
	var stopWait time.Duration
	for _, sp := range specs {
		stopWait = max(stopWait, sp.StopTimeout)
	}
	stopWait = max(stopWait, procs.DefaultStopTimeout) + 5*time.Second
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopWait)
		defer cancel()
		_ = sup.Shutdown(ctx)
	}
	srv.Down = shutdown
	go srv.Serve(sup)

	if err := sup.StartAll(); err != nil {
		return c.fail(err)
	}
	if *headless {
		// Termination signals stop everything gracefully; the printer
		// returns once the supervisor has shut down. (The TUI handles the
		// same signals itself, showing the units as they stop.)
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
		defer signal.Stop(sigs)
		go func() {
			select {
			case <-sigs:
				shutdown()
			case <-sup.Done():
			}
		}()
		printHeadless(sup, c.stdout)
	} else if err := ui.Run(ui.Local(sup), ui.Options{Title: title, Version: version}); err != nil {
		shutdown()
		return c.fail(err)
	}
	shutdown()
	return exitOK
}
