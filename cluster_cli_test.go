package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterUnit is what the cluster tests read of ps --json.
type clusterUnit struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Group  string `json:"group"`
	State  string `json:"state"`
	PID    int    `json:"pid"`
	Ready  bool   `json:"ready"`
	Listen string `json:"listen"`
}

// clusterPS waits until the cluster has exactly n members, all running and
// ready, and returns them.
func clusterPS(t *testing.T, in *instance, group string, n int) []clusterUnit {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, errOut, code := in.kelpie("ps", "--json")
		if code != 0 {
			t.Fatalf("ps: exit %d: %s", code, errOut)
		}
		var all, got []clusterUnit
		if err := json.Unmarshal([]byte(out), &all); err != nil {
			t.Fatalf("ps --json: %v\n%s", err, out)
		}
		ok := true
		for _, u := range all {
			if u.Group == group {
				got = append(got, u)
				ok = ok && u.State == "running" && u.Ready && u.Listen != ""
			}
		}
		if ok && len(got) == n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s never had %d ready members: %+v\n%s", group, n, got, in.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpGet(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestClusterCLI runs a cluster of kelpie's own demo web workers and drives
// it with ps, scale and reload, then kills kelpie with SIGKILL: no worker
// may be left.
func TestClusterCLI(t *testing.T) {
	in := startKelpie(t, fmt.Sprintf(`clusters:
  web:
    run: [%q, "__demo", "web"]
    instances: 2
    listen: "127.0.0.1:0"
    restart: always
`, kelpieBin))
	ms := clusterPS(t, in, "web", 2)
	if ms[0].Name != "web/0" || ms[1].Name != "web/1" || ms[0].Kind != "process" || ms[0].Listen != ms[1].Listen {
		t.Fatalf("members: %+v", ms)
	}
	addr := ms[0].Listen
	if out, _, _ := in.kelpie("ps"); !strings.Contains(out, addr+" ready") {
		t.Fatalf("ps does not show the members' address and readiness:\n%s", out)
	}
	if body := httpGet(t, addr); !strings.Contains(body, "hello from web worker") {
		t.Fatalf("GET: %q", body)
	}
	if out, errOut, code := in.kelpie("scale", "web", "3"); code != 0 || !strings.Contains(out, "web/2") {
		t.Fatalf("scale up: exit %d %s%s", code, out, errOut)
	}
	clusterPS(t, in, "web", 3)
	if _, errOut, code := in.kelpie("scale", "web", "1"); code != 0 {
		t.Fatalf("scale down: exit %d %s", code, errOut)
	}
	one := clusterPS(t, in, "web", 1)
	if _, errOut, code := in.kelpie("scale", "web", "zero"); code != 2 || !strings.Contains(errOut, "N must be a whole number") {
		t.Fatalf("scale web zero: exit %d %s", code, errOut)
	}
	if out, errOut, code := in.kelpie("reload", "web"); code != 0 {
		t.Fatalf("reload: exit %d %s%s", code, out, errOut)
	}
	after := clusterPS(t, in, "web", 1)
	if after[0].PID == one[0].PID {
		t.Fatalf("reload kept pid %d", one[0].PID)
	}
	// Group addressing: the cluster's name stands for its members.
	if out, errOut, code := in.kelpie("restart", "web"); code != 0 || !strings.Contains(out, after[0].Name) {
		t.Fatalf("restart web: exit %d %s%s", code, out, errOut)
	}
	ms = clusterPS(t, in, "web", 1)
	if _, errOut, code := in.kelpie("scale", "web", "2"); code != 0 {
		t.Fatalf("scale: %s", errOut)
	}
	ms = clusterPS(t, in, "web", 2)
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-in.exited
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range ms {
		for alive(m.PID) {
			if time.Now().After(deadline) {
				t.Fatalf("30 s after kill -9 of kelpie, worker %s (pid %d) is alive", m.Name, m.PID)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestClusterBindError: an address in use is one error naming it, and
// nothing starts.
func TestClusterBindError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("processes:\n  a: {run: [\"sleep\", \"424280\"]}\nclusters:\n  web: {run: [\"sleep\", \"424281\"], listen: %q}\n", busy.Addr().String())
	if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kelpieBin, "up", "--headless", "--socket", dir+"/k.sock")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), busy.Addr().String()) ||
		!strings.Contains(string(out), "address already in use") || strings.Contains(string(out), "started") {
		t.Fatalf("exit %d: %s", cmd.ProcessState.ExitCode(), out)
	}
}

// TestClusterNodeCLI: a node-mode cluster from a kelpie.yaml, policy none,
// serves from every worker.
func TestClusterNodeCLI(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	dir := t.TempDir()
	app := filepath.Join(dir, "app.js")
	prog := `const cluster = require("cluster");
if (cluster.isPrimary) { throw new Error("the primary branch ran"); }
require("http").createServer((q, s) => s.end(String(process.pid))).listen(0);
`
	if err := os.WriteFile(app, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	in := startKelpie(t, fmt.Sprintf(`clusters:
  api:
    run: [%q, %q]
    instances: 2
    listen: "127.0.0.1:0"
    mode: node
    policy: none
`, node, app))
	ms := clusterPS(t, in, "api", 2)
	seen := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("not every worker served: %v (members %+v)", seen, ms)
		}
		seen[httpGet(t, ms[0].Listen)] = true
	}
	for _, m := range ms {
		if !seen[fmt.Sprint(m.PID)] {
			t.Fatalf("%s (pid %d) never served: %v", m.Name, m.PID, seen)
		}
	}
}
