package procs

import (
	"strconv"
	"testing"
)

// rrCluster is a round-robin cluster of n test-binary members.
func rrCluster(t *testing.T, s *Supervisor, name string, n int) string {
	t.Helper()
	c := Cluster{Spec: roleSpec(name, "http-rr", ""), Listen: "127.0.0.1:0", Mode: ModeRoundRobin, Instances: n}
	c.Spec.Restart = RestartAlways
	ln, err := ListenCluster(&c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String()
}

func TestClusterRoundRobinEveryWorkerServes(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addr := rrCluster(t, s, "rr", 3)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	// Ready comes from the dispatcher ({"ready":true} or a first connection).
	var members []Info
	waitFor(t, "3 running members", func() bool {
		members = members[:0]
		for _, in := range s.List() {
			if in.Group == "rr" && in.State == Running && in.Kind == KindFork {
				members = append(members, in)
			}
		}
		return len(members) == 3
	})
	seen := servedBy(t, addr, 3)
	for _, m := range members {
		if seen[strconv.Itoa(m.PID)] == 0 {
			t.Fatalf("%s (pid %d) never served: %v", m.Name, m.PID, seen)
		}
	}
	// The handed connections are counted per member (once each member's
	// acknowledgement is in: it may come after its response).
	waitFor(t, "every member's served count", func() bool {
		n := 0
		for _, in := range s.List() {
			if in.Group == "rr" && in.Served > 0 {
				n++
			}
		}
		return n == 3
	})
}

// TestClusterRoundRobinReloadNoFailures: a rolling reload under load in
// round-robin mode fails no request.
func TestClusterRoundRobinReloadNoFailures(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addr := rrCluster(t, s, "rr", 2)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	servedBy(t, addr, 2)
	ok, failed, firstErr := underLoad(addr, func() error { return s.Reload("rr") }, t)
	if failed > 0 || ok == 0 {
		t.Fatalf("%d requests failed (first: %v), %d succeeded", failed, firstErr, ok)
	}
}
