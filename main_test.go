package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real kelpie binary, built once for the package.
var kelpieBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kelpie-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kelpieBin = filepath.Join(dir, "kelpie")
	build := exec.Command("go", "build", "-o", kelpieBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build kelpie:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is a headless kelpie started for one test.
type instance struct {
	t      *testing.T
	dir    string
	sock   string
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan error
}

type lockedBuffer struct {
	mu   chan struct{}
	buf  bytes.Buffer
	seen chan struct{} // pinged on every write
}

func newLockedBuffer() *lockedBuffer {
	return &lockedBuffer{mu: make(chan struct{}, 1), seen: make(chan struct{}, 1)}
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	n, err := b.buf.Write(p)
	select {
	case b.seen <- struct{}{}:
	default:
	}
	return n, err
}

func (b *lockedBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// waitFor waits until the output contains s (the output is the event).
func (b *lockedBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.seen:
		case <-deadline:
			t.Fatalf("output never contained %q:\n%s", s, b.String())
		}
	}
}

func startKelpie(t *testing.T, cfg string, extra ...string) *instance {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, dir: dir, sock: filepath.Join(dir, "k.sock"), out: newLockedBuffer(), exited: make(chan error, 1)}
	in.cmd = exec.Command(kelpieBin, append([]string{"up", "--headless", "--socket", in.sock}, extra...)...)
	in.cmd.Dir = dir
	in.cmd.Stdout = in.out
	in.cmd.Stderr = in.out
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	gone := make(chan struct{}) // closed once Wait has returned
	go func() { in.exited <- in.cmd.Wait(); close(gone) }()
	t.Cleanup(func() {
		select {
		case <-gone:
			return
		default:
		}
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-gone:
		case <-time.After(15 * time.Second):
			_ = in.cmd.Process.Kill()
		}
	})
	in.waitSocket()
	return in
}

