package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// attachScreen is newScreen for a test that needs more than one screen:
// each gets a tmux server of its own, named by n. What the program writes
// to stderr goes to a file (see stderr): the pane's last words are lost
// when it dies.
func attachScreen(t *testing.T, n int, dir string, argv ...string) *screen {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not found on PATH (./test.sh installs it)")
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	s := &screen{t: t, socket: "kelpie-" + strconv.Itoa(os.Getpid()) + "-" + name + "-" + strconv.Itoa(n), w: 120, h: 30}
	errFile := filepath.Join(dir, "stderr-"+strconv.Itoa(n))
	cmd := append([]string{"new-session", "-d", "-s", "k", "-x", "120", "-y", "30", "-c", dir,
		"env", "TERM=xterm-256color", "sh", "-c", `f=$1; shift; exec "$@" 2>"$f"`, "sh", errFile}, argv...)
	s.tmux(cmd...)
	s.tmux("set-option", "-w", "-t", "k", "remain-on-exit", "on")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

// exited waits for the program in the pane to exit and returns its exit
// status and what it wrote to stderr.
func (s *screen) exited(dir string, n int) (int, string) {
	s.t.Helper()
	s.waitDead()
	// tmux marks the pane dead when its terminal closes, and has the
	// status once it reaps the program on SIGCHLD. Under load it has been
	// seen to leave the program a zombie for over 10 s, its SIGCHLD
	// seemingly lost: another SIGCHLD has it reap its children again.
	deadline := time.Now().Add(10 * time.Second)
	code, err := strconv.Atoi(strings.TrimSpace(s.tmux("display-message", "-p", "-t", "k", "#{pane_dead_status}")))
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if pid, perr := strconv.Atoi(strings.TrimSpace(s.tmux("display-message", "-p", "#{pid}"))); perr == nil {
			_ = syscall.Kill(pid, syscall.SIGCHLD)
		}
		code, err = strconv.Atoi(strings.TrimSpace(s.tmux("display-message", "-p", "-t", "k", "#{pane_dead_status}")))
	}
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "stderr-"+strconv.Itoa(n)))
	return code, string(b)
}

// detached starts `kelpie up --detach` on cfg in a fresh directory and
// returns the directory and the socket; the kelpie is brought down with
// the test.
func detached(t *testing.T, cfg string) (dir, sock string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sock = filepath.Join(dir, "k.sock")
	out, errOut, code := runKelpie(t, dir, "up", "--detach", "--socket", sock)
	if code != 0 {
		t.Fatalf("up --detach: exit %d\n%s%s", code, out, errOut)
	}
	t.Cleanup(func() { runKelpie(t, dir, "down", "--socket", sock) })
	if !strings.Contains(out, "socket: "+sock) || !strings.Contains(out, "log:    "+filepath.Join(dir, "k.log")) {
		t.Fatalf("up --detach did not name the socket and the log:\n%s", out)
	}
	return dir, sock
}

