package procs

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveOK is the "http-ok" role: an HTTP server answering 200, its address
// printed first.
func serveOK() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println("listening", ln.Addr())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	return 0
}

// BenchmarkProbesIdleCPU measures the supervisor's own CPU (this process's,
// as a percent of one core) while 100 ready units each have an http
// readiness probe and an http liveness probe every second against a local
// server (a unit too, so its CPU is not counted), the sampler ticking each
// second as in a real run. No screen: this is the engine under a headless
// run. Each iteration is a 5-second window.
func BenchmarkProbesIdleCPU(b *testing.B) {
	for _, probes := range []bool{false, true} {
		b.Run(map[bool]string{false: "none", true: "http"}[probes], func(b *testing.B) { benchProbesIdle(b, probes) })
	}
}

func benchProbesIdle(b *testing.B, probes bool) {
	s, err := New(Options{Tick: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
	srv := roleSpec("srv", "http-ok", "")
	if err := s.Add(srv); err != nil {
		b.Fatal(err)
	}
	snap, sub := s.Subscribe()
	defer sub.Close()
	_ = snap
	if err := s.Start("srv"); err != nil {
		b.Fatal(err)
	}
	var addr string
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		lines, _ := s.Tail("srv", 10)
		for _, l := range lines {
			if a, ok := strings.CutPrefix(l.Text, "listening "); ok {
				addr = a
			}
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
	if addr == "" {
		b.Fatal("no server address")
	}
	const n = 100
	url := "http://" + addr + "/health"
	for i := range n {
		sp := roleSpec(fmt.Sprintf("u%d", i), "sleep", "")
		if probes {
			sp.Ready = &Probe{Kind: ProbeHTTP, URL: url, Period: time.Second}
			sp.Liveness = &Probe{Kind: ProbeHTTP, URL: url, Period: time.Second}
		}
		if err := s.Add(sp); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.StartAll(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		ready := 0
		for _, in := range s.List() {
			if in.Ready || !probes && in.State == Running {
				ready++
			}
		}
		if !probes {
			ready-- // the server
		}
		if ready == n {
			break
		}
		if _, err := sub.Next(ctx); err != nil {
			b.Fatalf("%d of %d ready: %v", ready, n, err)
		}
	}
	time.Sleep(2 * time.Second) // settle: the starts' work is not idle work
	const window = 5 * time.Second
	var pct float64
	b.ResetTimer()
	for range b.N {
		c0, t0 := cpuTime(), time.Now()
		time.Sleep(window)
		pct = 100 * float64(cpuTime()-c0) / float64(time.Since(t0))
	}
	b.ReportMetric(pct, "%core")
	for _, in := range s.List() {
		if in.Restarts != 0 {
			b.Fatalf("%s restarted: %s", in.Name, in.Reason)
		}
	}
}
