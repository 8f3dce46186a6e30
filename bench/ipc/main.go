// Command ipc benchmarks kelpie's Node-compatible IPC channel against Node's
// own, side by side in one run:
//
//	node-node  Node fork() parent + Node child (the reference)
//	go-go      Go parent + Go child, both on kelpie's ipc.Conn
//	go-node    kelpie's ipc.Conn parent + a stock Node child
//
// For each: round-trip latency of {"hello":"world","n":i} (p50/p99 over -p
// round trips after -warm warm-up ones) and one-way child->parent
// throughput (-t messages). Every figure is the median over -r repetitions,
// the implementations interleaved within each repetition so they share the
// machine's state. Usage: go run ./bench/ipc [-p N] [-t N] [-r N]
package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// The Node scripts are embedded so the benchmark runs from any directory.
//
//go:embed node_child.js node_parent.js
var nodeScripts embed.FS

// roleEnv makes the binary act as the Go child (it re-executes itself).
const roleEnv = "KELPIE_BENCH_IPC_CHILD"

// result is one measurement.
type result struct {
	P50, P99, Mean float64 // µs, ping-pong
	MsgsPerSec     float64 // throughput
}

// config holds the command line.
type config struct {
	pingpong, throughput, warm, reps int
	nodeDir                          string
	only                             string
}

