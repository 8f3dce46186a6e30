package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// commands builds kelpie's command tree. Every command's RunE returns an
// error that report turns into a message and an exit status.
func (c *cli) commands() *cobra.Command {
	root := &cobra.Command{
		Use:   "kelpie",
		Short: "a terminal process manager",
		Long: `kelpie — a terminal process manager

kelpie runs the processes of a kelpie.yaml (or Procfile), keeps them alive
and shows them live in a terminal UI; with no config it runs a built-in demo.
With no command, kelpie runs ` + "`kelpie up`" + `.

Every command finds the config by -f, else the first of kelpie.yaml,
kelpie.yml or Procfile in the current directory or the nearest directory
above it (as git finds its repository). The client commands (ps, logs,
start, stop, restart, signal, send, send-keys, scale, reload, down) and attach
talk to the kelpie running that config, or to the one at --socket or
$KELPIE_SOCKET, or on another machine through ssh with --host or $KELPIE_HOST
(ssh://[user@]server[:port][/path/to/kelpie.yaml]).

Exit status: 0 ok, 1 the command failed, 2 a usage or config error.`,
		Version:       version,
		Args:          c.noCommand,
		RunE:          c.runUp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	// Before the completion command is made: it takes its output from here.
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SuggestionsMinimumDistance = 2
	root.SetVersionTemplate("kelpie {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef(cmd, "%s", err)
	})
	c.upFlags(root)
	root.AddCommand(c.upCommand(), c.validateCommand(), c.versionCommand(), c.exportCommand(), c.attachCommand(), c.dialStdioCommand())
	root.AddCommand(c.clientCommands()...)
	root.SetHelpCommand(c.helpCommand(root))
	c.completionCommand(root)
	return root
}

// completionCommand adds cobra's `completion SHELL`, refusing a missing or
// unknown shell as a usage error (cobra's own prints its help and exits 0).
func (c *cli) completionCommand(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		if cmd.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sub := range cmd.Commands() {
			shells = append(shells, sub.Name())
		}
		cmd.Use = "completion SHELL"
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef(cmd, "completion needs SHELL: %s", strings.Join(shells, ", "))
			}
			return usagef(cmd, "unknown shell %q (want %s)", args[0], strings.Join(shells, ", "))
		}
	}
}

// noCommand refuses arguments to the bare `kelpie` (which runs up): the
// first of them is a command kelpie does not have.
func (c *cli) noCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usagef(cmd, "unknown command %q (did you mean %s?)", args[0], strings.Join(s, " or "))
	}
	return usagef(cmd, "unknown command %q", args[0])
}

// configFlags adds the flags every command that needs a config shares.
func (c *cli) configFlags(cmd *cobra.Command, socket bool) {
	cmd.Flags().StringVarP(&c.file, "file", "f", "", "the config `FILE` (default: "+configNames+" here or above)")
	if socket {
		cmd.Flags().StringVar(&c.socket, "socket", "", "the control socket's `PATH` (default: $KELPIE_SOCKET, else derived from the config)")
	}
}

func (c *cli) upFlags(cmd *cobra.Command) {
	c.configFlags(cmd, true)
	cmd.Flags().BoolVar(&c.headless, "headless", false, "run without the terminal UI, printing every unit's output")
	cmd.Flags().BoolVarP(&c.detach, "detach", "d", false, "run headless in the background, kelpie's own messages to a log file (the units' output: kelpie logs, attach); print the socket and the log's paths and return (see attach)")
	cmd.Flags().StringVar(&c.logDir, "log-dir", "", "keep every unit's output and events in `DIR`/NAME.log (rotated; over the config's log_dir)")
	// What --detach runs: the detached kelpie's log holds kelpie's own
	// messages, not every unit's lines (kelpie logs, attach and log_dir
	// serve those), so it cannot fill the runtime directory.
	cmd.Flags().BoolVar(&c.quietUnits, "quiet-units", false, "with --headless: print kelpie's own messages only, no unit's output")
	_ = cmd.Flags().MarkHidden("quiet-units")
	// Tests ask for a wait nothing can meet, to see what a timeout leaves.
	cmd.Flags().DurationVar(&c.detachWait, "detach-wait", detachWait, "with --detach: how long to wait for the kelpie to answer")
	_ = cmd.Flags().MarkHidden("detach-wait")
}

func (c *cli) upCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up [flags]",
		Short: "Run the config's processes (the default command)",
		Long: `Run the processes of the config (or the built-in demo when there is none)
and show them in the terminal UI, or with --headless print every unit's
output, each line prefixed with the unit's name, until SIGINT, SIGTERM,
SIGHUP, ` + "`kelpie down`" + ` or the output being closed stops every unit.`,
		Args: c.argsFor(),
		RunE: c.runUp,
	}
	c.upFlags(cmd)
	return cmd
}

func (c *cli) validateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate [flags]",
		Short: "Check a config file and report every problem with its position",
		Args:  c.argsFor(),
		RunE:  c.runValidate,
	}
	c.configFlags(cmd, false)
	return cmd
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kelpie's version",
		Args:  c.argsFor(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write([]byte("kelpie " + version + "\n"))
			return err
		},
	}
}

// helpCommand is `kelpie help [COMMAND]`: cobra's own prints the whole
// usage and exits 0 for a command that does not exist.
func (c *cli) helpCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, sub := range root.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || (target == root && len(rest) > 0) {
				return usagef(root, "no help for unknown command %q", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag() // as `CMD --help` shows it
			return target.Help()
		},
	}
}

// argsFor checks a command's positional arguments: names are the required
// ones, in order; a name in brackets is optional.
func (c *cli) argsFor(names ...string) cobra.PositionalArgs {
	required := 0
	for _, n := range names {
		if !strings.HasPrefix(n, "[") {
			required++
		}
	}
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) > len(names) && len(names) == 0:
			return usagef(cmd, "%s takes no arguments (got %q)", cmd.Name(), args[0])
		case len(args) > len(names):
			return usagef(cmd, "%s takes %s (got %d arguments)", cmd.Name(), strings.Join(names, " "), len(args))
		case len(args) < required:
			return usagef(cmd, "%s needs %s", cmd.Name(), strings.Join(names[len(args):required], " and "))
		}
		return nil
	}
}

// count is the -n flag: a number of lines, never negative.
type count int

func (n *count) String() string { return strconv.Itoa(int(*n)) }

// Set parses a count, with messages that say what is wrong in words.
func (n *count) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a whole number")
	}
	if v < 0 {
		return errors.New("a count of lines cannot be negative")
	}
	*n = count(v)
	return nil
}

// Type names the value in the usage text.
func (n *count) Type() string { return "N" }
