package control

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// TestPSThreadsNodeWorkerThreads runs a Node program whose worker_threads
// worker spins while it answers pings, and asks ps for threads: the busy
// thread is the worker's, not the main thread, and it shows high CPU. A
// worker goroutine's one thread is listed too.
func TestPSThreadsNodeWorkerThreads(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found")
	}
	script, _ := filepath.Abs("testdata/worker_spin.js")
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sup.Shutdown(ctx)
	})
	sleep, _ := procs.BuiltinTask("sleep", nil)
	if err := sup.Add(procs.Spec{Name: "node", Argv: []string{node, script}}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add(procs.Spec{Name: "idle", Task: sleep}); err != nil {
		t.Fatal(err)
	}
	if err := sup.StartAll(); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	waitFor(t, "the worker's first pong", func() bool {
		lines, _ := sup.Tail("node", 10)
		for _, l := range lines {
			if l.Text == "pong" {
				return true
			}
		}
		return false
	})
	// The machine is shared: retry until a measurement shows the spinning
	// thread clearly busy (a hang is the failure, not one slow sample).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var units []procs.Info
		if err := Do(srv.Path(), Request{Cmd: "ps", Threads: true}, func(r Response) error {
			units = r.Units
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var nodeIn, idleIn procs.Info
		for _, in := range units {
			switch in.Name {
			case "node":
				nodeIn = in
			case "idle":
				idleIn = in
			}
		}
		var busy procs.ThreadInfo
		for _, th := range nodeIn.Threads {
			if th.CPU > busy.CPU {
				busy = th
			}
			if th.Name == "" || th.State == "" || th.TID == 0 {
				t.Fatalf("thread without tid, name or state: %+v", th)
			}
		}
		ok := len(nodeIn.Threads) > 2 && busy.TID != nodeIn.PID && busy.CPU > 60 &&
			len(idleIn.Threads) == 1 && idleIn.Threads[0].TID == idleIn.TID && idleIn.Threads[0].CPU < 5
		if ok {
			t.Logf("busiest node thread: %+v of %d; idle worker: %+v", busy, len(nodeIn.Threads), idleIn.Threads[0])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no measurement showed the spinning worker thread: node %+v, idle %+v", nodeIn.Threads, idleIn.Threads)
		}
	}
}
