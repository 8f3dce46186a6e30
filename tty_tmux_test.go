package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// paneSize reads the size kelpie gave a tty unit's terminal from its pane's
// title ("· 118×20 ──").
var paneSize = regexp.MustCompile(`(\d+)×(\d+) ─`)

// TestTTYProgramsThroughTheScreen drives a shell, htop and vim running as
// tty units through kelpie's screen in tmux, as a user would: each opens in
// its pane, takes typed keys (typing mode: i, ctrl+a to leave), follows a
// resize of the real terminal, and quits; nothing of theirs is left after.
func TestTTYProgramsThroughTheScreen(t *testing.T) {
	for _, p := range []string{"htop", "vim", "bash"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not found (./test.sh installs it)", p)
		}
	}
	dir := t.TempDir()
	cfg := `processes:
  sh:
    run: ["bash", "--norc", "--noprofile", "-i"]
    env: { PS1: "sh$ " }
    tty: true
  top:
    run: ["htop", "-d", "10"]
    tty: true
    restart: never
  edit:
    run: ["vim", "-u", "NONE", "-i", "NONE", "-N", "note.txt"]
    tty: true
    restart: never
`
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newScreen(t, dir, 120, 40, kelpieBin, "--socket", filepath.Join(dir, "k.sock"))

	// The shell: its prompt in the pane; typed commands run; stty sees the
	// pane's size, before and after the terminal shrinks.
	scr := s.waitFor("sh$", "i type")
	cols, rows := sizeOf(t, scr)
	s.keys("i")
	s.waitFor("typing into sh")
	s.tmux("send-keys", "-t", "k", "-l", "echo hi-$((6*7)); stty size")
	s.keys("Enter")
	s.waitFor("hi-42", rows+" "+cols)
	s.tmux("resize-window", "-t", "k", "-x", "100", "-y", "34")
	s.w, s.h = 100, 34
	scr = s.waitFor("typing into sh")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, r := sizeOf(t, scr); c != cols || r != rows {
			cols, rows = c, r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pane kept its size after the resize:\n%s", scr)
		}
		time.Sleep(20 * time.Millisecond)
		scr = s.capture()
	}
	s.tmux("send-keys", "-t", "k", "-l", "clear; stty size")
	s.keys("Enter")
	s.fits(s.waitFor(rows + " " + cols))
	s.keys("C-a")
	s.waitFor("i type")

	// htop: full screen in the pane, redrawn at the new size; q quits it.
	s.keys("j")
	s.waitFor("Load average", "top")
	s.tmux("resize-window", "-t", "k", "-x", "120", "-y", "40")
	s.w, s.h = 120, 40
	s.fits(s.waitFor("Load average", "Tasks"))
	s.keys("i")
	s.waitFor("typing into top")
	s.keys("q")
	s.waitFor("typing mode ended: top is exited")

	// vim: insert text, write, quit; the file holds what was typed.
	s.keys("j")
	s.waitFor("note.txt")
	s.keys("i") // typing mode
	s.waitFor("typing into edit")
	s.keys("i") // vim's insert mode
	s.tmux("send-keys", "-t", "k", "-l", "typed through kelpie")
	s.keys("Escape")
	s.tmux("send-keys", "-t", "k", "-l", ":wq")
	s.keys("Enter")
	s.waitFor("typing mode ended: edit is exited")
	deadline = time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "note.txt"))
		if strings.TrimSpace(string(b)) == "typed through kelpie" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("note.txt holds %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Quit kelpie: the shell (a session leader on its own terminal) goes too.
	shells := waitPids(t, "bash --norc --noprofile -i")
	s.keys("q")
	s.waitDead()
	deadline = time.Now().Add(5 * time.Second)
	for alive(shells[0]) {
		if time.Now().After(deadline) {
			t.Fatal("the tty shell outlived kelpie's q")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sizeOf finds the tty pane's size in its title, as stty prints it.
func sizeOf(t *testing.T, scr string) (cols, rows string) {
	t.Helper()
	m := paneSize.FindStringSubmatch(scr)
	if m == nil {
		t.Fatalf("no terminal size in the pane's title:\n%s", scr)
	}
	return m[1], m[2]
}
