package cluster

import (
	"os"
	"os/exec"
	"testing"
)

// TestRoundRobinGoWorkers: 4 Go worker processes on WorkerListener, 400
// short connections: every worker serves and none more than 35 %, and
// Counts agrees with the answers.
func TestRoundRobinGoWorkers(t *testing.T) {
	ln := loopback(t)
	rr, err := NewRoundRobin(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const workers, n = 4, 400
	var ws []*Worker
	var ps []*proc
	var pids []int
	for id := 0; id < workers; id++ {
		cmd := exec.Command(self, "-test.run=^$")
		cmd.Env = childEnv("http")
		w, p := attachWorker(t, rr, id, cmd, nil)
		ws, ps, pids = append(ws, w), append(ps, p), append(pids, p.cmd.Process.Pid)
	}
	waitReady(t, ws, ps)
	counts := hits(t, ln.Addr().String(), n)
	checkSpread(t, counts, pids, n, 0.35)
	// The last ACKs may reach kelpie after their responses reached us.
	eventually(t, func() bool { return sum(rr.Counts()) == n }, "counts add up to %d: %v", n, rr.Counts)
	for id, c := range rr.Counts() {
		if c == 0 || id < 0 || id >= workers {
			t.Fatalf("counts %v", rr.Counts())
		}
	}
}
