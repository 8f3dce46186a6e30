// Command workers measures kelpie's worker goroutines, side by side with
// Node's worker_threads where there is a counterpart:
//
//	rt    round trip of {"hello":"world","n":i} through a worker's channel
//	      (Supervisor.Send -> the worker's inbox -> its reply recorded),
//	      p50/p99 over -n round trips after 1,000 warm-up ones; with -node
//	      DIR also Node's worker_threads postMessage round trip
//	      (DIR/ipc_worker.js, the bench-anchors script), interleaved, -r
//	      repetitions, medians.
//	cpu   a spinning worker and an idle one: their CPU % as ps shows it
//	      (the sampler's figure) over -secs seconds.
//	idle  -workers idle workers: kelpie's own CPU % (headless, sampler on)
//	      and RSS over -secs seconds.
//
// Usage: go run ./bench/workers -mode rt -node ../shared/bench-anchors/node
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

func main() {
	mode := flag.String("mode", "rt", "rt, cpu or idle")
	n := flag.Int("n", 100000, "rt: round trips per repetition")
	reps := flag.Int("r", 3, "rt: repetitions (figures are medians)")
	nodeDir := flag.String("node", "", "rt: the bench-anchors node directory (ipc_worker.js), for the Node figure")
	workers := flag.Int("workers", 1000, "idle: how many idle workers")
	secs := flag.Int("secs", 10, "cpu, idle: seconds measured")
	flag.Parse()
	var err error
	switch *mode {
	case "rt":
		err = roundTrips(*n, *reps, *nodeDir)
	case "cpu":
		err = cpu(time.Duration(*secs) * time.Second)
	case "idle":
		err = idle(*workers, time.Duration(*secs)*time.Second)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench workers:", err)
		os.Exit(1)
	}
}

func newSup(tick time.Duration) (*procs.Supervisor, func(), error) {
	s, err := procs.New(procs.Options{Tick: tick})
	if err != nil {
		return nil, nil, err
	}
	return s, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}, nil
}

type rtResult struct {
	P50 float64 `json:"p50_us"`
	P99 float64 `json:"p99_us"`
}

// kelpieRT measures n round trips to an echoing worker.
func kelpieRT(n int) (rtResult, error) {
	s, done, err := newSup(-1)
	if err != nil {
		return rtResult{}, err
	}
	defer done()
	echo := func(ctx context.Context, w procs.Worker) error {
		for {
			m, err := w.Recv(ctx)
			if err != nil {
				return nil
			}
			_ = w.SendRaw(m)
		}
	}
	if err := s.Add(procs.Spec{Name: "echo", Task: echo}); err != nil {
		return rtResult{}, err
	}
	if err := s.Start("echo"); err != nil {
		return rtResult{}, err
	}
	rt := make([]time.Duration, 0, n)
	var buf []byte
	for i := -1000; i < n; i++ {
		buf = fmt.Appendf(buf[:0], `{"hello":"world","n":%d}`, i)
		last, _ := s.LastMessage("echo")
		t0 := time.Now()
		if err := s.Send("echo", buf); err != nil {
			return rtResult{}, err
		}
		// The reply is the message after ours.
		for {
			if l, _ := s.LastMessage("echo"); l >= last+2 {
				break
			}
			runtime.Gosched()
		}
		if i >= 0 {
			rt = append(rt, time.Since(t0))
		}
	}
	slices.Sort(rt)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return rtResult{P50: us(rt[n/2]), P99: us(rt[n*99/100])}, nil
}

