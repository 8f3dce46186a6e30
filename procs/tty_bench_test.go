package procs

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// floodShell prints n 80-column lines, each with a coloured number, then
// END: what a log-heavy service writes.
func floodShell(n int) string {
	return fmt.Sprintf(`awk 'BEGIN{for(i=0;i<%d;i++) printf "\033[32m%%06d\033[0m lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod te\n", i; print "END"}'`, n)
}

// floodLineBytes is one line of floodShell's output.
const floodLineBytes = 6 + 9 + 74

// runFlood starts a unit running shell and waits until its END line is in
// its log (for a tty unit, when the run has ended and the screen left is
// logged; on pipes, as soon as it is read).
func runFlood(b *testing.B, s *Supervisor, name, shell string, tty bool) {
	b.Helper()
	if err := s.Add(Spec{Name: name, Shell: shell, TTY: tty, Restart: RestartNever}); err != nil {
		b.Fatal(err)
	}
	_, sub := s.Subscribe()
	defer sub.Close()
	if err := s.Start(name); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for {
		for _, l := range s.ring(name).Tail(4) {
			if l.Text == "END" {
				return
			}
		}
		if _, err := sub.Next(ctx); err != nil {
			b.Fatalf("%s never logged END: %v", name, err)
		}
	}
}

// BenchmarkTTYFlood measures a child flooding 20,000 coloured 80-column
// lines (1.7 MB), from its start until its last line is in the log, on
// pipes and on a tty (emulator parsing, scrollback, lines to the log), in
// the same run: MB/s for each, and kelpie's CPU per MB.
func BenchmarkTTYFlood(b *testing.B) {
	const n = 20000
	for _, mode := range []string{"pipe", "tty"} {
		b.Run(mode, func(b *testing.B) {
			s, err := New(Options{Tick: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = s.Shutdown(ctx)
			}()
			b.SetBytes(n * floodLineBytes)
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				name := fmt.Sprintf("flood%d", i)
				i++
				runFlood(b, s, name, floodShell(n), mode == "tty")
				b.StopTimer()
				_ = s.Remove(name)
				b.StartTimer()
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkTTYMemory reports the heap a tty unit holds with its scrollback
// full (60,000 coloured 80-column lines through its PTY, past the
// scrollback's cap): its emulator, scrollback and log ring, measured after
// the run ended (the unit keeps its terminal). The target is 10 MiB.
func BenchmarkTTYMemory(b *testing.B) {
	for range b.N {
		s, err := New(Options{Tick: -1})
		if err != nil {
			b.Fatal(err)
		}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		runFlood(b, s, "mem", floodShell(60000), true)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		sc, err := s.Screen("mem")
		if err != nil {
			b.Fatal(err)
		}
		if sc.Scrollback < 40000 || !strings.Contains(strings.Join(sc.Lines, "\n"), "END") {
			b.Fatalf("scrollback %d lines, screen %q", sc.Scrollback, sc.Lines)
		}
		grown := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / (1 << 20)
		b.ReportMetric(grown, "unit-heap-MiB")
		b.ReportMetric(float64(sc.Scrollback), "scrollback-lines")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
	}
}
