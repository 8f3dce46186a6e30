package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/logfile"
	"github.com/kelpie-dev/kelpie/procs"
)

// logsFromFiles is `kelpie logs` when no kelpie is running: the files in
// --log-dir, else the config's log_dir, if it keeps them, printed as a running kelpie would print
// the same lines (several units merged in time order). live is the error
// asking the socket gave; it is returned when there are no files to read.
func (c *cli) logsFromFiles(args []string, live error) error {
	if !errors.Is(live, control.ErrNotRunning) || c.follow {
		return live
	}
	dir := c.logDir // the files of an `up --log-dir DIR` run
	if dir == "" {
		f, err := c.loadConfig()
		if err != nil || f.Logs.Dir == "" {
			return live // no config, or none that keeps files: what asking the socket said
		}
		dir = f.Logs.Dir
	}
	var err error
	names := args
	if len(names) == 0 {
		if names, err = logfile.Units(dir); err != nil || len(names) == 0 {
			return live
		}
	}
	type unitLine struct {
		unit string
		line procs.Line
	}
	var all []unitLine
	for _, name := range names {
		lines, err := logfile.Read(dir, name, int(c.lines))
		if err != nil {
			return fmt.Errorf("%w; and %w", live, err)
		}
		for _, l := range lines {
			all = append(all, unitLine{name, l})
		}
	}
	// Several units' lines in time order, each unit's own order kept.
	slices.SortStableFunc(all, func(a, b unitLine) int { return a.line.Time.Compare(b.line.Time) })
	fmt.Fprintf(c.stderr, "kelpie: no kelpie is running for this config; from the log files in %s\n", procs.Clean(dir))
	p := &logPrinter{out: c.stdout, json: c.json, colour: !c.json && wantColour(c.stdout), multi: len(names) > 1}
	if p.multi {
		p.prefix = prefixes(names, p.colour)
	}
	for i := range all {
		if err := p.add(all[i].unit, &all[i].line); err != nil {
			return err
		}
	}
	return p.flush()
}
