package procs

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
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

// BenchmarkClusterFairnessFDs reports how the kernel splits 400 short
// connections among 4 fds members: the largest share (%) and the split.
//
//	go test ./procs -run '^$' -bench ClusterFairnessFDs -benchtime 3x -v
func BenchmarkClusterFairnessFDs(b *testing.B) {
	s, err := New(Options{Tick: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer shutdownBench(s)
	c := Cluster{Spec: roleSpec("web", "http-fds", ""), Listen: "127.0.0.1:0", Instances: 4}
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
	for i := range 4 {
		readyPID(b, s, MemberName("web", i), 0)
	}
	addr := ln.Addr().String()
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
		b.Logf("split of 400 among %d workers: %v", len(seen), split)
	}
	b.ReportMetric(worst, "max-share-%")
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
