package procs

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/vterm"
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

// BenchmarkTTYIdleHtop reports kelpie's own CPU (the engine: PTY reads,
// emulator, scrollback; the child's CPU is not counted) while an idle
// `htop -d 10` runs in a tty unit for 5 s, beside the same 5 s with no
// unit: "idle" with no pane, "pane" with a Screen every 16 ms (a pane
// drawing 60 frames a second, more than one would; its baseline runs the
// same ticker without asking). htop-cpu-% is the difference.
func BenchmarkTTYIdleHtop(b *testing.B) {
	if _, err := exec.LookPath("htop"); err != nil {
		b.Skip("htop not installed")
	}
	const window = 5 * time.Second
	// measure runs f for the window and returns this process's CPU in
	// percent of a core; with pane, f is a 60 Hz ticker calling screen.
	measure := func(pane bool, screen func()) float64 {
		stop := make(chan struct{})
		done := make(chan struct{})
		cpu0, t0 := cpuTime(), time.Now()
		go func() {
			defer close(done)
			if !pane {
				<-stop
				return
			}
			tk := time.NewTicker(16 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					screen()
				}
			}
		}()
		time.Sleep(window) // the measuring window itself, not a synchronisation
		close(stop)
		<-done
		return float64(cpuTime()-cpu0) / float64(time.Since(t0)) * 100
	}
	for _, mode := range []string{"idle", "pane"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				s, err := New(Options{Tick: -1})
				if err != nil {
					b.Fatal(err)
				}
				base := measure(mode == "pane", func() {})
				_ = s.Add(Spec{Name: "htop", Argv: []string{"htop", "-d", "10"}, TTY: true})
				_ = s.Start("htop")
				deadline := time.Now().Add(20 * time.Second)
				for sc, _ := s.Screen("htop"); !sc.AltScreen; sc, _ = s.Screen("htop") {
					if time.Now().After(deadline) {
						b.Fatal("htop never drew")
					}
					time.Sleep(10 * time.Millisecond)
				}
				busy := measure(mode == "pane", func() { _, _ = s.Screen("htop") })
				b.ReportMetric(base, "base-cpu-%")
				b.ReportMetric(busy, "cpu-%")
				b.ReportMetric(busy-base, "htop-cpu-%")
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_ = s.Shutdown(ctx)
				cancel()
			}
		})
	}
}

// BenchmarkTTYScreen measures one Screen of an 80x24 tty unit: "same" when
// nothing changed since the last (the snapshot is reused), "changed" when
// the screen must be drawn again from its cells.
func BenchmarkTTYScreen(b *testing.B) {
	tt := newTTYTerm(func() {})
	defer tt.term.Close()
	for i := range 24 {
		_, _ = tt.term.Write(fmt.Appendf(nil, "\x1b[3%dmline %d\x1b[0m of some text on the screen\r\n", i%8, i))
	}
	for _, mode := range []string{"same", "changed"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if mode == "changed" {
					tt.ver.Add(1)
				}
				_ = tt.screen()
			}
		})
	}
}

// BenchmarkTTYKeysUnderFlood measures a key's way through a tty unit whose
// child floods its terminal: from Keys (encoded, queued, written to the
// PTY) through the child, which echoes the line it read, back through the
// PTY's backlog of flood and the emulator, to the echo scrolling off the
// screen (24 rows of flood later, well under a millisecond at this rate).
// It reports the p50 and p99 latency in ms: the engine's part of "keys to
// a frame" (the pane's draw comes on top).
func BenchmarkTTYKeysUnderFlood(b *testing.B) {
	p, proc, err := vterm.Start([]string{"sh", "-c", `yes "$(printf '%079d' 0)" & while read -r l; do echo "KEY:$l"; done`}, nil, "", 80, 24)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		killSession(proc.Pid)
		_, _ = proc.Wait()
	}()
	tt := newTTYTerm(func() {})
	defer tt.term.Close()
	gen, _, _ := tt.beginRun(p, true)
	seen := make(chan string, 64)
	var fed atomic.Int64
	go func() {
		defer p.Close()
		buf := make([]byte, ttyReadSize)
		var lines []byte
		for {
			n, err := p.Read(buf)
			if err != nil {
				return
			}
			fed.Add(int64(n))
			lines, _ = tt.feed(gen, buf[:n], lines[:0])
			for len(lines) > 0 {
				i := bytes.IndexByte(lines, '\n')
				if l := lines[:i]; bytes.HasPrefix(l, []byte("KEY:")) {
					seen <- string(l[4:])
				}
				lines = lines[i+1:]
			}
		}
	}()
	var lat []time.Duration
	t0, f0 := time.Now(), fed.Load()
	for i := 0; b.Loop(); i++ {
		want := strconv.Itoa(i)
		start := time.Now()
		if err := tt.term.Key(vterm.Key{Code: vterm.KeyRune, Text: want + "\r"}); !err {
			b.Fatal("input queue full")
		}
		for got := ""; got != want; {
			select {
			case got = <-seen:
			case <-time.After(10 * time.Second):
				b.Fatalf("key %d never came back", i)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(fed.Load()-f0)/time.Since(t0).Seconds()/1e6, "flood-MB/s")
}
