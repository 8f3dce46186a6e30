package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sshd is a throwaway OpenSSH server on 127.0.0.1 for one test: its own
// host key, its own authorized_keys with a key made for the test, a free
// port, and a client config (-F) so that the user's own ssh configuration
// is neither read nor touched. Host "kelpie-test" names it.
type sshd struct {
	dir  string
	port string
	// env runs kelpie's ssh with the test's config, and the bridge as the
	// test's kelpie binary (it is on no PATH of the server's).
	env []string
}

func startSSHD(t *testing.T) *sshd {
	t.Helper()
	bin, err := exec.LookPath("sshd")
	if err != nil {
		bin = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sshd is not installed (apt-get install openssh-server): the remote tests must run in CI")
		}
		t.Skip("sshd is not installed (apt-get install openssh-server); skipping the remote tests")
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh is not installed")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// A short directory: ssh's control sockets live under paths of their own.
	dir, err := os.MkdirTemp("", "ksshd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kelpie-test", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub := func(k string) string {
		b, err := os.ReadFile(filepath.Join(dir, k+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("authorized_keys", pub("client_key"))
	write("known_hosts", "[127.0.0.1]:"+port+" "+pub("host_key"))
	cfg := write("sshd_config", strings.Join([]string{
		"Port " + port, "ListenAddress 127.0.0.1",
		"HostKey " + filepath.Join(dir, "host_key"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password", "AllowStreamLocalForwarding yes", "LogLevel ERROR", "",
	}, "\n"))
	client := write("ssh_config", strings.Join([]string{
		"Host kelpie-test", "  HostName 127.0.0.1", "  Port " + port, "  User " + me.Username,
		"  IdentityFile " + filepath.Join(dir, "client_key"), "  IdentitiesOnly yes", "  IdentityAgent none",
		"  UserKnownHostsFile " + filepath.Join(dir, "known_hosts"), "  GlobalKnownHostsFile /dev/null",
		"  StrictHostKeyChecking yes", "  BatchMode yes", "  LogLevel ERROR", "",
	}, "\n"))
	if os.Geteuid() == 0 {
		// The privilege separation directory a root sshd wants.
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	// Logs to a file: a session's sshd holds on to sshd's descriptors.
	logFile := filepath.Join(dir, "sshd.log")
	cmd := exec.Command(bin, "-D", "-E", logFile, "-f", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logFile)
			t.Fatalf("sshd exited:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("sshd never listened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// kelpie's runtime directory, where --ssh-control keeps ssh's
	// ControlMaster socket; the master is sent away with the test.
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("ssh", "-F", client, "-o", "ControlPath="+filepath.Join(run, "kelpie", "ssh-%C"), "-O", "exit", "kelpie-test").Run()
	})
	return &sshd{dir: dir, port: port, env: []string{
		"KELPIE_SSH_COMMAND=ssh -F " + client,
		"KELPIE_REMOTE_COMMAND=" + kelpieBin,
		"XDG_RUNTIME_DIR=" + run,
	}}
}

// kelpieWith runs kelpie in dir with extra environment.
func kelpieWith(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(kelpieBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// The client commands over ssh: --host and $KELPIE_HOST, with and without
// a ControlMaster.
func TestRemoteClientCommandsOverSSH(t *testing.T) {
	d := startSSHD(t)
	in := startKelpie(t, "processes:\n  web:\n    run: \"echo remote-hello; exec sleep 424293\"\n")
	host := "ssh://kelpie-test"
	remote := func(env []string, args ...string) (string, string) {
		t.Helper()
		out, errOut, code := kelpieWith(t, in.dir, append(d.env, env...), args...)
		if code != 0 {
			t.Fatalf("kelpie %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out, errOut
	}
	if out, _ := remote(nil, "ps", "--host", host, "--socket", in.sock); !strings.Contains(out, "web") || !strings.Contains(out, "running") {
		t.Fatalf("ps over ssh:\n%s", out)
	}
	if out, _ := remote([]string{"KELPIE_HOST=" + host}, "logs", "web", "--socket", in.sock); !strings.Contains(out, "remote-hello") {
		t.Fatalf("logs over ssh ($KELPIE_HOST):\n%s", out)
	}
	if out, _ := remote(nil, "stop", "web", "--host", host, "--socket", in.sock, "--ssh-control"); !strings.Contains(out, "web: stopped") {
		t.Fatalf("stop over ssh:\n%s", out)
	}
	if out, _ := remote(nil, "start", "web", "--host", host, "--socket", in.sock, "--ssh-control"); !strings.Contains(out, "web: running") {
		t.Fatalf("start over ssh:\n%s", out)
	}
	remote(nil, "down", "--host", host, "--socket", in.sock)
	select {
	case <-in.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("kelpie did not exit after down over ssh")
	}
}

// What goes wrong on the way is said in one line each.
func TestRemoteErrorsInOneSentence(t *testing.T) {
	d := startSSHD(t)
	in := startKelpie(t, "processes:\n  web:\n    run: [\"sleep\", \"424294\"]\n")
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"shell noise", []string{"KELPIE_REMOTE_COMMAND=echo Welcome to the server; " + kelpieBin}, nil,
			`ssh://kelpie-test: the remote printed "Welcome to the server" before kelpie answered: check the server's shell startup files`},
		{"not on PATH", []string{"KELPIE_REMOTE_COMMAND=kelpie-not-installed-here"}, nil,
			"ssh://kelpie-test: kelpie is not on the server's PATH for non-interactive ssh commands"},
		{"no kelpie there", nil, []string{"--socket", filepath.Join(in.dir, "none.sock")},
			"ssh://kelpie-test: no kelpie is running"},
		{"ssh fails", []string{"KELPIE_SSH_COMMAND=ssh -F " + filepath.Join(d.dir, "ssh_config") + " -p 1"}, []string{"--host", "ssh://127.0.0.1:1"},
			"ssh://127.0.0.1:1: ssh: connect to host 127.0.0.1 port 1"},
		{"older kelpie", []string{`KELPIE_REMOTE_COMMAND=echo 'kelpie: unknown command "dial-stdio"' >&2; echo "Run 'kelpie --help' for usage." >&2; exit 2; :`}, nil,
			"ssh://kelpie-test: the server's kelpie is older than this one (it has no dial-stdio)"},
		{"bad host", nil, []string{"--host", "http://x"}, "want ssh://[user@]server[:port][/path/to/kelpie.yaml]"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			args := append([]string{"ps", "--host", "ssh://kelpie-test", "--socket", in.sock}, c.args...)
			_, errOut, code := kelpieWith(t, in.dir, append(append([]string{}, d.env...), c.env...), args...)
			t.Logf("%s", errOut)
			if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
				t.Fatalf("exit %d, stderr:\n%s\nwant one sentence with %q", code, errOut, c.want)
			}
		})
	}
}

// The attached screen over ssh, left with q: the kelpie keeps running.
func TestRemoteAttachOverSSH(t *testing.T) {
	d := startSSHD(t)
	in := startKelpie(t, "processes:\n  web:\n    run: \"echo attached-remotely; exec sleep 424295\"\n")
	pid := waitPids(t, "sleep 424295")[0]
	argv := append([]string{"env"}, d.env...)
	argv = append(argv, kelpieBin, "attach", "--host", "ssh://kelpie-test", "--socket", in.sock)
	s := attachScreen(t, 1, in.dir, argv...)
	s.waitFor("web", "attached-remotely", "q leave", "ssh://kelpie-test")
	s.keys("x")
	s.waitFor("■ stopped")
	s.keys("s")
	s.waitFor("● running")
	s.keys("q")
	if code, errOut := s.exited(in.dir, 1); code != 0 || errOut != "" {
		t.Fatalf("q: exit %d %q", code, errOut)
	}
	if alive(pid) {
		_ = waitGone(pid) // stopped with x
	}
	if _, _, code := in.kelpie("ps"); code != 0 {
		t.Fatal("the kelpie went away with the remote screen")
	}
}

// The README's fallback where kelpie is not on the server's PATH: ssh -L
// forwards a local socket to the server's, and --socket uses it.
func TestRemoteSocketForwarding(t *testing.T) {
	d := startSSHD(t)
	in := startKelpie(t, "processes:\n  web:\n    run: [\"sleep\", \"424296\"]\n")
	local := filepath.Join(d.dir, "fwd.sock")
	fwd := exec.Command("ssh", "-F", filepath.Join(d.dir, "ssh_config"), "-N", "-o", "ExitOnForwardFailure=yes",
		"-L", local+":"+in.sock, "kelpie-test")
	var logs bytes.Buffer
	fwd.Stderr = &logs
	if err := fwd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fwd.Process.Kill(); _ = fwd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(local); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh -L never made %s:\n%s", local, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, errOut, code := kelpieWith(t, in.dir, nil, "ps", "--socket", local)
	if code != 0 || !strings.Contains(out, "web") {
		t.Fatalf("ps through ssh -L: exit %d\n%s%s", code, out, errOut)
	}
}

// A far end that prints something other than kelpie and goes on talking:
// the client stops reading and closes its end of ssh's stdout first, so the
// far end's next write ends it (EPIPE) and it finishes on its own, rather
// than blocking on a full pipe until the client kills it. The fake ssh
// writes its marker only if it got to run on after the broken pipe.
func TestRemoteNoiseClosesStdoutBeforeWaiting(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ended")
	fake := filepath.Join(dir, "fakessh")
	script := "#!/bin/sh\necho 'Welcome to the server'\nyes chatter 2>/dev/null\necho ended > '" + marker + "'\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := kelpieWith(t, dir, []string{"KELPIE_SSH_COMMAND=" + fake}, "ps", "--host", "ssh://fake-host")
	if code == 0 || !strings.Contains(errOut, `printed "Welcome to the server"`) {
		t.Fatalf("exit %d, stderr:\n%s\nwant the shell noise named", code, errOut)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the far end was killed rather than ending on its closed stdout: %v", err)
	}
}
