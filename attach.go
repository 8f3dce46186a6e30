package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/ui"
)

// detachWait bounds how long `up --detach` waits for the kelpie it started
// to answer on its socket (it binds clusters' addresses and starts the
// guard first; a slow disk or a busy machine can take a few seconds).
const detachWait = 30 * time.Second

// runDetach is `kelpie up --detach`: kelpie again, headless, in a session
// of its own (no terminal: closing this one sends it no SIGHUP), stdin
// /dev/null and its own messages (not its units' output: see quietUnits)
// in a log file beside its socket, the previous run's kept as .1. It
// returns once that kelpie answers on its socket, printing the socket's and
// the log's paths; a kelpie that fails to start has its log's last lines
// shown, and one that does not answer in time is stopped.
func (c *cli) runDetach() error {
	path, key, err := c.locate()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	// The config's mistakes, with their positions, here and now rather
	// than in a log file.
	f, _, err := c.specs(path, exe)
	if err != nil {
		return err
	}
	sock, err := control.Path(c.socket, key)
	if err != nil {
		return err
	}
	if running(sock) {
		return (&control.AlreadyRunningError{Path: sock})
	}
	logPath := detachLog(sock)
	// One log per run, the previous one kept as .1: the file sits in the
	// runtime directory (often a small tmpfs, beside the sockets) and must
	// not grow across runs.
	if err := os.Rename(logPath, logPath+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("detach: rotate the log: %w", err)
	}
	lf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("detach: log file: %w", err)
	}
	defer lf.Close()
	fmt.Fprintf(lf, "kelpie: started %s by `kelpie up --detach`\n", time.Now().Format(time.RFC3339))
	null, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	defer null.Close()
	args := []string{"up", "--headless", "--quiet-units", "--socket", sock}
	if path != "" {
		args = append(args, "--file", path)
	}
	if c.logDir != "" {
		args = append(args, "--log-dir", c.logDir)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("detach: start kelpie: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	wait := c.detachWait
	if wait <= 0 {
		wait = detachWait
	}
	deadline := time.Now().Add(wait)
	for {
		// The wait is over before another look, however soon the last
		// one was (this goroutine may have waited for a CPU meanwhile).
		if time.Now().After(deadline) {
			// Nothing half-started is left behind: a kelpie nobody can
			// reach would hold its socket and ports and run its units
			// unseen.
			how := stopDetached(cmd.Process.Pid, exited, stopWait(f))
			return &exitError{code: exitFail, text: fmt.Sprintf("kelpie: the detached kelpie (pid %d) did not answer on %s within %s; %s; see %s",
				cmd.Process.Pid, sock, wait, how, logPath)}
		}
		if running(sock) {
			break
		}
		select {
		case err := <-exited:
			return &exitError{code: exitFail, text: fmt.Sprintf("kelpie: the detached kelpie exited (%v) before it answered; the end of %s:\n%s",
				err, logPath, logTail(logPath, 10))}
		case <-time.After(20 * time.Millisecond):
		}
	}
	fmt.Fprintf(c.stdout, "kelpie is running in the background (pid %d)\nsocket: %s\nlog:    %s\n", cmd.Process.Pid, sock, logPath)
	where := "" // what finds it again from here
	if c.socket != "" {
		where = " --socket " + shellQuote(sock)
	} else if c.file != "" {
		where = " -f " + shellQuote(path)
	}
	fmt.Fprintf(c.stdout, "attach with `kelpie attach%s`, stop it all with `kelpie down%s`\n", where, where)
	return nil
}

// stopDetached stops the detached kelpie pid, whose Wait reports on exited:
// SIGTERM first (its units stop as on `kelpie down`), then SIGKILL to its
// whole process group (it leads its session) if it has not gone within
// wait; its guard, in a session of its own, then kills what its units
// left. It says what it did.
func stopDetached(pid int, exited <-chan error, wait time.Duration) string {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
		return "stopped it (SIGTERM)"
	case <-time.After(wait):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	return fmt.Sprintf("it did not stop within %s of SIGTERM: killed its process group", wait)
}

// running reports whether a kelpie answers at sock.
func running(sock string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := control.Dial(ctx, sock)
	return err == nil
}

// detachLog is where a detached kelpie's output goes: beside its socket, in
// the same private directory.
func detachLog(sock string) string {
	return strings.TrimSuffix(sock, ".sock") + ".log"
}

// logTail is the last n lines of the file at path, made safe to print (a
// unit's name or a path in an error is outside text).
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var out strings.Builder
	for _, l := range lines {
		out.WriteString("  " + procs.Clean(string(l)) + "\n")
	}
	return strings.TrimRight(out.String(), "\n")
}

func (c *cli) attachCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attach [flags]",
		Short: "Open the screen on a running kelpie (q leaves it running, Q stops it all)",
		Long: `Open the full screen on a kelpie that is already running (started with
` + "`kelpie up --detach`" + `, or another screen's), here or on another machine
with --host ssh://[user@]server[:port][/path/to/kelpie.yaml].
q leaves the screen and everything keeps running; Q (after a y) stops every
unit and that kelpie, like ` + "`kelpie down`" + `. Several screens may attach at once.
If the kelpie goes away, the screen says so and exits with status 1.`,
		Example: "  kelpie up --detach && kelpie attach\n  kelpie attach --host ssh://deploy@web1/srv/app/kelpie.yaml",
		Args:    c.argsFor(),
		RunE:    c.runAttach,
	}
	c.configFlags(cmd, true)
	c.hostFlags(cmd)
	return cmd
}

func (c *cli) runAttach(cmd *cobra.Command, _ []string) error {
	if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		return &exitError{code: exitUsage, text: "kelpie: attach needs a terminal; `kelpie ps` and `kelpie logs -F` work without one"}
	}
	t, err := c.target(cmd.Context())
	if err != nil {
		return err
	}
	eng, err := control.DialWith(cmd.Context(), t.where, t.dial)
	if err != nil {
		return err
	}
	title := t.where
	if c.host == "" && os.Getenv(envHost) == "" && c.socket == "" && os.Getenv(control.EnvSocket) == "" {
		if path, _, err := c.locate(); err == nil && path != "" {
			title = configTitle(path)
		}
	}
	err = ui.Run(eng, ui.Options{Title: title, Version: version, Attached: t.where})
	var gone *ui.GoneError
	if errors.As(err, &gone) {
		return &exitError{code: exitFail, text: "kelpie: " + procs.Clean(gone.Error())}
	}
	return err
}

// dialStdioCommand is the hidden far end of --host: ssh runs it on the
// server, and it bridges its stdin and stdout to the control socket there.
func (c *cli) dialStdioCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "dial-stdio [flags]",
		Short:  "Bridge stdin and stdout to the running kelpie's control socket (for --host)",
		Hidden: true,
		Args:   c.argsFor(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock, err := c.socketPath()
			if err != nil {
				return err
			}
			err = control.ServeStdio(cmd.Context(), os.Stdin, os.Stdout, control.UnixDialer(sock))
			if err != nil {
				// Said to the client in the greeting; this is for a human
				// who ran it by hand.
				return &exitError{code: exitFail}
			}
			return nil
		},
	}
	c.configFlags(cmd, true)
	return cmd
}
