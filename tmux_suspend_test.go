package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTmuxSuspendAndResume: ctrl+z gives the terminal back to the shell as
// it was (the main screen, echo, a cursor) with the units still running, and
// `fg` takes it again: the whole frame drawn anew and keys read one by one
// (raw mode) once more.
func TestTmuxSuspendAndResume(t *testing.T) {
	dir := t.TempDir()
	cfg := `processes:
  web:
    run: ["sleep", "424290"]
  worker:
    run: "echo worker says hi; sleep 424291"
`
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// A shell with job control runs kelpie, as a user's would.
	s := newScreen(t, dir, 100, 30, "env", "PS1=$ ", "bash", "--norc", "--noprofile", "-i")
	s.waitFor("$")
	s.keys(kelpieBin+" --socket "+filepath.Join(dir, "k.sock"), "Enter")
	s.waitFor("web", "worker", "running", "q quit")
	pids := waitPids(t, "sleep 424290")

	s.keys("C-z")
	scr := s.waitFor("Stopped")
	if strings.Contains(scr, "q quit") {
		t.Fatalf("the frame stayed after ctrl+z:\n%s", scr)
	}
	s.keys("echo still-here", "Enter") // the shell reads lines again (echo on)
	s.waitFor("echo still-here", "\nstill-here")
	if !alive(pids[0]) {
		t.Fatal("a unit stopped with the screen")
	}

	s.keys("fg", "Enter")
	scr = s.waitFor("web", "worker", "running", "q quit")
	s.fits(scr)
	if strings.Contains(scr, "still-here") {
		t.Fatalf("the resumed frame is not drawn whole:\n%s", scr)
	}
	s.keys("j") // one key, no Enter: raw mode is back
	s.waitFor("worker says hi")
	s.keys("q")
	s.waitFor("$")
}
