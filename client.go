package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/ipc"
	"github.com/kelpie-dev/kelpie/procs"
)

// errGone ends `logs --follow` when the kelpie it follows exits.
var errGone = errors.New("the running kelpie went away")

// clientCommands are the commands that talk to a running kelpie.
func (c *cli) clientCommands() []*cobra.Command {
	ps := &cobra.Command{
		Use:   "ps [flags]",
		Short: "List the units of the running kelpie",
		Args:  c.argsFor(),
		RunE:  c.runPS,
	}
	ps.Flags().BoolVar(&c.json, "json", false, "print a JSON array, one object per unit")

	logs := &cobra.Command{
		Use:   "logs [NAME] [flags]",
		Short: "Show a unit's output (every unit's without NAME)",
		Long: `Show the last lines of a unit's output, or of every unit's (each line then
prefixed with the unit's name), and with --follow keep printing new lines
until interrupted; if the running kelpie exits, say so and exit 1.
On a terminal, lines keep the units' colours and end with a colour reset;
to a pipe or a file they are plain text.`,
		Example:           "  kelpie logs api -n 20\n  kelpie logs -F",
		Args:              c.argsFor("[NAME]"),
		ValidArgsFunction: c.completeUnits,
		RunE:              c.runLogs,
	}
	c.lines = 100
	logs.Flags().VarP(&c.lines, "lines", "n", "lines of history to show, 0 for none")
	logs.Flags().BoolVarP(&c.follow, "follow", "F", false, "keep printing new lines")
	logs.Flags().BoolVar(&c.json, "json", false, "print one JSON object per line")

	cmds := []*cobra.Command{ps, logs,
		c.actCommand("start", "Start a unit and wait until it runs"),
		c.actCommand("stop", "Stop a unit and wait until it has stopped"),
		c.actCommand("restart", "Restart a unit and wait until it runs again"),
		{
			Use:               "signal NAME SIGNAL",
			Short:             "Send a signal (TERM, HUP, USR1, 9, ...) to a unit's process group",
			Args:              c.argsFor("NAME", "SIGNAL"),
			ValidArgsFunction: c.completeSignal,
			RunE:              c.runSignal,
		},
		{
			Use:               "send NAME JSON",
			Short:             "Send a JSON message to a unit with a message channel (ipc: true)",
			Example:           `  kelpie send worker '{"cmd":"reload"}'`,
			Args:              c.argsFor("NAME", "JSON"),
			ValidArgsFunction: c.completeUnits,
			RunE:              c.runSend,
		},
		{
			Use:   "down",
			Short: "Stop every unit and the running kelpie",
			Args:  c.argsFor(),
			RunE:  func(cmd *cobra.Command, _ []string) error { return c.request(cmd, control.Request{Cmd: "down"}) },
		},
	}
	for _, cmd := range cmds {
		c.configFlags(cmd, true)
	}
	return cmds
}

func (c *cli) actCommand(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:               name + " NAME",
		Short:             short,
		Args:              c.argsFor("NAME"),
		ValidArgsFunction: c.completeUnits,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.request(cmd, control.Request{Cmd: name, Name: args[0]})
		},
	}
}

// socketPath is where the running kelpie listens: --socket, else
// $KELPIE_SOCKET, else the path derived from the config found.
func (c *cli) socketPath() (string, error) {
	key := ""
	if c.socket == "" && os.Getenv(control.EnvSocket) == "" {
		var err error
		if _, key, err = c.locate(); err != nil {
			return "", err
		}
	}
	return control.Path(c.socket, key)
}

func (c *cli) do(ctx context.Context, req control.Request, each func(control.Response) error) error {
	path, err := c.socketPath()
	if err != nil {
		return err
	}
	return control.DoContext(ctx, path, req, each)
}

// request sends a command whose answer is a note and the units it changed.
func (c *cli) request(cmd *cobra.Command, req control.Request) error {
	return c.do(cmd.Context(), req, func(r control.Response) error {
		if r.Text != "" {
			fmt.Fprintln(c.stdout, procs.Clean(r.Text))
		}
		for _, u := range r.Units {
			fmt.Fprintf(c.stdout, "%s: %s\n", u.Name, describe(u))
		}
		return nil
	})
}

