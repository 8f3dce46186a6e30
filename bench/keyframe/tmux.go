package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// server is a private tmux server, reached through its socket path
// (tmux -S path): the socket goes away with the directory holding it.
type server struct{ socket string }

// exec runs one tmux client command against the server and returns its output.
func (s server) exec(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// kill stops the server and everything running in it.
func (s server) kill() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() }

// runner runs tmux commands; the timed key presses and polls go through one.
type runner interface {
	run(args ...string) (string, error)
	close()
}

// execRunner starts a tmux client process per command.
type execRunner struct {
	ctx context.Context
	srv server
}

func (r execRunner) run(args ...string) (string, error) { return r.srv.exec(r.ctx, args...) }
func (execRunner) close()                               {}

// controlRunner sends commands over one tmux control-mode client (tmux -C),
// so a command costs a round trip to the server, not a process start.
type controlRunner struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// newControlRunner attaches a control-mode client to session (which must
// exist) and waits until the client answers its own commands.
func newControlRunner(ctx context.Context, srv server, session string) (*controlRunner, error) {
	cmd := exec.CommandContext(ctx, "tmux", "-S", srv.socket, "-C", "attach-session", "-t", session)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("control client: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("control client: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("control client: %w", err)
	}
	r := &controlRunner{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 64<<10)}
	// Check the client answers its commands.
	const marker = "keyframe-ready"
	if out, err := r.run("display-message", "-p", marker); err != nil || strings.TrimSpace(out) != marker {
		r.close()
		return nil, fmt.Errorf("control client: got %q, %v; want %q", out, err, marker)
	}
	return r, nil
}

func (r *controlRunner) run(args ...string) (string, error) {
	line, err := commandLine(args)
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(r.in, line+"\n"); err != nil {
		return "", fmt.Errorf("tmux %s: %w", line, err)
	}
	body, err := r.block()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %w", line, err)
	}
	return body, nil
}

// block reads up to the next reply to a command this client sent and
// returns its body. Replies are %begin ... %end (or %error) blocks whose
// guard lines carry the same time, command number and flags; flags is 1 for
// a command the client sent and 0 for the attach that started it, whose
// block may come before or after the first reply. Notifications and the
// attach's block are skipped.
func (r *controlRunner) block() (string, error) {
	for {
		body, guard, ok, err := r.next()
		if err != nil {
			return "", err
		}
		if !strings.HasSuffix(guard, " 1\n") {
			continue
		}
		if !ok {
			return "", errors.New(strings.TrimSpace(body))
		}
		return body, nil
	}
}

// next reads the next block: its body, its guard, and whether it ended in
// %end rather than %error.
func (r *controlRunner) next() (body, guard string, ok bool, err error) {
	for guard == "" {
		l, err := r.out.ReadString('\n')
		if err != nil {
			return "", "", false, fmt.Errorf("reading control client: %w", err)
		}
		if g, found := strings.CutPrefix(l, "%begin "); found {
			guard = g
		}
	}
	var b strings.Builder
	for {
		l, err := r.out.ReadString('\n')
		if err != nil {
			return "", "", false, fmt.Errorf("reading control client: %w", err)
		}
		if g, found := strings.CutPrefix(l, "%end "); found && g == guard {
			return b.String(), guard, true, nil
		}
		if g, found := strings.CutPrefix(l, "%error "); found && g == guard {
			return b.String(), guard, false, nil
		}
		b.WriteString(l)
	}
}

func (r *controlRunner) close() {
	_ = r.in.Close()
	_ = r.cmd.Process.Kill() // only the client: the server and its panes stay
	_ = r.cmd.Wait()
}

// commandLine quotes args for tmux's command parser.
func commandLine(args []string) (string, error) {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "'\n") {
			return "", fmt.Errorf("tmux argument %q: quotes and newlines are not supported", a)
		}
		q[i] = "'" + a + "'"
	}
	return strings.Join(q, " "), nil
}
