// Package demo is kelpie's built-in demo: what `kelpie` runs where there is
// no kelpie.yaml or Procfile. Its children are kelpie itself re-executed in a
// child role (like Node's fork(__filename)), so the demo works on a fresh
// machine with nothing else installed.
package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
	"github.com/kelpie-dev/kelpie/procs"
)

// RoleArg is the hidden first argument that puts kelpie in a demo child role.
const RoleArg = "__demo"

// Specs returns the demo's units, each running exe in a role.
//
// The units run exe by its bare name, found through a PATH that starts
// with exe's directory, so that their command reads `kelpie __demo ticker`
// wherever kelpie lives (under `go run`, a temporary build directory).
func Specs(exe string) []procs.Spec {
	env := []string{"PATH=" + filepath.Dir(exe) + string(os.PathListSeparator) + os.Getenv("PATH")}
	name := filepath.Base(exe)
	role := func(r string) []string { return []string{name, RoleArg, r} }
	specs := []procs.Spec{
		{Name: "ticker", Argv: role("ticker"), Env: env, Restart: procs.RestartAlways},
		{Name: "build", Argv: role("build"), Env: env, Restart: procs.RestartNever},
		{
			Name: "flaky", Argv: role("flaky"), Env: env, Restart: procs.RestartOnFailure,
			MinUptime: 5 * time.Second, BackoffInitial: time.Second, BackoffMax: 8 * time.Second,
			MaxRestarts: -1, // the demo shows backoff forever rather than parking
		},
		{Name: "cruncher", Argv: role("cruncher"), Env: env, Restart: procs.RestartAlways},
		{Name: "echo", Argv: role("echo"), Env: env, IPC: true, Restart: procs.RestartAlways},
		{
			Name:    "heartbeat",
			Shell:   `while true; do echo "$(date +%T) heartbeat from sh (pid $$)"; sleep 2; done`,
			Restart: procs.RestartAlways,
		},
		// A small dev stack: db takes a moment to become ready (its log
		// says so), and api, which needs it, waits until then.
		{
			Name: "db", Argv: role("db"), Env: env, Restart: procs.RestartAlways,
			Ready: &procs.Probe{Kind: procs.ProbeLog, Log: "ready to accept connections"},
		},
		{
			Name: "api", Argv: role("api"), Env: env, Restart: procs.RestartAlways,
			DependsOn: []procs.Dependency{{Name: "db", Condition: procs.CondReady}},
			Ready:     &procs.Probe{Kind: procs.ProbeLog, Log: "serving requests"},
		},
		// A full-screen program on a terminal of its own: select it, press
		// i and the arrow keys move its selection; q quits it (on failure
		// only it comes back; s starts it again).
		{Name: "top", Argv: role("top"), Env: env, TTY: true, Restart: procs.RestartOnFailure},
	}
	// A group of four worker goroutines sharing counters: primes/0 ..
	// primes/3 count primes together, resting between blocks so the demo
	// stays light.
	primes, err := procs.BuiltinTask("primes", []string{"0", "40ms"})
	if err != nil {
		panic(err) // fixed arguments: a test catches this
	}
	for i := range 4 {
		specs = append(specs, procs.Spec{
			Name: procs.MemberName("primes", i), Group: "primes", Kind: procs.KindWorker,
			Task: primes, TaskName: "primes", Shared: []string{"found", "checked"}, Restart: procs.RestartAlways,
		})
	}
	return specs
}

// Run plays a demo role and returns the exit status.
func Run(role string) int {
	switch role {
	case "ticker":
		return ticker()
	case "build":
		return build()
	case "flaky":
		return flaky()
	case "cruncher":
		return cruncher()
	case "echo":
		return echo()
	case "web":
		return web()
	case "db":
		return db()
	case "api":
		return api()
	case "top":
		return top()
	}
	fmt.Fprintf(os.Stderr, "kelpie: unknown demo role %q\n", role)
	return 2
}