func (in *instance) waitSocket() {
	in.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("unix", in.sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("kelpie never opened its socket; output:\n%s", in.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kelpie runs a client command against the instance.
func (in *instance) kelpie(args ...string) (stdout, stderr string, code int) {
	in.t.Helper()
	return runKelpie(in.t, in.dir, append([]string{"--socket", in.sock}, args...)...)
}

func runKelpie(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	// Flags may follow the subcommand; put the subcommand first.
	for i, a := range args {
		if !strings.HasPrefix(a, "-") && (i == 0 || args[i-1] != "--socket") {
			args = append(append([]string{a}, args[:i]...), args[i+1:]...)
			break
		}
	}
	cmd := exec.Command(kelpieBin, args...)
	cmd.Dir = dir
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

func TestPsJSONShapeAndControl(t *testing.T) {
	in := startKelpie(t, `processes:
  web:
    run: ["sleep", "424260"]
  once:
    run: "echo hello from once; exit 3"
    restart: never
`)
	in.out.waitFor(t, "hello from once")
	var units []map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, errOut, code := in.kelpie("ps", "--json")
		if code != 0 {
			t.Fatalf("ps --json: exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &units); err != nil {
			t.Fatalf("ps --json is not a JSON array: %v\n%s", err, out)
		}
		if len(units) == 2 && units[1]["state"] == "crashed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("once never crashed: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	web, once := units[0], units[1]
	for _, k := range []string{"name", "kind", "state", "pid", "cpu", "rss", "restarts", "exit_code"} {
		if _, ok := web[k]; !ok {
			t.Errorf("ps --json object lacks %q: %v", k, web)
		}
	}
	if web["name"] != "web" || web["kind"] != "process" || web["state"] != "running" || web["exit_code"] != nil {
		t.Errorf("web: %v", web)
	}
	if pid, _ := web["pid"].(float64); pid <= 0 {
		t.Errorf("web pid %v", web["pid"])
	}
	if once["exit_code"] != float64(3) || once["pid"] != float64(0) {
		t.Errorf("once: %v", once)
	}

	out, _, code := in.kelpie("logs", "once", "-n", "10", "--json")
	if code != 0 {
		t.Fatalf("logs: exit %d", code)
	}
	var sawHello bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("logs --json line %q: %v", line, err)
		}
		ts, _ := l["ts"].(string)
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("ts %q is not RFC 3339: %v", ts, err)
		}
		switch l["stream"] {
		case "stdout", "stderr", "event", "ipc-in", "ipc-out":
		default:
			t.Errorf("stream %v", l["stream"])
		}
		if l["stream"] == "stdout" && l["text"] == "hello from once" {
			sawHello = true
		}
	}
	if !sawHello {
		t.Errorf("logs lacks the line: %s", out)
	}

	if out, errOut, code := in.kelpie("stop", "web"); code != 0 || !strings.Contains(out, "web: stopped") {
		t.Fatalf("stop web: exit %d: %s %s", code, out, errOut)
	}
	if _, errOut, code := in.kelpie("stop", "nosuch"); code != 1 || !strings.Contains(errOut, "no such unit") {
		t.Fatalf("stop of an unknown unit: exit %d, %q", code, errOut)
	}
	if out, _, code := in.kelpie("start", "web"); code != 0 || !strings.Contains(out, "web: running") {
		t.Fatalf("start web: exit %d: %s", code, out)
	}
	if _, errOut, code := in.kelpie("signal", "web", "BOGUS"); code != 2 || !strings.Contains(errOut, "unknown signal") {
		t.Fatalf("bad signal: exit %d %q", code, errOut)
	}
	if _, _, code := in.kelpie("down"); code != 0 {
		t.Fatalf("down: exit %d", code)
	}
	select {
	case err := <-in.exited:
		if err != nil {
			t.Fatalf("kelpie after down: %v\n%s", err, in.out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("kelpie still running after down returned")
	}
	if _, err := os.Stat(in.sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, errOut, code := in.kelpie("ps"); code != 1 || !strings.Contains(errOut, "no kelpie is running") {
		t.Errorf("ps against a dead socket: exit %d %q", code, errOut)
	}
}

func TestSecondKelpieAndStaleSocket(t *testing.T) {
	cfg := "processes:\n  a:\n    run: [\"sleep\", \"424261\"]\n"
	in := startKelpie(t, cfg)
	// A second kelpie for the same socket refuses and says where the first is.
	_, errOut, code := runKelpie(t, in.dir, "up", "--headless", "--socket", in.sock)
	if code != 1 || !strings.Contains(errOut, "already running") || !strings.Contains(errOut, in.sock) {
		t.Fatalf("second kelpie: exit %d %q", code, errOut)
	}
	// Kill the first hard: its socket file stays behind, and the next start replaces it.
	_ = in.cmd.Process.Kill()
	<-in.exited
	if _, err := os.Stat(in.sock); err != nil {
		t.Fatalf("expected a stale socket file: %v", err)
	}
	again := exec.Command(kelpieBin, "up", "--headless", "--socket", in.sock)
	again.Dir = in.dir
	out := newLockedBuffer()
	again.Stdout, again.Stderr = out, out
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Process.Signal(syscall.SIGTERM); _ = again.Wait() }()
	exited := make(chan struct{})
	go func() { _, _ = again.Process.Wait(); close(exited) }()
	for !strings.Contains(out.String(), "started: pid") {
		select {
		case <-out.seen:
		case <-exited:
			// Seen once under heavy load ("already running" after the
			// first was reaped): say who still holds the lock or socket.
			t.Fatalf("the next kelpie did not start:\n%s\nholders: %s", out.String(), holders(in.sock))
		case <-time.After(20 * time.Second):
			t.Fatalf("the next kelpie never started a unit:\n%s", out.String())
		}
	}
}

// holders lists the processes with path's lock file open, for a failure
// message.
func holders(path string) string {
	var b strings.Builder
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		target, err := os.Readlink(fd)
		if err != nil || target != path+".lock" {
			continue // (a socket shows as an inode, not its path)
		}
		pid := strings.Split(fd, "/")[2]
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		fmt.Fprintf(&b, "[pid %s %q: %s] ", pid, strings.ReplaceAll(string(cmd), "\x00", " "), target)
	}
	return b.String()
}

func TestNoOrphansAfterKill9(t *testing.T) {
	in := startKelpie(t, `processes:
  tree:
    run: "sleep 424270 & setsid sleep 424271 & echo spawned; wait"
`)
	in.out.waitFor(t, "spawned")
	pids := waitPids(t, "sleep 424270", "sleep 424271")
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-in.exited
	// The guard notices at once; the bound only keeps a broken guard from
	// hanging the test, it is no measure of speed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after kill -9 of kelpie these are still alive: %v", left)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitPids finds the processes whose command lines are exactly these.
func waitPids(t *testing.T, cmdlines ...string) []int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var pids []int
		for _, c := range cmdlines {
			if p := pidsOf(c); len(p) == 1 {
				pids = append(pids, p[0])
			}
		}
		if len(pids) == len(cmdlines) {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v never appeared", cmdlines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

func TestValidateReportsPositions(t *testing.T) {
	dir := t.TempDir()
	cfg := "processes:\n  api:\n    run: [\"x\"]\n    restrat: always\n  bad:\n    stop_timeout: soon\n"
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runKelpie(t, dir, "validate")
	if code != 2 {
		t.Fatalf("validate: exit %d, want 2: %s", code, errOut)
	}
	for _, want := range []string{"kelpie.yaml:4:5:", "restrat", "kelpie.yaml:5:3:", "run", "kelpie.yaml:6:19:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate output lacks %q:\n%s", want, errOut)
		}
	}
	// Starting refuses the same file before anything runs.
	_, errOut2, code := runKelpie(t, dir, "up", "--headless", "--socket", filepath.Join(dir, "s"))
	if code != 2 || errOut2 != errOut {
		t.Fatalf("up with a bad file: exit %d\n%s", code, errOut2)
	}
}

func TestHeadlessPrefixesAndSendValidation(t *testing.T) {
	in := startKelpie(t, "processes:\n  echoer:\n    run: \"echo one; echo two >&2; sleep 424262\"\n")
	in.out.waitFor(t, "echoer | one")
	in.out.waitFor(t, "echoer | [stderr] two")
	_, errOut, code := in.kelpie("send", "echoer", "{not json")
	if code != 2 || !strings.Contains(errOut, "not valid JSON") {
		t.Fatalf("send of invalid JSON: exit %d %q", code, errOut)
	}
	_, errOut, code = in.kelpie("send", "echoer", `{"cmd":"NODE_X"}`)
	if code != 2 || errOut != "kelpie: messages whose cmd starts with NODE_ are reserved for Node's internal use\n" {
		t.Fatalf("send of a NODE_ message: exit %d %q", code, errOut)
	}
	// SIGTERM stops everything gracefully and kelpie exits 0.
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-in.exited; err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	in.out.waitFor(t, "echoer | [event] stopped")
}

// TestLogsFollow follows a unit's new lines, and sees the client say so and
// exit 1 when kelpie goes away.
func TestLogsFollow(t *testing.T) {
	in := startKelpie(t, "processes:\n  tick:\n    run: \"i=0; while true; do i=$((i+1)); echo line $i; sleep 0.05; done\"\n")
	cmd := exec.Command(kelpieBin, "logs", "tick", "--follow", "-n", "1", "--socket", in.sock)
	errOut := newLockedBuffer()
	cmd.Stderr = errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() { _ = cmd.Process.Kill() }()
	// A stuck stream must fail the test, not hang it: killing the client
	// ends the read.
	timedOut := make(chan struct{})
	timer := time.AfterFunc(20*time.Second, func() { close(timedOut); _ = cmd.Process.Kill() })
	defer timer.Stop()
	r := bufio.NewReader(stdout)
	seen := 0
	for seen < 5 {
		line, err := r.ReadString('\n')
		if err != nil {
			select {
			case <-timedOut:
				t.Fatalf("logs --follow printed %d lines in 20 s", seen)
			default:
				t.Fatalf("logs --follow ended: %v", err)
			}
		}
		if strings.Contains(line, "line ") {
			seen++
		}
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	_, _ = io.Copy(io.Discard, r)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "kelpie: the running kelpie went away") {
			t.Errorf("logs --follow after kelpie went: %v, stderr %q", err, errOut.String())
		}
	case <-timedOut:
		t.Fatal("logs --follow still running 20 s after kelpie went")
	}
}

func TestScreenWithoutTerminalRefusesBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte("processes:\n  a:\n    run: [\"sleep\", \"424263\"]\n"), 0o644)
	_, errOut, code := runKelpie(t, dir, "up", "--socket", filepath.Join(dir, "s"))
	if code != 2 || !strings.Contains(errOut, "--headless") {
		t.Fatalf("exit %d %q", code, errOut)
	}
	if pids := pidsOf("sleep 424263"); len(pids) != 0 {
		t.Fatalf("started %v anyway", pids)
	}
}