func nodeRT(dir string, n int) (rtResult, error) {
	out, err := exec.Command("node", filepath.Join(dir, "ipc_worker.js"), "pingpong", strconv.Itoa(n)).Output()
	if err != nil {
		return rtResult{}, fmt.Errorf("node ipc_worker.js: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var r rtResult
	err = json.Unmarshal([]byte(lines[len(lines)-1]), &r)
	return r, err
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func roundTrips(n, reps int, nodeDir string) error {
	var kp50, kp99, np50, np99 []float64
	for rep := 0; rep < reps; rep++ {
		k, err := kelpieRT(n)
		if err != nil {
			return err
		}
		kp50, kp99 = append(kp50, k.P50), append(kp99, k.P99)
		fmt.Printf("rep %d kelpie worker: p50 %.2f µs, p99 %.2f µs\n", rep+1, k.P50, k.P99)
		if nodeDir != "" {
			nr, err := nodeRT(nodeDir, n)
			if err != nil {
				return err
			}
			np50, np99 = append(np50, nr.P50), append(np99, nr.P99)
			fmt.Printf("rep %d node worker_threads: p50 %.2f µs, p99 %.2f µs\n", rep+1, nr.P50, nr.P99)
		}
	}
	fmt.Printf("| round trip (%d, median of %d) | p50 µs | p99 µs |\n|---|---|---|\n", n, reps)
	fmt.Printf("| kelpie worker channel | %.2f | %.2f |\n", median(kp50), median(kp99))
	if nodeDir != "" {
		fmt.Printf("| node worker_threads postMessage | %.2f | %.2f |\n", median(np50), median(np99))
		fmt.Printf("kelpie p50 / node p50 = %.3f (target <= 0.1)\n", median(kp50)/median(np50))
	}
	return nil
}

// cpu shows a spinning and an idle worker's CPU as the sampler reports it.
func cpu(d time.Duration) error {
	s, done, err := newSup(time.Second)
	if err != nil {
		return err
	}
	defer done()
	spin := func(ctx context.Context, w procs.Worker) error {
		for ctx.Err() == nil {
			for i := 0; i < 1e6; i++ {
			}
		}
		return nil
	}
	sleep, _ := procs.BuiltinTask("sleep", nil)
	if err := s.Add(procs.Spec{Name: "spin", Task: spin}); err != nil {
		return err
	}
	if err := s.Add(procs.Spec{Name: "idle", Task: sleep}); err != nil {
		return err
	}
	if err := s.StartAll(); err != nil {
		return err
	}
	time.Sleep(1500 * time.Millisecond) // the first tick has no figure
	var sp, id []float64
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
		for _, in := range s.List() {
			switch in.Name {
			case "spin":
				sp = append(sp, in.CPU)
			case "idle":
				id = append(id, in.CPU)
			}
		}
	}
	fmt.Printf("spinning worker: median %.1f %% (min %.1f, max %.1f) over %d ticks\n", median(sp), slices.Min(sp), slices.Max(sp), len(sp))
	fmt.Printf("idle worker: median %.2f %% (max %.2f)\n", median(id), slices.Max(id))
	return nil
}

// idle measures kelpie itself with many idle workers.
func idle(n int, d time.Duration) error {
	s, done, err := newSup(time.Second)
	if err != nil {
		return err
	}
	defer done()
	sleep, _ := procs.BuiltinTask("sleep", nil)
	if err := s.AddGroup(procs.Spec{Name: "idle", Kind: procs.KindWorker, Task: sleep, TaskName: "sleep", Shared: []string{"x"}}, n); err != nil {
		return err
	}
	t0 := time.Now()
	if err := s.StartAll(); err != nil {
		return err
	}
	fmt.Printf("%d workers started in %s\n", n, time.Since(t0).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // settle
	c0, err := selfCPU()
	if err != nil {
		return err
	}
	w0 := time.Now()
	time.Sleep(d)
	c1, _ := selfCPU()
	pct := (c1 - c0) / time.Since(w0).Seconds() * 100
	fmt.Printf("%d idle workers, headless, sampler at 1 s: kelpie CPU %.2f %% of a core, RSS %.1f MiB, threads %d\n",
		n, pct, float64(rss())/(1<<20), threads())
	return nil
}

// selfCPU is this process's user+system CPU seconds.
func selfCPU() (float64, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100, nil
}

func statusField(key string) int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

func rss() int64   { return int64(statusField("VmRSS")) << 10 }
func threads() int { return statusField("Threads") }