func (c *cli) runSignal(cmd *cobra.Command, args []string) error {
	if _, err := procs.ParseSignal(args[1]); err != nil {
		return &exitError{code: exitUsage, text: "kelpie: " + procs.Clean(err.Error())}
	}
	return c.request(cmd, control.Request{Cmd: "signal", Name: args[0], Signal: args[1]})
}

func (c *cli) runSend(cmd *cobra.Command, args []string) error {
	if err := checkMessage(args[1]); err != nil {
		return &exitError{code: exitUsage, text: "kelpie: " + err.Error()}
	}
	return c.request(cmd, control.Request{Cmd: "send", Name: args[0], Msg: json.RawMessage(args[1])})
}

// checkMessage refuses, before anything is sent, what the engine would
// refuse, by the engine's own rule (ipc.CheckUser), so the CLI, the composer
// and the engine agree on every message.
func checkMessage(s string) error {
	err := ipc.CheckUser([]byte(s))
	if err == nil || errors.Is(err, ipc.ErrReserved) {
		return err
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON: %s (nothing sent)", procs.Clean(se.Error()))
	}
	return errors.New("not valid JSON (nothing sent)")
}

func (c *cli) runPS(cmd *cobra.Command, _ []string) error {
	return c.do(cmd.Context(), control.Request{Cmd: "ps"}, func(r control.Response) error {
		if !c.json {
			printPS(c.stdout, r.Units)
			return nil
		}
		units := r.Units
		if units == nil {
			units = []procs.Info{}
		}
		b, err := json.MarshalIndent(units, "", "  ")
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(append(escapeC1(b), '\n'))
		return err
	})
}

