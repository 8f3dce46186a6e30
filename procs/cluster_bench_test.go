package procs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkClusterRespawn measures, for a one-member fds cluster, the time
// from kill -9 of the member to a response from its replacement (the
// request waits in the socket's backlog meanwhile): what a client sees of a
// crash. Reported: ms/respawn (mean) and the median.
//
//	go test ./procs -run '^$' -bench ClusterRespawn -benchtime 10x
func BenchmarkClusterRespawn(b *testing.B) {
	s, err := New(Options{Tick: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer shutdownBench(s)
	c := Cluster{Spec: roleSpec("web", "http-fds", ""), Listen: "127.0.0.1:0", Instances: 1}
	c.Spec.Restart = RestartAlways
	c.Spec.MinUptime = time.Millisecond // every run counts as healthy: no backoff
	ln, err := ListenCluster(&c)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		b.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		pid := readyPID(b, s, "web/0", 0)
		if _, err := get(addr); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		for {
			body, err := get(addr)
			if err != nil {
				b.Fatal(err)
			}
			if !strings.HasPrefix(body, strconv.Itoa(pid)+" ") {
				break
			}
		}
		times = append(times, time.Since(start))
		b.StopTimer()
		readyPID(b, s, "web/0", pid)
		b.StartTimer()
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// BenchmarkClusterFairness reports how 400 short connections split among 4
// members in each mode: the largest share (%) as a metric, the split in
// the log. fds is the kernel's split; round-robin and node (rr) are
// kelpie's.
//
//	go test ./procs -run '^$' -bench ClusterFairness -benchtime 3x -v
func BenchmarkClusterFairness(b *testing.B) {
	for _, mode := range []string{"fds", "round-robin", "node-rr"} {
		b.Run(mode, func(b *testing.B) {
			s, err := New(Options{Tick: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer shutdownBench(s)
			addr := benchCluster(b, s, mode, 4)
			worst := 0.0
			b.ResetTimer()
			for range b.N {
				seen := map[string]int{}
				for range 400 {
					body, err := get(addr)
					if err != nil {
						b.Fatal(err)
					}
					pid, _, _ := strings.Cut(body, " ")
					seen[pid]++
				}
				var split []int
				for _, n := range seen {
					split = append(split, n)
				}
				sort.Sort(sort.Reverse(sort.IntSlice(split)))
				worst = max(worst, float64(split[0])/4)
				b.Logf("%s: split of 400 among %d workers: %v", mode, len(seen), split)
			}
			b.ReportMetric(worst, "max-share-%")
		})
	}
}

// BenchmarkClusterConn is one short connection (connect, GET, close) to a
// 2-member cluster per op: fds (kelpie off the path) against round-robin
// (kelpie accepts and passes each connection): the difference is what a
// connection costs kelpie.
//
//	go test ./procs -run '^$' -bench ClusterConn -benchtime 2000x
func BenchmarkClusterConn(b *testing.B) {
	for _, mode := range []string{"fds", "round-robin"} {
		b.Run(mode, func(b *testing.B) {
			s, err := New(Options{Tick: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer shutdownBench(s)
			addr := benchCluster(b, s, mode, 2)
			b.ResetTimer()
			for range b.N {
				if _, err := get(addr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchCluster starts an n-member cluster in mode (fds, round-robin: the
// test binary's http roles; node-rr: a Node server) and waits until every
// member is ready.
func benchCluster(b *testing.B, s *Supervisor, mode string, n int) string {
	c := Cluster{Listen: "127.0.0.1:0", Instances: n}
	switch mode {
	case "fds":
		c.Spec, c.Mode = roleSpec("web", "http-fds", ""), ModeFDs
	case "round-robin":
		c.Spec, c.Mode = roleSpec("web", "http-rr", ""), ModeRoundRobin
	case "node-rr":
		node, err := exec.LookPath("node")
		if err != nil {
			b.Skip("no node")
		}
		script := filepath.Join(b.TempDir(), "app.js")
		prog := `require("http").createServer((q, s) => s.end(process.pid + " node")).listen(0);`
		if err := os.WriteFile(script, []byte(prog), 0o644); err != nil {
			b.Fatal(err)
		}
		c.Spec, c.Mode, c.Policy = Spec{Name: "web", Argv: []string{node, script}}, ModeNode, "rr"
	}
	ln, err := ListenCluster(&c)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		b.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	// A round-robin member is ready on its first connection: ask until
	// every one answered.
	seen := map[string]bool{}
	for deadline := time.Now().Add(20 * time.Second); len(seen) < n; {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d members answered", len(seen), n)
		}
		body, err := get(addr)
		if err != nil {
			b.Fatal(err)
		}
		pid, _, _ := strings.Cut(body, " ")
		seen[pid] = true
	}
	return addr
}

// readyPID waits until the unit runs, ready, with a pid other than not.
func readyPID(b *testing.B, s *Supervisor, name string, not int) int {
	deadline := time.Now().Add(20 * time.Second)
	for {
		in, err := s.Get(name)
		if err == nil && in.State == Running && in.Ready && in.PID != not {
			return in.PID
		}
		if time.Now().After(deadline) {
			b.Fatal(fmt.Sprintf("%s never ready: %+v %v", name, in, err))
		}
		time.Sleep(time.Millisecond)
	}
}

func shutdownBench(s *Supervisor) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

// BenchmarkClusterReload is one rolling reload of a 2-member cluster under
// a load of 4 request loops (a new connection each): ms per reload, and the
// requests that failed (the metric must stay 0).
//
//	go test ./procs -run '^$' -bench ClusterReload -benchtime 5x
func BenchmarkClusterReload(b *testing.B) {
	for _, mode := range []string{"fds", "round-robin", "node-rr"} {
		b.Run(mode, func(b *testing.B) {
			s, err := New(Options{Tick: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer shutdownBench(s)
			addr := benchCluster(b, s, mode, 2)
			stop := make(chan struct{})
			var failed atomic.Int64
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := get(addr); err != nil {
							failed.Add(1)
						}
					}
				}()
			}
			b.ResetTimer()
			for range b.N {
				if err := s.Reload("web"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(failed.Load()), "failed")
		})
	}
}