// ticker streams coloured lines, with a warning on stderr now and then.
func ticker() int {
	colours := []string{"32", "36", "35", "33"}
	for i := 1; ; i++ {
		fmt.Printf("\x1b[%smtick %d\x1b[0m  %s  queue=%d\n", colours[i%len(colours)], i, time.Now().Format("15:04:05.000"), rand.IntN(40))
		if i%10 == 0 {
			fmt.Fprintf(os.Stderr, "warn: slow consumer (tick %d)\n", i)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// build is a one-shot job: a few steps, then exit 0.
func build() int {
	steps := []string{"resolving modules", "compiling 42 packages", "linking", "writing bin/app"}
	for i, s := range steps {
		fmt.Printf("[%d/%d] %s\n", i+1, len(steps), s)
		time.Sleep(600 * time.Millisecond)
	}
	fmt.Println("build ok")
	return 0
}

// dbStartup is how long the demo database takes to become ready: long
// enough to see api waiting for it, short enough for a quick demo.
const dbStartup = 1500 * time.Millisecond

// dbReadyLine is what db prints once ready; its probe looks for it.
const dbReadyLine = "db: ready to accept connections on port 5432"

// db plays a database: it recovers for a moment, says it is ready (its log
// probe waits for those words), then checkpoints now and then.
func db() int {
	fmt.Println("db: starting, replaying the write-ahead log…")
	time.Sleep(dbStartup)
	fmt.Println(dbReadyLine)
	for i := 1; ; i++ {
		time.Sleep(4 * time.Second)
		fmt.Printf("db: checkpoint %d complete (%d buffers written)\n", i, 40+rand.IntN(200))
	}
}

// apiReadyLine is what api prints once ready; its probe looks for it. It
// listens nowhere: the demo's real server is the web cluster.
const apiReadyLine = "api: serving requests"

// api plays a web service that needs the database: kelpie starts it only
// once db is ready, so its first line can say it connected.
func api() int {
	fmt.Println("api: connected to db on port 5432")
	fmt.Println(apiReadyLine)
	routes := []string{"GET /users", "GET /orders", "POST /orders", "GET /health"}
	for i := 1; ; i++ {
		time.Sleep(1500 * time.Millisecond)
		fmt.Printf("api: %s 200 (%d ms)\n", routes[i%len(routes)], 2+rand.IntN(30))
	}
}

// flaky serves a little, then crashes: restarts and backoff become visible.
func flaky() int {
	fmt.Println("flaky: listening on :9000")
	time.Sleep(2 * time.Second)
	fmt.Fprintln(os.Stderr, "flaky: fatal: lost connection to database")
	return 1
}

// cruncher burns about a fifth of a core and reports progress with carriage
// returns, the way progress bars do.
func cruncher() int {
	x := uint64(1)
	for round := 1; ; round++ {
		start := time.Now()
		for time.Since(start) < 20*time.Millisecond {
			for i := 0; i < 1000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		time.Sleep(80 * time.Millisecond)
		if round%10 == 0 {
			fmt.Printf("crunching… %d%%\r", (round/10)%100)
			fmt.Printf("crunched batch %d (checksum %x)\n", round/10, x&0xffff)
		}
	}
}

// echo is a forked child with a message channel, written with kelpie's Go
// child API: it answers every message and reports its health every 5 s.
func echo() int {
	conn, err := ipc.FromParent()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		return 1
	}
	defer conn.Close()
	fmt.Println("echo: ready for messages (select me and press m)")
	msgs := make(chan json.RawMessage)
	go func() {
		defer close(msgs)
		for {
			m, err := conn.Recv()
			if err != nil {
				return
			}
			if !m.Internal {
				msgs <- m.Raw
			}
		}
	}()
	start := time.Now()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	n := 0
	for {
		select {
		case raw, ok := <-msgs:
			if !ok {
				fmt.Println("echo: parent closed the channel")
				return 0
			}
			n++
			fmt.Printf("echo: got message %d: %s\n", n, raw)
			_ = conn.Send(map[string]any{"reply": json.RawMessage(raw), "n": n, "pid": os.Getpid()})
		case <-tick.C:
			_ = conn.Send(map[string]any{"type": "health", "uptime_s": int(time.Since(start).Seconds()), "handled": n})
		}
	}
}