// escapeC1 escapes C1 controls (U+0080..U+009F) and DEL in JSON text, which
// encoding/json leaves raw: some terminals act on C1 controls, and JSON
// output is read on terminals too. They can only stand inside strings, where
// \u escapes mean the same.
func escapeC1(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		n := 0
		switch {
		case b[i] == 0x7f:
			n = 1
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			n = 2
		default:
			continue
		}
		r := rune(b[i])
		if n == 2 {
			r = rune(b[i+1])
		}
		out = append(out, b[last:i]...)
		out = fmt.Appendf(out, `\u%04x`, r)
		i += n - 1
		last = i + 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

func (c *cli) runLogs(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	units := args
	if len(units) == 0 {
		var err error
		if units, err = c.unitNames(ctx); err != nil {
			return err
		}
	}
	p := &logPrinter{out: c.stdout, json: c.json, colour: !c.json && wantColour(c.stdout)}
	if len(args) == 0 {
		p.prefix = prefixes(units, p.colour)
	}
	if c.follow {
		return c.followLogs(ctx, units, p)
	}
	return c.tailLogs(ctx, units, p)
}

// unitNames asks the running kelpie for its units' names.
func (c *cli) unitNames(ctx context.Context) ([]string, error) {
	var names []string
	err := c.do(ctx, control.Request{Cmd: "ps"}, func(r control.Response) error {
		for _, u := range r.Units {
			names = append(names, u.Name)
		}
		return nil
	})
	return names, err
}

type unitLine struct {
	unit string
	line procs.Line
}

// tailLogs prints the last lines of each unit, several units' merged in
// time order.
func (c *cli) tailLogs(ctx context.Context, units []string, p *logPrinter) error {
	n := int(c.lines)
	if n == 0 {
		n = 1 // the server reads 0 as "its default": ask for 1, print none
	}
	var all []unitLine
	for _, u := range units {
		err := c.do(ctx, control.Request{Cmd: "logs", Name: u, N: n}, func(r control.Response) error {
			if r.Line != nil && c.lines > 0 {
				all = append(all, unitLine{u, *r.Line})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(units) > 1 {
		sort.SliceStable(all, func(i, j int) bool { return all[i].line.Time.Before(all[j].line.Time) })
	}
	for i := range all {
		if err := p.add(all[i].unit, &all[i].line); err != nil {
			return err
		}
	}
	return p.flush()
}

// followLogs streams every unit's new lines until every stream has ended,
// which means the running kelpie has gone, or until one fails (no such
// unit, stdout closed), which ends the others.
func (c *cli) followLogs(ctx context.Context, units []string, p *logPrinter) error {
	if len(units) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(units))
	for _, u := range units {
		go func() { errs <- c.followUnit(ctx, u, p) }()
	}
	// A stream that ends because kelpie went may still be ahead of the
	// others' last lines: let them all drain.
	result := errGone
	for range units {
		if err := <-errs; err != errGone && result == errGone {
			result = err
			cancel()
		}
	}
	return result
}

func (c *cli) followUnit(ctx context.Context, unit string, p *logPrinter) error {
	n := int(c.lines)
	var seen uint64 // lines up to this one are history not asked for
	if n == 0 {
		// The server reads 0 as its default; learn the newest line's number,
		// then ask for one line of history and skip it.
		err := c.do(ctx, control.Request{Cmd: "logs", Name: unit, N: 1}, func(r control.Response) error {
			if r.Line != nil {
				seen = r.Line.Seq
			}
			return nil
		})
		if err != nil {
			return err
		}
		n = 1
	}
	path, err := c.socketPath()
	if err != nil {
		return err
	}
	req := control.Request{Cmd: "logs", Name: unit, N: n, Follow: true}
	err = control.Stream(ctx, path, req, func(r control.Response) error {
		if r.Missed > 0 {
			fmt.Fprintf(c.stderr, "kelpie: %d lines of %s dropped (this client read slower than it wrote)\n", r.Missed, unit)
		}
		if r.Line == nil || r.Line.Seq <= seen {
			return nil
		}
		return p.add(unit, r.Line)
	}, p.flush)
	if err == nil || errors.Is(err, control.ErrLost) {
		return errGone
	}
	return err
}

// logPrinter prints log lines from one or more streams. Lines gather in a
// buffer and go out in one write per batch (flush), or per printBuffer bytes.
type logPrinter struct {
	mu     sync.Mutex
	out    io.Writer
	json   bool
	colour bool
	prefix map[string]string // each unit's, when lines of several are shown
	buf    []byte
}

// printBuffer is the most a logPrinter holds before it writes.
const printBuffer = 64 << 10

// print prints one line at once.
func (p *logPrinter) print(unit string, l *procs.Line) error {
	if err := p.add(unit, l); err != nil {
		return err
	}
	return p.flush()
}

// add buffers one line, writing the buffer out when it is full.
func (p *logPrinter) add(unit string, l *procs.Line) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buf
	if p.json {
		j, err := json.Marshal(struct {
			Unit string `json:"unit"`
			*procs.Line
		}{unit, l})
		if err != nil {
			return err
		}
		b = append(append(b, escapeC1(j)...), '\n')
	} else {
		b = append(b, p.prefix[unit]...)
		b = l.Time.AppendFormat(b, "15:04:05.000")
		b = append(b, ' ')
		if l.Stream != procs.Stdout {
			b = append(b, "["+l.Stream.String()+"] "...)
		}
		// The server sanitises, but this is text from another process.
		text := procs.Clean(l.Text)
		switch {
		case p.colour:
			b = append(append(b, text...), reset...)
		case strings.IndexByte(text, 0x1b) >= 0:
			b = append(b, ansi.Strip(text)...)
		default:
			b = append(b, text...)
		}
		b = append(b, '\n')
	}
	p.buf = b
	if len(b) >= printBuffer {
		return p.flushLocked()
	}
	return nil
}

// flush writes what is buffered.
func (p *logPrinter) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flushLocked()
}

func (p *logPrinter) flushLocked() error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.out.Write(p.buf)
	p.buf = p.buf[:0]
	return err
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
	return procs.Clean(s)
}

func printPS(w io.Writer, units []procs.Info) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f%%\t%s\t%d\t%s\t%s\n", procs.Clean(u.Name), u.Kind, u.State, pid, u.CPU,
			bytesHuman(u.RSS), u.Restarts, durHuman(u.Uptime(now)), procs.Clean(note))
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
