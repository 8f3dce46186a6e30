package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/ipc"
	"github.com/kelpie-dev/kelpie/procs"
)

// client runs one of the commands that talk to a running kelpie.
func (c *cli) client(cmd string, args []string) int {
	fs := c.flags(cmd)
	asJSON := fs.Bool("json", false, "machine-readable output")
	n := fs.Int("n", 100, "logs: lines of history")
	follow := fs.Bool("follow", false, "logs: keep printing new lines")
	fs.BoolVar(follow, "F", false, "logs: same as --follow")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	want := map[string]int{"ps": 0, "down": 0, "logs": 1, "start": 1, "stop": 1, "restart": 1, "signal": 2, "send": 2}[cmd]
	if len(pos) != want {
		fmt.Fprintf(c.stderr, "kelpie %s: want %d argument(s), got %d\n\n%s", cmd, want, len(pos), usage)
		return exitUsage
	}
	req := control.Request{Cmd: cmd}
	if want > 0 {
		req.Name = pos[0]
	}
	switch cmd {
	case "logs":
		req.N, req.Follow = *n, *follow
	case "signal":
		if _, err := procs.ParseSignal(pos[1]); err != nil {
			fmt.Fprintln(c.stderr, "kelpie signal:", err)
			return exitUsage
		}
		req.Signal = pos[1]
	case "send":
		// The engine's own rule (ipc.CheckUser), so the CLI refuses
		// exactly what the engine and the composer refuse.
		if err := ipc.CheckUser([]byte(pos[1])); err != nil {
			why := err.Error() // the reserved-cmd sentence
			var se *json.SyntaxError
			if errors.As(err, &se) {
				why = "not valid JSON: " + se.Error()
			} else if errors.Is(err, ipc.ErrInvalidJSON) {
				why = "not valid JSON"
			}
			fmt.Fprintf(c.stderr, "kelpie send: %s (nothing sent)\n", why)
			return exitUsage
		}
		req.Msg = json.RawMessage(pos[1])
	}
	_, key, err := c.locate()
	if err != nil {
		return c.fail(err)
	}
	path, err := control.Path(c.socket, key)
	if err != nil {
		return c.fail(err)
	}

	var each func(control.Response) error
	switch cmd {
	case "ps":
		each = func(r control.Response) error {
			if *asJSON {
				b, err := json.MarshalIndent(r.Units, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, string(b))
				return nil
			}
			printPS(c, r.Units)
			return nil
		}
	case "logs":
		each = func(r control.Response) error {
			if r.Missed > 0 {
				fmt.Fprintf(c.stderr, "kelpie: %d lines dropped (the client was slower than the output)\n", r.Missed)
			}
			if r.Line == nil {
				return nil
			}
			if *asJSON {
				b, err := json.Marshal(r.Line)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, string(b))
				return nil
			}
			tag := ""
			if r.Line.Stream != procs.Stdout {
				tag = "[" + r.Line.Stream.String() + "] "
			}
			fmt.Fprintf(c.stdout, "%s %s%s\n", r.Line.Time.Format("15:04:05.000"), tag, r.Line.Text)
			return nil
		}
	default:
		each = func(r control.Response) error {
			if r.Text != "" {
				fmt.Fprintln(c.stdout, r.Text)
			}
			for _, u := range r.Units {
				fmt.Fprintf(c.stdout, "%s: %s\n", u.Name, describe(u))
			}
			return nil
		}
	}
	if err := control.Do(path, req, each); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// describe says a unit's state in a few words.
func describe(u procs.Info) string {
	s := string(u.State)
	switch {
	case u.PID != 0:
		s += " (pid " + strconv.Itoa(u.PID) + ")"
	case u.ExitCode != nil:
		s += " (exit " + strconv.Itoa(*u.ExitCode) + ")"
	case u.Signal != "":
		s += " (" + u.Signal + ")"
	}
	if u.Reason != "" && u.State != procs.Running {
		s += ": " + u.Reason
	}
	return s
}

func printPS(c *cli, units []procs.Info) {
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tPID\tCPU\tMEM\tRESTARTS\tUPTIME\tNOTE")
	now := time.Now()
	for _, u := range units {
		pid := "-"
		if u.PID != 0 {
			pid = strconv.Itoa(u.PID)
		}
		note := u.Reason
		if note == "" && u.ExitCode != nil && !u.State.Live() {
			note = "exit " + strconv.Itoa(*u.ExitCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f%%\t%s\t%d\t%s\t%s\n", u.Name, u.Kind, u.State, pid, u.CPU,
			bytesHuman(u.RSS), u.Restarts, durHuman(u.Uptime(now)), note)
	}
	tw.Flush()
}

func bytesHuman(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0fK", float64(b)/(1<<10))
	}
	return strconv.FormatUint(b, 10) + "B"
}

func durHuman(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
