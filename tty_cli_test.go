package main

import (
	"syscall"
	"testing"
	"time"
)

// A tty unit's shell with a job in another process group that ignores
// SIGHUP and SIGTERM and carries no tag: kill -9 of kelpie leaves nothing
// (Pdeathsig ends the shell; the guard the rest of its session, through
// the run's cgroup where the tree is writable, else the session its feed
// names: procs' TestGuardKillsTheTTYSession covers that path alone).
func TestNoTTYOrphansAfterKill9(t *testing.T) {
	in := startKelpie(t, `processes:
  term:
    run: "set -m; (trap '' HUP TERM; exec env -i sleep 424290) & sleep 424291 & wait"
    tty: true
`)
	pids := waitPids(t, "sleep 424290", "sleep 424291")
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-in.exited
	// The guard acts at once; the bound only keeps a broken guard from
	// hanging the test.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range left {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			t.Fatalf("left behind after kill -9 of kelpie: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
