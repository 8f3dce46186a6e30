package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

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
	ps.Flags().BoolVar(&c.threads, "threads", false, "with --json: add each unit's OS threads (tid, name, state, cpu), measured over 250 ms")

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
	logs.Flags().StringVar(&c.logDir, "log-dir", "", "when no kelpie is running, read the log files in `DIR` (default: the config's log_dir)")
	logs.Flags().BoolVarP(&c.follow, "follow", "F", false, "keep printing new lines")
	logs.Flags().BoolVar(&c.json, "json", false, "print one JSON object per line")

	messages := &cobra.Command{
		Use:   "messages NAME [flags]",
		Short: "Show a unit's channel messages, both ways",
		Long: `Show the newest messages a unit with a message channel (ipc: true) sent
(←) and was sent (→), from the store kelpie keeps of them apart from the
output. A message too large to keep whole is shown cut, marked truncated.`,
		Example:           "  kelpie messages worker -n 20\n  kelpie messages worker --json",
		Args:              c.argsFor("NAME"),
		ValidArgsFunction: c.completeUnits,
		RunE:              c.runMessages,
	}
	messages.Flags().VarP(&c.lines, "lines", "n", "how many of the newest messages")
	messages.Flags().BoolVar(&c.json, "json", false, `print one JSON object per message: seq, ts, stream, msg, size, truncated`)

	cmds := []*cobra.Command{ps, logs, messages,
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
		c.sendKeysCommand(),
		{
			Use:   "scale NAME N",
			Short: "Set the number of a cluster's (or worker group's) members, live",
			Long: `Set the number of a cluster's (or worker group's) members while it runs:
new members take the lowest free indices (NAME/0, NAME/1, ...) and start at
once; the highest-numbered beyond N are stopped gracefully and removed.`,
			Example:           "  kelpie scale web 4",
			Args:              c.argsFor("NAME", "N"),
			ValidArgsFunction: c.completeUnits,
			RunE:              c.runScale,
		},
		{
			Use:   "reload NAME",
			Short: "Replace a cluster's members one at a time, without downtime",
			Long: `Replace a cluster's (or worker group's) members one at a time: start a new
member, wait until it is ready, stop the old one gracefully, then the next.
Returns once every member is new; a new member that fails or is not ready
in time stops the reload, the old members still serving.`,
			Example:           "  kelpie reload web",
			Args:              c.argsFor("NAME"),
			ValidArgsFunction: c.completeUnits,
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.request(cmd, control.Request{Cmd: "reload", Name: args[0]})
			},
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
		c.hostFlags(cmd)
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
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	return control.DoWith(ctx, t.dial, req, each, nil)
}

// request sends a command whose answer is a note and the units it changed.
func (c *cli) request(cmd *cobra.Command, req control.Request) error {
	return c.do(cmd.Context(), req, func(r control.Response) error {
		if r.Text != "" {
			fmt.Fprintln(c.stdout, procs.Clean(r.Text))
		}
		for _, u := range r.Units {
			fmt.Fprintf(c.stdout, "%s: %s\n", procs.Clean(u.Name), describe(u))
		}
		return nil
	})
}

