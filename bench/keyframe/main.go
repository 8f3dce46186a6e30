// Command keyframe measures kelpie's key-to-frame latency under output load:
// the time from a key press to the changed screen, with -n units each
// writing -rate lines a second, beside the same measurement against a raw
// `cat` in the same tmux server (key to echo: the terminal pipeline's floor).
//
// It has two roles:
//
//	keyframe [flags]          the driver (below)
//	keyframe writer [-rate N] a unit: prints N lines of 80 bytes a second, forever
//
// The driver writes a kelpie.yaml of -n writer units into a temp dir, runs
// kelpie in a 120x40 pane of a private tmux server, waits until every unit
// is running plus -settle, then -r times presses j or k (the table's
// selection marker moves one row) and polls capture-pane until the marker
// is on the expected row. Each kelpie press is followed by one press in a
// pane running `cat` in raw mode (echoes each key back), timed the same way,
// so both series share the machine's load. It prints a markdown table of
// medians, p90 and max, the poll's own round-trip cost (the resolution),
// the CPU used by kelpie, the tmux server, this driver and the machine, and
// the line rate kelpie actually ingested.
//
// Polling back to back costs CPU (the tmux server's and this driver's),
// which the report shows beside kelpie's; -gap trades resolution for less.
//
// Usage: keyframe [-n 100] [-r 30] [-rate 1000] [-kelpie PATH] [-poll control|exec] [-gap 0]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the driver's settings, from its flags.
type options struct {
	units   int           // units in kelpie.yaml
	reps    int           // timed key presses (each for kelpie and for cat)
	warmup  int           // untimed presses first
	rate    int           // lines a second per unit
	ttyRate int           // > 0: w1 is a tty unit writing this many lines a second (its screen in the pane)
	settle  time.Duration // wait after every unit runs, before measuring
	timeout time.Duration // give up on one press after this long
	gap     time.Duration // pause between two polls of one press (0: back to back)
	kelpie  string        // kelpie binary
	poll    string        // "control" (one tmux control-mode client) or "exec" (a tmux client per call)
}

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "writer" {
		err = runWriter(os.Args[2:])
	} else {
		err = runDriver(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyframe:", err)
		os.Exit(1)
	}
}

// runDriver parses the driver's flags and runs the benchmark.
func runDriver(args []string) error {
	def := os.Getenv("KELPIE_BIN")
	if def == "" {
		def = "kelpie"
	}
	var o options
	fs := flag.NewFlagSet("keyframe", flag.ContinueOnError)
	fs.IntVar(&o.units, "n", 100, "units, each running `keyframe writer`")
	fs.IntVar(&o.reps, "r", 30, "timed key presses (each for kelpie and for the cat baseline)")
	fs.IntVar(&o.warmup, "warmup", 2, "untimed key presses before the timed ones")
	fs.IntVar(&o.rate, "rate", 1000, "lines a second written by each unit")
	fs.IntVar(&o.ttyRate, "tty-rate", 0, "if > 0, w1 is a `tty: true` unit writing this many lines a second, its emulated screen in the pane while it is selected (issue 12: keys to a frame while a tty unit floods)")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "wait after all units run, before measuring")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "give up on one key press after this long")
	fs.DurationVar(&o.gap, "gap", 0, "pause between polls (0: back to back; a gap lowers the probe's own CPU use, at the cost of resolution)")
	fs.StringVar(&o.kelpie, "kelpie", def, "kelpie binary (default $KELPIE_BIN, else kelpie on PATH)")
	fs.StringVar(&o.poll, "poll", "control", "how to talk to tmux: control (one control-mode client) or exec (a tmux process per call)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.units < 2:
		return errors.New("-n must be at least 2 (j/k move between w1 and w2)")
	case o.reps < 1 || o.rate < 1:
		return errors.New("-r and -rate must be positive")
	case o.poll != "control" && o.poll != "exec":
		return fmt.Errorf("-poll %q: want control or exec", o.poll)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := measure(ctx, o)
	if err != nil {
		return err
	}
	report(os.Stdout, o, res)
	return nil
}