func main() {
	if os.Getenv(roleEnv) != "" {
		if err := goChild(); err != nil {
			fmt.Fprintln(os.Stderr, "go child:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	flag.IntVar(&cfg.pingpong, "p", 100000, "round trips measured per ping-pong run")
	flag.IntVar(&cfg.throughput, "t", 1000000, "messages per one-way throughput run")
	flag.IntVar(&cfg.warm, "warm", 1000, "warm-up round trips before measuring")
	flag.IntVar(&cfg.reps, "r", 3, "repetitions (figures are medians)")
	flag.StringVar(&cfg.only, "only", "", "run only these contenders, comma-separated: node-node,go-go,go-node (no ratios)")
	flag.Parse()
	if err := run(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench ipc:", err)
		os.Exit(1)
	}
}

// impl is one side-by-side contender.
type impl struct {
	id   string
	name string
	run  func(cfg *config, mode string, n int) (result, error)
}

func run(cfg *config) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is required: %w", err)
	}
	dir, err := os.MkdirTemp("", "kelpie-bench-ipc-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"node_child.js", "node_parent.js"} {
		b, err := nodeScripts.ReadFile(name)
		if err != nil {
			return fmt.Errorf("embedded %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	cfg.nodeDir = dir

	impls := []impl{
		{"node-node", "Node fork() parent + Node child (reference)", nodeNode},
		{"go-go", "Go parent + Go child (kelpie ipc.Conn both ends)", goGo},
		{"go-node", "kelpie ipc.Conn parent + stock Node child", goNode},
	}
	if cfg.only != "" {
		keep := strings.Split(cfg.only, ",")
		impls = slices.DeleteFunc(impls, func(im impl) bool { return !slices.Contains(keep, im.id) })
		if len(impls) == 0 {
			return fmt.Errorf("-only %q selects nothing", cfg.only)
		}
	}
	raw := make([][]result, len(impls))
	for rep := 1; rep <= cfg.reps; rep++ {
		for i, im := range impls {
			pp, err := im.run(cfg, "pingpong", cfg.pingpong)
			if err != nil {
				return fmt.Errorf("%s pingpong: %w", im.name, err)
			}
			tp, err := im.run(cfg, "throughput", cfg.throughput)
			if err != nil {
				return fmt.Errorf("%s throughput: %w", im.name, err)
			}
			pp.MsgsPerSec = tp.MsgsPerSec
			raw[i] = append(raw[i], pp)
			fmt.Fprintf(os.Stderr, "rep %d  %-50s p50 %7.1f µs  p99 %7.1f µs  one-way %10.0f msg/s\n",
				rep, im.name, pp.P50, pp.P99, pp.MsgsPerSec)
		}
	}
	med := make([]result, len(impls))
	for i := range impls {
		med[i] = result{
			P50:        median(raw[i], func(r result) float64 { return r.P50 }),
			P99:        median(raw[i], func(r result) float64 { return r.P99 }),
			Mean:       median(raw[i], func(r result) float64 { return r.Mean }),
			MsgsPerSec: median(raw[i], func(r result) float64 { return r.MsgsPerSec }),
		}
	}
	printTable(cfg, impls, med)
	return nil
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func printTable(cfg *config, impls []impl, m []result) {
	fmt.Printf("IPC, message {\"hello\":\"world\",\"n\":i}: ping-pong %d round trips after %d warm-up, one-way %d messages child->parent; medians of %d runs\n\n",
		cfg.pingpong, cfg.warm, cfg.throughput, cfg.reps)
	fmt.Println("| implementation | RTT p50 µs | RTT p99 µs | RTT mean µs | one-way msg/s |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for i, im := range impls {
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %s |\n", im.name, m[i].P50, m[i].P99, m[i].Mean, thousands(m[i].MsgsPerSec))
	}
	if len(impls) != 3 {
		return
	}
	nn, gg, gn := m[0], m[1], m[2]
	type ratio struct {
		name   string
		v      float64
		target string
		ok     bool
		unit   string
	}
	rs := []ratio{
		{"Go-Go one-way / Node-Node one-way", gg.MsgsPerSec / nn.MsgsPerSec, ">= 4x", gg.MsgsPerSec/nn.MsgsPerSec >= 4, "x"},
		{"Go-Go RTT p50 / Node-Node RTT p50", gg.P50 / nn.P50, "<= 0.33", gg.P50/nn.P50 <= 0.33, ""},
		{"Go-Go RTT p99 / Node-Node RTT p99", gg.P99 / nn.P99, "<= 1x", gg.P99/nn.P99 <= 1, "x"},
		{"kelpie->Node child RTT p50 / Node-Node RTT p50", gn.P50 / nn.P50, "<= 0.8", gn.P50/nn.P50 <= 0.8, ""},
	}
	fmt.Println()
	fmt.Println("| ratio | value | target | met |")
	fmt.Println("|---|---:|---:|---|")
	for _, r := range rs {
		ok := "no"
		if r.ok {
			ok = "yes"
		}
		fmt.Printf("| %s | %.2f%s | %s | %s |\n", r.name, r.v, r.unit, r.target, ok)
	}
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// nodeNode runs the reference in its own node process.
func nodeNode(cfg *config, mode string, n int) (result, error) {
	cmd := exec.Command("node", filepath.Join(cfg.nodeDir, "node_parent.js"), mode, strconv.Itoa(n), strconv.Itoa(cfg.warm))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("node parent: %w", err)
	}
	var r struct {
		P50        float64 `json:"p50_us"`
		P99        float64 `json:"p99_us"`
		Mean       float64 `json:"mean_us"`
		MsgsPerSec float64 `json:"msgs_per_s"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		return result{}, fmt.Errorf("node parent output %q: %w", out, err)
	}
	return result{P50: r.P50, P99: r.P99, Mean: r.Mean, MsgsPerSec: r.MsgsPerSec}, nil
}

// goGo runs this binary as the child.
func goGo(cfg *config, mode string, n int) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, fmt.Errorf("executable: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"=1")
	return goParent(cfg, cmd, mode, n)
}

// goNode runs the stock Node child under kelpie's channel.
func goNode(cfg *config, mode string, n int) (result, error) {
	cmd := exec.Command("node", filepath.Join(cfg.nodeDir, "node_child.js"))
	cmd.Env = os.Environ()
	return goParent(cfg, cmd, mode, n)
}

// ping is the benchmark message; Send marshals it like any caller would.
type ping struct {
	Hello string `json:"hello"`
	N     int    `json:"n"`
}

// goParent is kelpie's side: a Pair, the child on fd 3, then the
// measurement. cmd.Env must already hold the inherited environment.
func goParent(cfg *config, cmd *exec.Cmd, mode string, n int) (res result, err error) {
	parent, child, err := ipc.Pair()
	if err != nil {
		return result{}, err
	}
	cmd.Env = append(cmd.Env, ipc.ChildEnv(3)...)
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		parent.Close()
		child.Close()
		return result{}, fmt.Errorf("start child: %w", err)
	}
	child.Close()
	defer func() {
		parent.Close() // the child's disconnect: it exits
		if werr := cmd.Wait(); werr != nil && err == nil {
			err = fmt.Errorf("child: %w", werr)
		}
	}()

	if mode == "pingpong" {
		lat := make([]float64, 0, n)
		for i := 0; i < cfg.warm+n; i++ {
			t0 := time.Now()
			if err := parent.Send(ping{Hello: "world", N: i}); err != nil {
				return result{}, err
			}
			m, err := parent.Recv()
			if err != nil {
				return result{}, fmt.Errorf("recv: %w", err)
			}
			el := time.Since(t0)
			if got, ok := intField(m.Raw, "n"); !ok || got != i {
				return result{}, fmt.Errorf("echo %s for n=%d", m.Raw, i)
			}
			if i >= cfg.warm {
				lat = append(lat, float64(el.Nanoseconds())/1e3)
			}
		}
		slices.Sort(lat)
		sum := 0.0
		for _, v := range lat {
			sum += v
		}
		return result{P50: lat[len(lat)/2], P99: lat[len(lat)*99/100], Mean: sum / float64(len(lat))}, nil
	}

	t0 := time.Now()
	if err := parent.Send(map[string]any{"cmd": "throughput", "n": n}); err != nil {
		return result{}, err
	}
	for i := 0; i < n; i++ {
		m, err := parent.Recv()
		if err != nil {
			return result{}, fmt.Errorf("recv after %d: %w", i, err)
		}
		if got, ok := intField(m.Raw, "n"); !ok || got != i {
			return result{}, fmt.Errorf("message %s, want n=%d", m.Raw, i)
		}
	}
	return result{MsgsPerSec: float64(n) / time.Since(t0).Seconds()}, nil
}

// intField reads a top-level integer member of a compact object the
// application knows the shape of. The channel has already validated the
// JSON; this is the application picking its field, which a real consumer
// would do with a typed decoder.
func intField(raw []byte, name string) (int, bool) {
	key := `"` + name + `":`
	i := bytes.LastIndex(raw, []byte(key))
	if i < 0 {
		return 0, false
	}
	j := i + len(key)
	k := j
	for k < len(raw) && raw[k] >= '0' && raw[k] <= '9' {
		k++
	}
	v, err := strconv.Atoi(string(raw[j:k]))
	return v, err == nil
}

// goChild is the Go child: echo, or a burst on {"cmd":"throughput","n":N}.
// Like the Node child it respects backpressure: on a full queue it waits for
// the queue to drain and retries.
func goChild() error {
	c, err := ipc.FromParent()
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		m, err := c.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(m.Raw, []byte(`{"cmd":"throughput"`)) {
			if err := c.SendRaw(m.Raw); err != nil {
				return err
			}
			continue
		}
		var req struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(m.Raw, &req); err != nil {
			return fmt.Errorf("throughput request %s: %w", m.Raw, err)
		}
		buf := make([]byte, 0, 64)
		for i := 0; i < req.N; i++ {
			buf = append(buf[:0], `{"hello":"world","n":`...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, '}')
			for {
				err := c.SendRaw(buf)
				if err == nil {
					break
				}
				if !errors.Is(err, ipc.ErrQueueFull) {
					return err
				}
				if err := c.Flush(context.Background()); err != nil {
					return err
				}
			}
		}
	}
}
