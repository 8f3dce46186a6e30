package vterm

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/charmbracelet/x/vt"
)

// logFlood is n bytes of scrolling log output, coloured like a service's,
// lines of about 80 columns.
func logFlood(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "\x1b[32m03:57:45.%03d\x1b[m \x1b[1mINFO\x1b[m request id=%06d path=/api/v1/items status=200 dur=%dms\r\n", i%1000, i, i%97)
	}
	return b.Bytes()[:n]
}

// BenchmarkFeedTerm: 1 MB of scrolling output through Term (scrollback
// kept as SGR strings, lines handed to OnLine).
func BenchmarkFeedTerm(b *testing.B) {
	data := logFlood(1 << 20)
	term := New(Options{OnLine: func(string) {}})
	defer term.Close()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		term.Write(data)
	}
}

// BenchmarkFeedVTBare: the same 1 MB into a bare x/vt emulator (its own
// 10,000-line cell scrollback), in the same run for comparison.
func BenchmarkFeedVTBare(b *testing.B) {
	data := logFlood(1 << 20)
	e := vt.NewEmulator(80, 24)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		e.Write(data)
	}
}

// BenchmarkSnapshot: drawing a full, coloured 80x24 screen.
func BenchmarkSnapshot(b *testing.B) {
	term := New(Options{})
	defer term.Close()
	term.Write(logFlood(8 << 10))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = term.Snapshot()
	}
}

// heapAfter runs f and returns how much the live heap grew, keeping
// keep alive past the measurement.
func heapGrowth(f func() any) (uint64, any) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	keep := f()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if m1.HeapAlloc < m0.HeapAlloc {
		return 0, keep
	}
	return m1.HeapAlloc - m0.HeapAlloc, keep
}

// BenchmarkMemVTBareScrollback reports the heap of a bare x/vt emulator
// whose 10,000-line scrollback is full of 80-column coloured lines.
func BenchmarkMemVTBareScrollback(b *testing.B) {
	data := logFlood(2 << 20) // > 20,000 lines
	for range b.N {
		grown, keep := heapGrowth(func() any {
			e := vt.NewEmulator(80, 24)
			e.Write(data)
			return e
		})
		runtime.KeepAlive(keep)
		b.ReportMetric(float64(grown)/(1<<20), "MiB")
	}
}

// A Term with a full scrollback of 80-column coloured lines stays under
// 10 MiB of heap in all (emulator, screens, scrollback). Feeding the
// emulator enough to fill the default cap takes seconds under -race, so a
// real feed fills part of it and rendered lines of that feed fill the rest.
func TestTermMemoryFullScrollback(t *testing.T) {
	data := logFlood(256 << 10)
	var term *Term
	grown, _ := heapGrowth(func() any {
		term = New(Options{Cols: 80, Rows: 24})
		term.Write(data)
		fed := term.ScrollbackLines(nil, 0, term.ScrollbackLen())
		term.mu.Lock()
		for i := 0; term.hist.total < 8*int64(len(fed)) || term.hist.used < term.hist.limit-200; i++ {
			term.hist.push(string([]byte(fed[i%len(fed)]))) // a fresh copy, as drainLocked makes
		}
		term.mu.Unlock()
		return nil
	})
	defer term.Close()
	if !term.smallParser {
		t.Fatal("the parser's 4 MiB buffer could not be shrunk (x/vt changed)")
	}
	n := term.ScrollbackLen()
	t.Logf("heap of a Term with a full scrollback: %.2f MiB, %d lines kept", float64(grown)/(1<<20), n)
	if n < 45000 {
		t.Fatalf("only %d lines kept", n)
	}
	if grown < DefaultScrollbackBytes/2 || grown > 10<<20 {
		t.Fatalf("a Term with a full scrollback holds %.1f MiB, want 3-10 MiB", float64(grown)/(1<<20))
	}
}

// floodArgv prints 1 MiB of 80-column lines and exits.
var floodArgv = []string{"sh", "-c", `yes "03:57:45.123 INFO request id=000042 path=/api/v1/items status=200 dur=12ms ok" | head -c 1048576`}

// BenchmarkFloodPTYTerm: a child flooding 1 MiB on a PTY, read and fed to
// a Term until it exits: the tty unit's throughput end to end.
func BenchmarkFloodPTYTerm(b *testing.B) {
	b.SetBytes(1 << 20)
	for range b.N {
		p, proc, err := Start(floodArgv, nil, "", 80, 24)
		if err != nil {
			b.Fatal(err)
		}
		term := New(Options{Reply: p, OnLine: func(string) {}})
		if _, err := term.ReadFrom(p); err != nil {
			b.Fatal(err)
		}
		proc.Wait()
		p.Close()
		term.Close()
	}
}

// BenchmarkFloodPipe: the same child on a pipe, read and dropped: the
// ceiling a pipe unit has, in the same run.
func BenchmarkFloodPipe(b *testing.B) {
	b.SetBytes(1 << 20)
	buf := make([]byte, 32<<10)
	for range b.N {
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		proc, err := os.StartProcess("/bin/sh", floodArgv, &os.ProcAttr{Files: []*os.File{nil, w, w}})
		w.Close()
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
		r.Close()
		proc.Wait()
	}
}
