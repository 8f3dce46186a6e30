package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// seedProgram is the Node cluster program, as it is.
const seedProgram = `const cluster = require("cluster");
const http = require("http");
const numCPUs = require("os").cpus().length;
if (cluster.isMaster) {
  for (let i = 0; i < numCPUs; i++) cluster.fork();
  cluster.on("exit", (worker) => console.log(` + "`Worker ${worker.process.pid} died`" + `));
} else {
  http.createServer((req, res) => { res.writeHead(200); res.end("Hello from Node.js!"); }).listen(8000);
  console.log(` + "`Worker ${process.pid} started`" + `);
}
`

// nodeCluster runs prog under kelpie in node mode with the policy, n
// workers, on listen.
func nodeCluster(t *testing.T, s *Supervisor, prog, policy, listen string, n int) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	script := filepath.Join(t.TempDir(), "app.js")
	if err := os.WriteFile(script, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Cluster{Spec: Spec{Name: "node", Argv: []string{node, script}, Restart: RestartAlways}, Listen: listen,
		Mode: ModeNode, Policy: policy, Instances: n}
	ln, err := ListenCluster(&c)
	if err != nil && strings.Contains(err.Error(), "address already in use") {
		t.Skipf("the program's port is taken: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String()
}

// TestClusterNodeSeedProgram: the program, unmodified, in node
// mode under both of Node's policies, on its port 8000 (kelpie serves a
// worker's server on its own port only): its worker branch runs in every
// member (never its fork branch), and every member serves.
func TestClusterNodeSeedProgram(t *testing.T) {
	for _, policy := range []string{"rr", "none"} {
		t.Run(policy, func(t *testing.T) {
			s := newTestSupervisor(t, Options{})
			addr := nodeCluster(t, s, seedProgram, policy, "127.0.0.1:8000", 3)
			members := allReady(t, s, "node", 3)
			for _, m := range members {
				waitFor(t, m.Name+" started", func() bool {
					return hasLine(s, m.Name, Stdout, "Worker "+strconv.Itoa(m.PID)+" started")
				})
			}
			for range 30 {
				body, err := get(addr)
				if err != nil || body != "Hello from Node.js!" {
					t.Fatalf("GET: %q %v", body, err)
				}
			}
			if policy == "rr" {
				// kelpie hands out every connection: each member took some.
				for _, in := range s.List() {
					if in.Group == "node" && in.Served == 0 {
						t.Fatalf("%s served nothing: %+v", in.Name, in)
					}
				}
			}
			for _, m := range members {
				if lines, _ := s.Tail(m.Name, 100); strings.Contains(linesText(lines), "died") {
					t.Fatalf("%s ran the primary's branch: %v", m.Name, lines)
				}
			}
		})
	}
}

// TestClusterNodeEveryWorkerServes counts distinct worker pids in the
// responses of a Node program that says its pid, under both policies.
func TestClusterNodeEveryWorkerServes(t *testing.T) {
	// listen(0): any port, which kelpie answers with its own.
	prog := strings.Replace(seedProgram, `res.end("Hello from Node.js!"); }).listen(8000)`, `res.end(process.pid + " node"); }).listen(0)`, 1)
	for _, policy := range []string{"rr", "none"} {
		t.Run(policy, func(t *testing.T) {
			s := newTestSupervisor(t, Options{})
			addr := nodeCluster(t, s, prog, policy, "127.0.0.1:0", 2)
			members := allReady(t, s, "node", 2)
			seen := servedBy(t, addr, 2)
			for _, m := range members {
				if seen[strconv.Itoa(m.PID)] == 0 {
					t.Fatalf("%s (pid %d) never served: %v", m.Name, m.PID, seen)
				}
			}
		})
	}
}

func linesText(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestClusterNodeReloadNoFailures: a rolling reload of Node workers (each
// old one gets Node's disconnect, and exits by itself once idle) under load
// fails no request; every worker is new afterwards.
func TestClusterNodeReloadNoFailures(t *testing.T) {
	prog := strings.Replace(seedProgram, `res.end("Hello from Node.js!"); }).listen(8000)`, `res.end(process.pid + " node"); }).listen(0)`, 1)
	for _, policy := range []string{"rr", "none"} {
		t.Run(policy, func(t *testing.T) { nodeReload(t, prog, policy) })
	}
}

func nodeReload(t *testing.T, prog, policy string) {
	s := newTestSupervisor(t, Options{})
	addr := nodeCluster(t, s, prog, policy, "127.0.0.1:0", 2)
	old := allReady(t, s, "node", 2)
	ok, failed, firstErr := underLoad(addr, func() error { return s.Reload("node") }, t)
	if failed > 0 || ok == 0 {
		t.Fatalf("%d requests failed (first: %v), %d succeeded", failed, firstErr, ok)
	}
	for _, n := range allReady(t, s, "node", 2) {
		for _, o := range old {
			if n.PID == o.PID {
				t.Fatalf("%s still runs old pid %d", n.Name, o.PID)
			}
		}
	}
	t.Logf("%d requests during the reload, none failed", ok)
}

// TestClusterNodeVersionRefused: a Node major whose internal protocol was
// not checked is refused at AddCluster, naming the version; nothing is added.
func TestClusterNodeVersionRefused(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "node")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho v18.19.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newTestSupervisor(t, Options{})
	c := Cluster{Spec: Spec{Name: "old", Argv: []string{fake, "app.js"}}, Listen: "127.0.0.1:0", Mode: ModeNode}
	ln, err := ListenCluster(&c)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = s.AddCluster(c, ln)
	if err == nil || !strings.Contains(err.Error(), "18") {
		t.Fatalf("AddCluster with Node 18: %v", err)
	}
	if len(s.List()) != 0 {
		t.Fatalf("units added: %+v", s.List())
	}
	t.Log(err)
}