func (c *cli) runScale(cmd *cobra.Command, args []string) error {
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 || n > procs.MaxInstances {
		return usagef(cmd, "N must be a whole number from 1 to %d, got %q", procs.MaxInstances, args[1])
	}
	return c.request(cmd, control.Request{Cmd: "scale", Name: args[0], N: n})
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
	return c.do(cmd.Context(), control.Request{Cmd: "ps", Threads: c.threads}, func(r control.Response) error {
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
	err := c.logsLive(cmd, args)
	if err == nil || c.lines == 0 {
		return err // the files hold only the past, and none was asked for
	}
	return c.logsFromFiles(args, err)
}

// logsLive is `kelpie logs` from the running kelpie.
func (c *cli) logsLive(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	p := &logPrinter{out: c.stdout, json: c.json, colour: !c.json && wantColour(c.stdout)}
	// One request, whatever it covers: the server merges several units'
	// history in time order and follows them all on one connection.
	req := control.Request{Cmd: "logs", N: int(c.lines), Follow: c.follow}
	if c.lines == 0 {
		req.N = -1 // none (0 asks for the server's default)
	}
	if len(args) == 1 {
		req.Name = args[0]
	} else {
		req.Units = args
		names := args
		if len(names) == 0 {
			var err error
			if names, err = c.unitNames(ctx); err != nil {
				return err
			}
		}
		p.multi = true
		p.prefix = prefixes(names, p.colour)
	}
	if !c.follow {
		err := c.do(ctx, req, func(r control.Response) error {
			if r.Line != nil {
				return p.add(lineUnit(req, r.Line), r.Line)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return p.flush()
	}
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	removed := false
	err = control.DoWith(ctx, t.dial, req, func(r control.Response) error {
		if r.Event != nil && len(r.Event.Removed) > 0 {
			// Every unit followed was removed (scaled away): the end.
			if err := p.flush(); err != nil {
				return err
			}
			removed = true
			for _, name := range r.Event.Removed {
				fmt.Fprintf(c.stderr, "kelpie: %s was removed\n", procs.Clean(name))
			}
			return nil
		}
		if r.Missed > 0 {
			who := r.Unit
			if who == "" {
				who = req.Name
			}
			fmt.Fprintf(c.stderr, "kelpie: %d lines of %s dropped (this client read slower than kelpie wrote)\n", r.Missed, procs.Clean(who))
		}
		if r.Line == nil {
			return nil
		}
		return p.add(lineUnit(req, r.Line), r.Line)
	}, p.flush)
	if err == nil || errors.Is(err, control.ErrLost) {
		if ferr := p.flush(); ferr != nil {
			return ferr
		}
		if removed && err == nil {
			return nil
		}
		return errGone
	}
	return err
}

func (c *cli) runMessages(cmd *cobra.Command, args []string) error {
	if c.lines == 0 {
		return nil
	}
	p := &logPrinter{out: c.stdout}
	err := c.do(cmd.Context(), control.Request{Cmd: "messages", Name: args[0], N: int(c.lines)}, func(r control.Response) error {
		if r.Message == nil {
			return nil
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if c.json {
			j, err := json.Marshal(r.Message)
			if err != nil {
				return err
			}
			p.buf = append(append(p.buf, escapeC1(j)...), '\n')
		} else {
			arrow := "← "
			if r.Message.Stream == procs.IPCOut {
				arrow = "→ "
			}
			p.buf = r.Message.Time.AppendFormat(p.buf, "15:04:05.000 ")
			if r.Message.Unit != "" { // a group's: each names its member
				p.buf = append(append(p.buf, procs.Clean(r.Message.Unit)...), ' ')
			}
			p.buf = append(p.buf, arrow...)
			p.buf = append(append(p.buf, procs.Clean(r.Message.Text())...), '\n')
		}
		if len(p.buf) >= printBuffer {
			return p.flushLocked()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.flush()
}

// lineUnit is the unit a line of a logs reply belongs to: the one named, or
// the one the line names when the reply covers several.
func lineUnit(req control.Request, l *procs.Line) string {
	if l.Unit != "" {
		return l.Unit
	}
	return req.Name
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

// logPrinter prints log lines from one or more streams. Lines gather in a
// buffer and go out in one write per batch (flush), or per printBuffer bytes.
type logPrinter struct {
	mu     sync.Mutex
	out    io.Writer
	json   bool
	colour bool
	multi  bool              // lines of several units: each gets a prefix
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
		if p.multi || l.Unit != "" {
			// l.Unit is set when the reply covers several units: a group
			// named by its group name, too.
			b = append(b, p.prefixFor(unit)...)
		}
		b = l.Time.AppendFormat(b, "15:04:05.000")
		b = append(b, ' ')
		if l.Stream != procs.Stdout {
			b = append(b, "["+l.Stream.String()+"] "...)
		}
		// The server sanitises, but this is text from another process.
		b = appendText(b, procs.Clean(l.Text), p.colour)
		b = append(b, '\n')
	}
	p.buf = b
	if len(b) >= printBuffer {
		return p.flushLocked()
	}
	return nil
}

// prefixFor is unit's prefix; a unit added after the names were known gets
// one as wide as the others'.
func (p *logPrinter) prefixFor(unit string) string {
	if pre, ok := p.prefix[unit]; ok {
		return pre
	}
	width := len(unit)
	for name := range p.prefix {
		width = max(width, len(name))
	}
	pre := prefix(unit, width, len(p.prefix), p.colour)
	if p.prefix == nil {
		p.prefix = make(map[string]string)
	}
	p.prefix[unit] = pre
	return pre
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
	if u.Ready {
		s += ", ready"
	}
	return procs.Clean(s)
}

func printPS(w io.Writer, units []procs.Info) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tREADY\tPID\tCPU\tMEM\tRESTARTS\tUPTIME\tNOTE")
	now := time.Now()
	for _, u := range units {
		pid := "-"
		if u.PID != 0 {
			pid = strconv.Itoa(u.PID)
		}
		mem := bytesHuman(u.RSS)
		if u.Kind == procs.KindWorker {
			// A goroutine has no memory of its own: kelpie's is shared.
			mem = "shared"
		}
		ready := "-"
		if u.Ready && u.State.Live() {
			ready = "✓"
		}
		note := u.Reason
		if note == "" && u.ExitCode != nil && !u.State.Live() {
			note = "exit " + strconv.Itoa(*u.ExitCode)
		}
		if note == "" && u.Listen != "" {
			note = u.Listen
			if u.Ready {
				note += " ready"
			}
			if u.Served > 0 {
				note += fmt.Sprintf(", %d served", u.Served)
			}
		}
		if u.Status != "" { // the unit's own sd_notify words
			if note != "" {
				note += "; "
			}
			note += "status: " + u.Status
		}
		if !u.NextRun.IsZero() {
			next := "next run " + u.NextRun.Local().Format("Jan 2 15:04:05")
			if note != "" {
				next = note + "; " + next
			}
			note = next
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f%%\t%s\t%d\t%s\t%s\n", procs.Clean(u.Name), u.Kind, u.State, ready, pid, u.CPU,
			mem, u.Restarts, durHuman(u.Uptime(now)), procs.Clean(note))
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
