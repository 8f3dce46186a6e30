package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
)

// Environment variables of --host.
const (
	// envHost is --host's default.
	envHost = "KELPIE_HOST"
	// envSSHCommand replaces `ssh` (as GIT_SSH_COMMAND does for git): its
	// words, split at spaces, e.g. "ssh -F ~/.ssh/work_config".
	envSSHCommand = "KELPIE_SSH_COMMAND"
	// envRemoteCommand is how the server's shell runs kelpie (default
	// "kelpie", found on the non-interactive PATH), e.g. "~/bin/kelpie".
	envRemoteCommand = "KELPIE_REMOTE_COMMAND"
)

// target is the running kelpie a client command talks to: where it is (for
// messages) and how to open a connection to it.
type target struct {
	where string
	dial  control.Dialer
	close func()
}

// hostFlags adds --host and its ssh options.
func (c *cli) hostFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.host, "host", "", "talk to the kelpie on another machine through the system ssh: `ssh://[user@]server[:port][/path/to/kelpie.yaml]` (default $"+envHost+")")
	cmd.Flags().BoolVar(&c.sshControl, "ssh-control", false, "with --host: share one ssh connection between commands (ControlMaster=auto, ControlPersist=10m)")
	cmd.Flags().BoolVar(&c.sshBatch, "ssh-batch", false, "with --host: never ask for a password or passphrase (ssh's BatchMode)")
}

// target finds the running kelpie once per command: --host (or
// $KELPIE_HOST unless --socket is given) reaches it through ssh, anything
// else through its socket here (see socketPath).
func (c *cli) target(ctx context.Context) (*target, error) {
	if c.tgt != nil {
		return c.tgt, nil
	}
	host := c.host
	if host == "" && c.socket == "" {
		host = os.Getenv(envHost)
	}
	if host != "" {
		t, err := c.dialSSH(ctx, host)
		if err != nil {
			return nil, err
		}
		c.tgt = t
		return t, nil
	}
	path, err := c.socketPath()
	if err != nil {
		return nil, err
	}
	c.tgt = &target{where: path, dial: control.UnixDialer(path), close: func() {}}
	return c.tgt, nil
}

// closeTarget ends the ssh session, if a command opened one.
func (c *cli) closeTarget() {
	if c.tgt != nil {
		c.tgt.close()
		c.tgt = nil
	}
}

// sshHost is a parsed --host.
type sshHost struct {
	user, host, port, path string
}

// parseHost reads ssh://[user@]server[:port][/path/to/kelpie.yaml].
func parseHost(s string) (sshHost, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "ssh" || u.Hostname() == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		return sshHost{}, fmt.Errorf("--host %q: want ssh://[user@]server[:port][/path/to/kelpie.yaml]", s)
	}
	h := sshHost{host: u.Hostname(), port: u.Port(), path: u.Path}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return sshHost{}, fmt.Errorf("--host %q: no passwords in the address (ssh asks for one, or use a key)", s)
		}
		h.user = u.User.Username()
	}
	if strings.HasPrefix(h.host, "-") || strings.HasPrefix(h.user, "-") {
		return sshHost{}, fmt.Errorf("--host %q: a server or user name cannot start with '-'", s)
	}
	return h, nil
}

// sshArgs is the ssh command line for h: ssh's own configuration applies
// (~/.ssh/config, agents, ProxyJump, known hosts); -T because the bridge
// is a byte stream, not a terminal.
func (c *cli) sshArgs(h sshHost, remote string) ([]string, error) {
	argv := strings.Fields(os.Getenv(envSSHCommand))
	if len(argv) == 0 {
		argv = []string{"ssh"}
	}
	argv = append(argv, "-T", "-o", "ServerAliveInterval=15")
	if c.sshBatch {
		argv = append(argv, "-o", "BatchMode=yes")
	}
	if c.sshControl {
		// The runtime directory that holds kelpie's sockets: private, and
		// short enough for a socket's path. %C is ssh's hash of the
		// connection (user, host, port).
		sock, err := control.DefaultPath("ssh")
		if err != nil {
			return nil, err
		}
		argv = append(argv, "-o", "ControlMaster=auto", "-o", "ControlPath="+filepath.Join(filepath.Dir(sock), "ssh-%C"), "-o", "ControlPersist=10m")
	}
	if h.port != "" {
		argv = append(argv, "-p", h.port)
	}
	if h.user != "" {
		argv = append(argv, "-l", h.user)
	}
	return append(argv, "--", h.host, remote), nil
}