// up --detach returns with kelpie running in the background; a second says
// it is already running; a config that cannot start shows its log's end.
func TestDetach(t *testing.T) {
	dir, sock := detached(t, "processes:\n  a:\n    run: \"echo detached-hello; exec sleep 424290\"\n")
	waitPids(t, "sleep 424290")
	_, errOut, code := runKelpie(t, dir, "up", "--detach", "--socket", sock)
	if code != 1 || !strings.Contains(errOut, "already running") {
		t.Fatalf("second up --detach: exit %d %q", code, errOut)
	}
	// The unit's output is kelpie logs' to serve, not the log file's: that
	// holds kelpie's own messages and cannot grow with the units' output.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, _ := runKelpie(t, dir, "logs", "--socket", sock)
		if strings.Contains(out, "detached-hello") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kelpie logs never had the unit's output:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "k.log")); strings.Contains(string(b), "detached-hello") || !strings.Contains(string(b), "kelpie: started") {
		t.Fatalf("the detached kelpie's log has a unit's output, or not kelpie's own:\n%s", b)
	}
	// A detached kelpie leads a session of its own: no terminal's hangup
	// reaches it.
	pid := detachedPid(t, dir, sock)
	if sid := sessionOf(t, pid); sid != pid {
		t.Fatalf("detached kelpie %d is in session %d, not its own", pid, sid)
	}

	// One that fails to start (its cluster's address is taken) says why.
	bad := t.TempDir()
	ln := listenTCP(t)
	cfg := "clusters:\n  web:\n    run: [\"sleep\", \"1\"]\n    listen: " + ln + "\n    instances: 1\n"
	if err := os.WriteFile(filepath.Join(bad, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runKelpie(t, bad, "up", "--detach", "--socket", filepath.Join(bad, "k.sock"))
	if code != 1 || !strings.Contains(errOut, "exited") || !strings.Contains(errOut, ln) {
		t.Fatalf("a kelpie that cannot start: exit %d %q", code, errOut)
	}
}

// Each detached run starts its log afresh, the previous run's kept as .1,
// so the file in the runtime directory cannot grow across runs; the log
// says when kelpie stopped.
func TestDetachLogIsPerRun(t *testing.T) {
	dir, sock := detached(t, "processes:\n  a:\n    run: [\"sleep\", \"424301\"]\n")
	log := filepath.Join(dir, "k.log")
	if _, errOut, code := runKelpie(t, dir, "down", "--socket", sock); code != 0 {
		t.Fatalf("down: exit %d %q", code, errOut)
	}
	waitFor(t, log, "every unit stopped")
	if out, errOut, code := runKelpie(t, dir, "up", "--detach", "--socket", sock); code != 0 {
		t.Fatalf("second up --detach: exit %d\n%s%s", code, out, errOut)
	}
	b, _ := os.ReadFile(log)
	if n := strings.Count(string(b), "kelpie: started"); n != 1 || strings.Contains(string(b), "every unit stopped") {
		t.Fatalf("the second run's log holds more than its own run (%d starts):\n%s", n, b)
	}
	b, _ = os.ReadFile(log + ".1")
	if n := strings.Count(string(b), "kelpie: started"); n != 1 || !strings.Contains(string(b), "every unit stopped") {
		t.Fatalf("the first run's log was not kept as .1:\n%s", b)
	}
}

// An up --detach whose kelpie does not answer in time leaves nothing
// running: the kelpie is stopped, its units with it, and the error says so.
func TestDetachTimeoutStopsTheKelpie(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte("processes:\n  a:\n    run: [\"sleep\", \"424302\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "k.sock")
	t.Cleanup(func() { runKelpie(t, dir, "down", "--socket", sock) })
	// No kelpie answers within a nanosecond of its start.
	_, errOut, code := runKelpie(t, dir, "up", "--detach", "--detach-wait", "1ns", "--socket", sock)
	m := regexp.MustCompile(`\(pid (\d+)\) did not answer.*stopped it`).FindStringSubmatch(errOut)
	if code != 1 || m == nil {
		t.Fatalf("up --detach that timed out: exit %d %q", code, errOut)
	}
	pid, _ := strconv.Atoi(m[1])
	if alive(pid) {
		t.Fatalf("the detached kelpie %d that timed out is still running", pid)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(pidsOf("sleep 424302")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the unit of the kelpie that timed out is still running: %v", pidsOf("sleep 424302"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor waits for the file at path to hold s.
func waitFor(t *testing.T, path, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never had %q:\n%s", path, s, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// detachedPid is the pid of the kelpie serving sock (the parent of its
// units' processes).
func detachedPid(t *testing.T, dir, sock string) int {
	t.Helper()
	out, errOut, code := runKelpie(t, dir, "ps", "--json", "--socket", sock)
	if code != 0 {
		t.Fatalf("ps: %d %s", code, errOut)
	}
	var units []struct{ PID int }
	if err := json.Unmarshal([]byte(out), &units); err != nil || len(units) == 0 || units[0].PID == 0 {
		t.Fatalf("ps --json: %v %q", err, out)
	}
	return statField(t, units[0].PID, 1) // ppid
}

// sessionOf is pid's session id.
func sessionOf(t *testing.T, pid int) int { return statField(t, pid, 3) }

// statField is the i-th field after the command in /proc/PID/stat (0: state).
func statField(t *testing.T, pid, i int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	n, err := strconv.Atoi(f[i])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Detach, attach, leave with q (everything keeps running), attach again,
// two screens at once seeing the same state, Q on one stops it all and the
// other says its kelpie has gone away.
func TestAttachLeaveReattachTwoScreens(t *testing.T) {
	dir, sock := detached(t, "processes:\n  web:\n    run: \"echo web-says-hi; exec sleep 424291\"\n  db:\n    run: [\"sleep\", \"424292\"]\n")
	pids := waitPids(t, "sleep 424291", "sleep 424292")

	s := attachScreen(t, 1, dir, kelpieBin, "attach", "--socket", sock)
	s.waitFor("web", "db", "web-says-hi", "q leave", "Q stop all")
	s.keys("q")
	if code, errOut := s.exited(dir, 1); code != 0 || errOut != "" {
		t.Fatalf("q: exit %d %q", code, errOut)
	}
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("pid %d ended when the screen left", p)
		}
	}

	// Reattach, and a second screen beside it.
	a := attachScreen(t, 2, dir, kelpieBin, "attach", "--socket", sock)
	b := attachScreen(t, 3, dir, kelpieBin, "attach", "--socket", sock)
	a.waitFor("web", "web-says-hi")
	b.waitFor("web", "web-says-hi")
	a.keys("x") // stop web, on one screen: the other sees it
	b.waitFor("■ stopped")
	if alive(pids[0]) && len(waitGone(pids[0])) != 0 {
		t.Fatal("web still running after x")
	}

	a.keys("Q")
	a.waitFor("stop every unit and the kelpie at " + sock)
	a.keys("y")
	if code, errOut := a.exited(dir, 2); code != 0 || errOut != "" {
		t.Fatalf("Q y: exit %d %q", code, errOut)
	}
	if code, errOut := b.exited(dir, 3); code != 1 || errOut != "kelpie: kelpie at "+sock+" has gone away\n" {
		t.Fatalf("the other screen: exit %d %q", code, errOut)
	}
	if alive(pids[1]) && len(waitGone(pids[1])) != 0 {
		t.Fatal("db still running after Q")
	}
	if _, errOut, code := runKelpie(t, dir, "ps", "--socket", sock); code != 1 || !strings.Contains(errOut, "no kelpie is running") {
		t.Fatalf("ps after Q: exit %d %q", code, errOut)
	}
}

// waitGone waits (bounded) for pid to end; it returns pid if it did not.
func waitGone(pid int) []int {
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			return []int{pid}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// listenTCP holds a port for the test and returns its address.
func listenTCP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// A kelpie killed outright (no shutdown, no last words) is gone too.
func TestAttachedScreenSaysKilledKelpieIsGone(t *testing.T) {
	dir, sock := detached(t, "processes:\n  a:\n    run: [\"sleep\", \"424297\"]\n")
	waitPids(t, "sleep 424297")
	s := attachScreen(t, 1, dir, kelpieBin, "attach", "--socket", sock)
	s.waitFor("sleep 424297")
	if err := syscall.Kill(detachedPid(t, dir, sock), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, errOut := s.exited(dir, 1); code != 1 || errOut != "kelpie: kelpie at "+sock+" has gone away\n" {
		t.Fatalf("exit %d %q", code, errOut)
	}
}