// pidsOf lists live processes whose command line is exactly cmdline.
func pidsOf(cmdline string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")) == cmdline && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestLayering keeps DESIGN.md's rule: the engine packages never import a
// UI framework (bubbletea, bubbles, lipgloss); only ui/ and main do. The
// terminal emulator procs keeps for tty units (vterm: creack/pty,
// charmbracelet/x/vt and what they import) is allowed.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./procs/...", "./ipc/...", "./cluster/...",
		"./control/...", "./config/...", "./vterm/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if uiFramework(pkg) {
			t.Errorf("an engine package depends on %s", pkg)
		}
	}
	for _, pkg := range []string{"github.com/charmbracelet/lipgloss", "github.com/charmbracelet/bubbles/key",
		"github.com/charmbracelet/bubbletea", "github.com/charmbracelet/lipgloss/v2", "charm.land/bubbletea/v2"} {
		if !uiFramework(pkg) {
			t.Errorf("the check lets %s through", pkg)
		}
	}
	if uiFramework("github.com/charmbracelet/x/vt") {
		t.Error("the check refuses the terminal emulator")
	}
}

// uiFramework reports whether pkg belongs to a UI framework the engine may
// not use (any major version).
func uiFramework(pkg string) bool {
	for _, f := range []string{"bubbletea", "bubbles", "lipgloss"} {
		for _, p := range []string{"github.com/charmbracelet/" + f, "charm.land/" + f} { // v2 moved
			if pkg == p || strings.HasPrefix(pkg, p+"/") {
				return true
			}
		}
	}
	return false
}
