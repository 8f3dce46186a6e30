package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// nodePath skips the test when node is not installed and fails it on a
// Node major NodePrimary was not verified with.
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH")
	}
	if v, err := CheckNodeVersion(context.Background(), p); err != nil {
		t.Fatalf("%s: %v", v, err)
	}
	return p
}

// startNodeWorkers starts n workers of script under np, each attached.
func startNodeWorkers(t *testing.T, np *NodePrimary, n int, script string, env ...string) ([]*Worker, []*proc) {
	t.Helper()
	node := nodePath(t)
	var ws []*Worker
	var ps []*proc
	for id := 0; id < n; id++ {
		cmd := exec.Command(node, script)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout = &bytes.Buffer{}
		w, p := attachWorker(t, np, id+1, cmd, nil)
		ws, ps = append(ws, w), append(ps, p)
	}
	waitReady(t, ws, ps)
	return ws, ps
}

// disconnectAll sends Node's graceful disconnect to every worker and
// checks each exits 0 by itself, as under Node's own primary.
func disconnectAll(t *testing.T, ws []*Worker, ps []*proc) {
	t.Helper()
	for _, w := range ws {
		w.Disconnect()
	}
	for i, p := range ps {
		if err := p.wait(t); err != nil {
			t.Fatalf("worker %d after disconnect: %v; stderr: %s", i, err, p.stderr)
		}
	}
}

// TestNodePrimary: an unmodified Node cluster program with kelpie as the
// primary, under both of Node's policies: every worker serves (distinct
// pids), rr splits 400 connections within 35 % per worker, and Node's
// graceful disconnect makes each worker exit 0.
func TestNodePrimary(t *testing.T) {
	for _, policy := range []string{PolicyRR, PolicyNone} {
		t.Run(policy, func(t *testing.T) {
			ln := loopback(t)
			np, err := NewNodePrimary(ln, policy)
			if err != nil {
				t.Fatal(err)
			}
			defer np.Close()
			const workers, n = 4, 400
			port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			ws, ps := startNodeWorkers(t, np, workers, "testdata/app.js", "PORT="+port)
			var pids []int
			for _, p := range ps {
				pids = append(pids, p.cmd.Process.Pid)
			}
			counts := hits(t, ln.Addr().String(), n)
			if policy == PolicyRR {
				checkSpread(t, counts, pids, n, 0.35)
				eventually(t, func() bool { return sum(np.Counts()) == n }, "counts add up to %d: %v", n, np.Counts)
			} else {
				// The kernel balances: only ask that every worker served.
				checkSpread(t, counts, pids, n, 1)
				if len(np.Counts()) != 0 {
					t.Fatalf("none policy counted %v", np.Counts())
				}
			}
			disconnectAll(t, ws, ps)
		})
	}
}

// TestNodePrimaryOtherPort: a server on a port kelpie does not serve gets
// EADDRNOTAVAIL at once instead of hanging.
func TestNodePrimaryOtherPort(t *testing.T) {
	ln := loopback(t)
	np, err := NewNodePrimary(ln, PolicyRR)
	if err != nil {
		t.Fatal(err)
	}
	defer np.Close()
	node := nodePath(t)
	other := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port + 1)
	cmd := exec.Command(node, "testdata/app.js")
	cmd.Env = append(os.Environ(), "PORT="+other)
	w, p := attachWorker(t, np, 1, cmd, nil)
	err = p.wait(t)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(p.stderr.String(), "EADDRNOTAVAIL") {
		t.Fatalf("worker exit %v, stderr: %s", err, p.stderr)
	}
	select {
	case <-w.Ready():
		t.Fatal("a worker without kelpie's server is ready")
	default:
	}
}

// TestNodeSeedProgram runs the program exactly as written (it
// listens on port 8000) under both policies: its worker branch runs, its
// fork branch never does, and every worker serves.
func TestNodeSeedProgram(t *testing.T) {
	for _, policy := range []string{PolicyRR, PolicyNone} {
		t.Run(policy, func(t *testing.T) {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000})
			if err != nil {
				t.Skipf("port 8000 is busy: %v", err)
			}
			defer ln.Close()
			np, err := NewNodePrimary(ln, policy)
			if err != nil {
				t.Fatal(err)
			}
			defer np.Close()
			const workers, n = 2, 100
			ws, ps := startNodeWorkers(t, np, workers, "testdata/seed.js")
			client := hits(t, ln.Addr().String(), n)
			if client["Hello from Node.js!"] != n {
				t.Fatalf("answers %v", client)
			}
			if policy == PolicyRR {
				eventually(t, func() bool { return sum(np.Counts()) == n }, "counts add up to %d: %v", n, np.Counts)
				for _, w := range ws {
					if w.Served() == 0 {
						t.Fatalf("worker %d served nothing: %v", w.ID(), np.Counts())
					}
				}
			}
			disconnectAll(t, ws, ps)
			for i, p := range ps {
				out := p.cmd.Stdout.(*bytes.Buffer).String()
				if want := fmt.Sprintf("Worker %d started\n", p.cmd.Process.Pid); out != want {
					t.Fatalf("worker %d printed %q, want %q", i, out, want)
				}
			}
		})
	}
}

// TestNodeVersionVerified: only the verified major passes; another fails
// with a message naming the version and the way out.
func TestNodeVersionVerified(t *testing.T) {
	if err := NodeVersionVerified("v20.20.2"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v22.12.0", "v18.19.0", "20", "garbage"} {
		err := NodeVersionVerified(v)
		if v == "20" {
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Fatalf("%s: %v", v, err)
		}
	}
	if err := NodeVersionVerified("v22.12.0"); !strings.Contains(err.Error(), "round-robin") {
		t.Fatalf("no way out in %v", err)
	}
}

// TestNodePrimaryRefusedAndSelfDisconnect: a worker at its
// maxConnections (1, held by an idle connection) answers accepted:false and
// every further connection goes to the other worker; a worker that
// disconnects by itself (exitedAfterDisconnect, which kelpie answers)
// exits 0.
func TestNodePrimaryRefusedAndSelfDisconnect(t *testing.T) {
	ln := loopback(t)
	np, err := NewNodePrimary(ln, PolicyRR)
	if err != nil {
		t.Fatal(err)
	}
	defer np.Close()
	port := "PORT=" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	full, _ := startNodeWorkers(t, np, 1, "testdata/app.js", port, "MAXCONN=1")
	// The first connection goes to the first free worker and stays open.
	hold, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	eventually(t, func() bool { return full[0].Served() == 1 }, "the idle connection was not taken")
	ws, ps := startNodeWorkers(t, np, 1, "testdata/app.js", port)
	const n = 20
	if c := hits(t, ln.Addr().String(), n); c[strconv.Itoa(ps[0].cmd.Process.Pid)] != n {
		t.Fatalf("answers %v", c)
	}
	eventually(t, func() bool { return ws[0].Served() == n }, "the free worker did not count them all")
	if full[0].Served() != 1 {
		t.Fatalf("the full worker took %d", full[0].Served())
	}

	cmd := exec.Command(nodePath(t), "testdata/app.js")
	cmd.Env = append(os.Environ(), port, "SELF_DISCONNECT=1")
	leaver, lp := attachWorker(t, np, 9, cmd, nil)
	if err := lp.wait(t); err != nil {
		t.Fatalf("self-disconnecting worker: %v; stderr: %s", err, lp.stderr)
	}
	np.b.mu.Lock()
	gone := leaver.disconnected && !leaver.routable
	np.b.mu.Unlock()
	if !gone {
		t.Fatal("a worker that disconnected itself is still routable")
	}
}
