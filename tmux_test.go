package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// screen drives the real kelpie TUI in a private tmux server, as a user would.
type screen struct {
	t      *testing.T
	socket string // tmux -L name
	w, h   int
}

// newScreen runs argv (kelpie itself by default) in a w x h tmux pane in dir.
func newScreen(t *testing.T, dir string, w, h int, argv ...string) *screen {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not found on PATH (./test.sh installs it)")
	}
	// A tmux server of its own per test: names must not collide between tests.
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	s := &screen{t: t, socket: "kelpie-" + strconv.Itoa(os.Getpid()) + "-" + name, w: w, h: h}
	cmd := append([]string{"new-session", "-d", "-s", "k", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "-c", dir,
		"env", "TERM=xterm-256color"}, argv...)
	s.tmux(cmd...)
	s.tmux("set-option", "-w", "-t", "k", "remain-on-exit", "on")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *screen) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *screen) capture() string { return s.tmux("capture-pane", "-p", "-t", "k") }

func (s *screen) keys(keys ...string) { s.tmux(append([]string{"send-keys", "-t", "k"}, keys...)...) }

// waitFor polls the pane until it shows every string (a terminal offers no
// event for "the screen changed"; the poll is bounded, not a timing assertion).
func (s *screen) waitFor(want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := s.capture()
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q:\n%s", missing, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDead waits until the program in the pane has exited.
func (s *screen) waitDead() {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.TrimSpace(s.tmux("display-message", "-p", "-t", "k", "#{pane_dead}")) != "1" {
		if time.Now().After(deadline) {
			s.t.Fatalf("the program never exited; screen:\n%s", s.capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fits checks the screen is exactly the terminal's size.
func (s *screen) fits(scr string) {
	s.t.Helper()
	lines := strings.Split(strings.TrimSuffix(scr, "\n"), "\n")
	if len(lines) != s.h {
		s.t.Errorf("%d lines on a %d-line terminal", len(lines), s.h)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > s.w {
			s.t.Errorf("line %d is %d wide on a %d-column terminal: %q", i+1, n, s.w, l)
		}
	}
}

func TestScreenAt80x24(t *testing.T) {
	dir := t.TempDir()
	cfg := `processes:
  web:
    run: ["sleep", "424280"]
  worker:
    run: "echo worker says hi; sleep 424281"
  once:
    run: "echo done; exit 0"
    restart: never
`
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newScreen(t, dir, 80, 24, kelpieBin, "--socket", filepath.Join(dir, "k.sock"))
	scr := s.waitFor("web", "worker", "once", "running", "exited 0", "q quit")
	s.fits(scr)
	t.Logf("80x24:\n%s", scr)

	s.keys("j") // select worker: its output shows
	s.waitFor("worker says hi")
	s.keys("x") // stop it
	// The table's state, not the "▸ stopped" line: the pane follows the
	// log on a cursor of its own, which may be a moment ahead of the table.
	scr = s.waitFor("■ stopped")
	if !strings.Contains(scr, "s start") {
		t.Errorf("footer should offer start for a stopped unit:\n%s", scr)
	}
	s.keys("?")
	s.waitFor("page down", "restart", "close help")
	s.keys("?")
	s.tmux("resize-window", "-t", "k", "-x", "120", "-y", "40")
	s.w, s.h = 120, 40
	s.fits(s.waitFor("web", "once"))

	pids := waitPids(t, "sleep 424280")
	s.keys("q")
	s.waitDead()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pids[0]) {
		if time.Now().After(deadline) {
			t.Fatal("web still running after q")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDownClosesTheScreen(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte("processes:\n  a:\n    run: [\"sleep\", \"424282\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "k.sock")
	s := newScreen(t, dir, 80, 24, kelpieBin, "--socket", sock)
	s.waitFor("running")
	// `down` returns once kelpie has stopped everything and exited.
	if out, errOut, code := runKelpie(t, dir, "down", "--socket", sock); code != 0 {
		t.Fatalf("down: exit %d %s %s", code, out, errOut)
	}
	s.waitDead()
	if p := pidsOf("sleep 424282"); len(p) != 0 {
		t.Fatalf("still running: %v", p)
	}
}