// remoteCommand is what the server's shell runs: kelpie's bridge to the
// socket of the config at path (or of --socket, or the one found from the
// login directory).
func (c *cli) remoteCommand(path string) string {
	kelpie := os.Getenv(envRemoteCommand)
	if kelpie == "" {
		kelpie = "kelpie"
	}
	cmd := kelpie + " dial-stdio"
	if path == "" {
		path = c.file
	}
	switch {
	case strings.HasPrefix(path, "/~/"): // ssh://host/~/app/kelpie.yaml: under the login's home
		cmd += " --file ~/" + shellQuote(path[3:])
	case path != "":
		cmd += " --file " + shellQuote(path)
	}
	if c.socket != "" {
		cmd += " --socket " + shellQuote(c.socket)
	}
	return cmd
}

// shellQuote quotes s for a POSIX shell, always (export's shQuote leaves a
// plain word bare, for unit files people read): the remote command and the
// attach hint quote every path the same way, as their tests pin.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dialSSH runs ssh to the server in raw and kelpie's bridge there, and
// returns the target over it: every connection a stream of one session.
func (c *cli) dialSSH(ctx context.Context, raw string) (*target, error) {
	h, err := parseHost(raw)
	if err != nil {
		return nil, &exitError{code: exitUsage, text: "kelpie: " + procs.Clean(err.Error())}
	}
	where := (&url.URL{Scheme: "ssh", User: userOf(h.user), Host: hostPort(h)}).String()
	argv, err := c.sshArgs(h, c.remoteCommand(h.path))
	if err != nil {
		return nil, err
	}
	// Pipes of our own, not StdoutPipe: Wait must not close what the Mux
	// still reads (the bridge's last words before ssh exits).
	inR, stdin, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	stdout, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		stdin.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	stderr := &tailBuffer{max: 4 << 10}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, stderr
	// A ControlMaster ssh starts may keep stderr open for minutes.
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, fmt.Errorf("%s: run ssh: %w", where, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	end := sync.OnceFunc(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	// A greeting that never comes (a hung server) ends with ctx.
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	m, err := control.OpenMux(stdout, stdin, closeBoth{stdin, stdout})
	stop()
	if err != nil {
		// Nobody reads stdout any more: closed first, a chatty far end gets
		// EPIPE and ssh ends, rather than blocking on a full pipe while end
		// waits its full 5 s.
		stdout.Close()
		end()
		if !errors.Is(err, control.ErrNoGreeting) {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return nil, sshError(where, waitErr, stderr.String())
	}
	return &target{where: where, dial: m.Dial, close: func() { m.Close(); end() }}, nil
}

// closeBoth closes the ssh session's pipes: stdin first, which ends the
// bridge and so ssh.
type closeBoth struct{ in, out io.Closer }

func (c closeBoth) Close() error {
	err := c.in.Close()
	c.out.Close()
	return err
}

func userOf(u string) *url.Userinfo {
	if u == "" {
		return nil
	}
	return url.User(u)
}

func hostPort(h sshHost) string {
	host := h.host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if h.port != "" {
		host += ":" + h.port
	}
	return host
}

// sshError says in one line why ssh ended before kelpie's bridge answered.
func sshError(where string, err error, stderr string) error {
	last := lastLine(stderr)
	var ee *exec.ExitError
	code := -1
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	switch {
	case strings.Contains(stderr, `unknown command "dial-stdio"`):
		return fmt.Errorf("%s: the server's kelpie is older than this one (it has no dial-stdio): use the same kelpie version on both ends, or forward the socket with ssh -L (see the README)", where)
	case code == 255 && last != "":
		return fmt.Errorf("%s: %s", where, last) // ssh's own error
	case code == 127:
		return fmt.Errorf("%s: kelpie is not on the server's PATH for non-interactive ssh commands (%s): install it there, set %s to its path, or forward the socket with ssh -L (see the README)",
			where, last, envRemoteCommand)
	case last != "":
		return fmt.Errorf("%s: the remote command ended (exit %d): %s", where, code, last)
	}
	return fmt.Errorf("%s: ssh ended (exit %d) before kelpie answered", where, code)
}

// lastLine is the last non-empty line of s, safe to print.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r", "")), "\n")
	return strings.TrimSpace(procs.Clean(lines[len(lines)-1]))
}

// tailBuffer keeps the last max bytes written to it (ssh's stderr, which
// must never reach the screen).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

var _ io.Writer = (*tailBuffer)(nil)
