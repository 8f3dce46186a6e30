package cluster

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestWorkerListenerFDs: Go workers on an inherited socket (fd 3,
// LISTEN_FDS=1) serve; the kernel balances, so only the split is reported.
func TestWorkerListenerFDs(t *testing.T) {
	ln := loopback(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for i := 0; i < 2; i++ {
		f, err := ln.File()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(self, "-test.run=^$")
		cmd.Env = append(childEnv("http"), EnvListenFDs+"=1", EnvListenFDNames+"=web")
		p := startProc(t, cmd, f)
		pids = append(pids, p.cmd.Process.Pid)
	}
	const n = 100
	counts := hits(t, ln.Addr().String(), n)
	checkSpread(t, counts, pids[:0], n, 1)
	for a := range counts {
		if a != itoa(pids[0]) && a != itoa(pids[1]) {
			t.Fatalf("answers %v from pids %v", counts, pids)
		}
	}
}

// TestWorkerListenerEnv: a socket meant for another pid is refused, and a
// process started in no cluster mode is told so.
func TestWorkerListenerEnv(t *testing.T) {
	t.Setenv(EnvListenFDs, "1")
	t.Setenv(EnvListenPID, "1")
	if _, err := WorkerListener(); err == nil || !strings.Contains(err.Error(), EnvListenPID) {
		t.Fatalf("got %v", err)
	}
	if _, ok := os.LookupEnv(EnvListenFDs); ok {
		t.Fatal("LISTEN_FDS left in the environment")
	}
	t.Setenv(EnvMode, "")
	if _, err := WorkerListener(); !errors.Is(err, ErrNotWorker) {
		t.Fatalf("got %v", err)
	}
}
