package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestWorkerGroupsInEveryCommand runs a kelpie.yaml with worker groups and
// drives them by group name and by member name with every CLI command.
func TestWorkerGroupsInEveryCommand(t *testing.T) {
	in := startKelpie(t, `processes:
  web:
    run: ["sleep", "424261"]
workers:
  echoes:
    task: echo
    count: 2
    shared: [seen]
  idle:
    task: sleep
`)
	type unit struct {
		Name     string           `json:"name"`
		Kind     string           `json:"kind"`
		Group    string           `json:"group"`
		State    string           `json:"state"`
		TID      int              `json:"tid"`
		Counters map[string]int64 `json:"counters"`
		Threads  []struct {
			TID   int     `json:"tid"`
			Name  string  `json:"name"`
			State string  `json:"state"`
			CPU   float64 `json:"cpu"`
		} `json:"threads"`
	}
	ps := func(args ...string) map[string]unit {
		t.Helper()
		out, errOut, code := in.kelpie(append([]string{"ps", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("ps: exit %d: %s", code, errOut)
		}
		var us []unit
		if err := json.Unmarshal([]byte(out), &us); err != nil {
			t.Fatalf("ps --json: %v\n%s", err, out)
		}
		m := map[string]unit{}
		for _, u := range us {
			m[u.Name] = u
		}
		return m
	}
	run := func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := in.kelpie(args...)
		if code != want {
			t.Fatalf("kelpie %s: exit %d (want %d): %s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		u := ps()
		if u["echoes/0"].State == "running" && u["echoes/1"].State == "running" && u["idle/0"].State == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers never ran: %+v", u)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A worker's memory is kelpie's, shared: the table says so, no "0B".
	for _, line := range strings.Split(run(0, "ps"), "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[1] == "worker" && f[6] != "shared" { // NAME KIND STATE READY PID CPU MEM
			t.Errorf("ps shows a worker's memory as %q: %q", f[6], line)
		}
	}
	u := ps("--threads")
	e1 := u["echoes/1"]
	if e1.Kind != "worker" || e1.Group != "echoes" || e1.TID == 0 || len(e1.Threads) != 1 || e1.Threads[0].TID != e1.TID {
		t.Fatalf("echoes/1 in ps --threads --json: %+v", e1)
	}
	if v, ok := e1.Counters["seen"]; !ok || v != 0 {
		t.Fatalf("shared counter: %+v", e1.Counters)
	}
	if len(u["web"].Threads) == 0 {
		t.Fatalf("web has no threads: %+v", u["web"])
	}

	run(0, "send", "echoes", `{"n":7}`)
	var msgs []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out := run(0, "messages", "echoes", "--json")
		msgs = strings.Split(strings.TrimSpace(out), "\n")
		if len(msgs) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages echoes: %q", msgs)
		}
	}
	if !strings.Contains(msgs[0], `"unit":"echoes/0"`) || !strings.Contains(msgs[3], `"unit":"echoes/1"`) || !strings.Contains(msgs[3], `{"echo":{"n":7}}`) {
		t.Fatalf("messages echoes --json: %q", msgs)
	}
	logs := run(0, "logs", "echoes", "-n", "20", "--json")
	if !strings.Contains(logs, `"unit":"echoes/0"`) || !strings.Contains(logs, `"unit":"echoes/1"`) || !strings.Contains(logs, `"stream":"ipc-in"`) {
		t.Fatalf("logs echoes --json:\n%s", logs)
	}
	if out := run(1, "signal", "echoes", "TERM"); !strings.Contains(out, "takes no signals") {
		t.Fatalf("signal echoes: %s", out)
	}
	if out := run(1, "signal", "idle/0", "KILL"); !strings.Contains(out, "cannot be killed") {
		t.Fatalf("kill a worker: %s", out)
	}
	if out := run(0, "stop", "echoes"); strings.Count(out, "stopped") != 2 {
		t.Fatalf("stop echoes: %s", out)
	}
	if u := ps(); u["web"].State != "running" || u["idle/0"].State != "running" {
		t.Fatalf("stop echoes stopped others: %+v", u)
	}
	if out := run(0, "start", "echoes/1"); !strings.Contains(out, "echoes/1: running") {
		t.Fatalf("start echoes/1: %s", out)
	}
	if out := run(0, "restart", "echoes"); strings.Count(out, "running") != 2 {
		t.Fatalf("restart echoes: %s", out)
	}
	if out := run(1, "stop", "nosuch"); !strings.Contains(out, "nosuch") {
		t.Fatalf("stop nosuch: %s", out)
	}
}
