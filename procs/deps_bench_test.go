package procs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// ipcReady is the "ipc-ready" role: a service that is ready as soon as it
// has started, and says so on its channel.
func ipcReady() int {
	conn, err := ipc.FromParent()
	if err != nil {
		fmt.Println("no channel:", err)
		return 1
	}
	if err := conn.Send(map[string]bool{"ready": true}); err != nil {
		return 1
	}
	conn.Flush(context.Background())
	select {}
}

// readySpec is a unit that becomes ready by saying so on its channel.
func readySpec(name string, deps ...Dependency) Spec {
	sp := roleSpec(name, "ipc-ready", "")
	sp.IPC, sp.AwaitReady, sp.DependsOn = true, true, deps
	return sp
}

// readyWait returns a channel that hears when the named unit's run is
// ready: the engine's own notification, so the figure is the supervisor's
// and not a subscriber's (whose batches may be paced).
func readyWait(b *testing.B, s *Supervisor, name string) chan error {
	var c chan error
	if err := s.call(func() {
		u := s.units[name]
		c = make(chan error, 1)
		if u.info.Ready {
			c <- nil
			return
		}
		u.readyWait = append(u.readyWait, c)
	}); err != nil {
		b.Fatal(err)
	}
	return c
}

// awaitReady waits on a readyWait channel, with a bound against a hang.
func awaitReady(b *testing.B, c chan error, name string) {
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err := <-c:
		if err != nil {
			b.Fatalf("%s not ready: %v", name, err)
		}
	case <-t.C:
		b.Fatalf("%s not ready after 30s", name)
	}
}

// BenchmarkDependsOnChain starts a chain of 10 units, each depending on the
// previous one being ready (it says {"ready":true} on its channel), and
// compares the time from StartAll to the last one ready with the sum of the
// same units' start-to-ready times measured one at a time, alone, in the
// same run. added-ms/hop is what the dependency machinery adds per link.
func BenchmarkDependsOnChain(b *testing.B) {
	const n = 10
	var chain, alone time.Duration
	for b.Loop() {
		// Alone: each unit started by itself, timed to ready.
		s, err := New(Options{Tick: -1})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			name := fmt.Sprintf("solo%d", i)
			if err := s.Add(readySpec(name)); err != nil {
				b.Fatal(err)
			}
			c := readyWait(b, s, name)
			t0 := time.Now()
			if err := s.Start(name); err != nil {
				b.Fatal(err)
			}
			awaitReady(b, c, name)
			alone += time.Since(t0)
		}
		shutdown(b, s)

		// The chain: u0 <- u1 <- ... <- u9, all started at once.
		s, err = New(Options{Tick: -1})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			var deps []Dependency
			if i > 0 {
				deps = []Dependency{{Name: fmt.Sprintf("u%d", i-1), Condition: CondReady}}
			}
			if err := s.Add(readySpec(fmt.Sprintf("u%d", i), deps...)); err != nil {
				b.Fatal(err)
			}
		}
		last := fmt.Sprintf("u%d", n-1)
		c := readyWait(b, s, last)
		t0 := time.Now()
		if err := s.StartAll(); err != nil {
			b.Fatal(err)
		}
		awaitReady(b, c, last)
		chain += time.Since(t0)
		shutdown(b, s)
	}
	iters := float64(b.N)
	b.ReportMetric(float64(chain.Microseconds())/1000/iters, "chain-ms")
	b.ReportMetric(float64(alone.Microseconds())/1000/iters, "sum-alone-ms")
	b.ReportMetric(float64((chain-alone).Microseconds())/1000/iters/(n-1), "added-ms/hop")
}

func shutdown(b *testing.B, s *Supervisor) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}
