package logfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// BenchmarkLine is the per-line cost of a log file: 100-byte lines, a
// millisecond apart at most (as a flooding unit's are), formatted by the
// caller (as a unit's reader does) and written to a real file by the
// Writer's thread; the caller waits when the backlog is full, as a pump does.
func BenchmarkLine(b *testing.B) {
	for _, tc := range []struct {
		name  string
		text  []byte
		plain bool
	}{
		{"plain", bytes.Repeat([]byte("x"), 100), true},
		{"colour", append([]byte("\x1b[31mred\x1b[0m "), bytes.Repeat([]byte("x"), 88)...), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// Rotated at 64 MiB, one kept: the disk holds little whatever b.N.
			w := newWriter(Options{Dir: b.TempDir(), MaxSize: 64 << 20, MaxFiles: 1}.withDefaults())
			var mu sync.Mutex
			u := tap{w}.Unit("u", &mu)
			t0 := time.Now().UnixNano()
			b.SetBytes(int64(len(tc.text)))
			i := 0
			for b.Loop() {
				mu.Lock()
				if u.Full() {
					mu.Unlock()
					u.Wait()
					mu.Lock()
				}
				u.Line(t0+int64(i)*200, procs.Stdout, tc.text, tc.plain)
				mu.Unlock()
				i++
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
	// "runs": the same plain lines given as a pump gives a flood's, 64 KiB
	// of whole lines a call (Lines); per line, beside "plain" above.
	b.Run("runs", func(b *testing.B) {
		w := newWriter(Options{Dir: b.TempDir(), MaxSize: 64 << 20, MaxFiles: 1}.withDefaults())
		var mu sync.Mutex
		u := tap{w}.Unit("u", &mu)
		const per = 648
		run := bytes.Repeat(append(bytes.Repeat([]byte("x"), 100), '\n'), per)
		t0 := time.Now().UnixNano()
		b.SetBytes(100)
		i := 0
		for b.Loop() {
			if i%per == 0 {
				feedRun(&mu, u, t0+int64(i)*200, run)
			}
			i++
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	})
}

// TestAppendPlain: colour codes go, everything else stays, byte for byte.
func TestAppendPlain(t *testing.T) {
	for in, want := range map[string]string{
		"":                                  "",
		"plain text":                        "plain text",
		"\x1b[31mred\x1b[0m and \x1b[1;4mx": "red and x",
		"a\x1bb":                            "a\x1bb",
		"end\x1b":                           "end\x1b",
		"cut \x1b[31":                       "cut ",
		"\x1b[m\x1b[mz":                     "z",
	} {
		if got := string(appendPlain([]byte("> "), []byte(in))); got != "> "+want {
			t.Errorf("appendPlain(%q) = %q, want %q", in, got, "> "+want)
		}
	}
}

// BenchmarkReadTail is `kelpie logs NAME -n 100` from a 64 MiB log file
// when no kelpie runs.
func BenchmarkReadTail(b *testing.B) {
	dir := b.TempDir()
	line := []byte("2026-12-02T09:00:00.000Z stdout " + strings.Repeat("y", 100) + "\n")
	f, err := os.Create(filepath.Join(dir, "u.log"))
	if err != nil {
		b.Fatal(err)
	}
	block := bytes.Repeat(line, (1<<20)/len(line))
	for range 64 {
		if _, err := f.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	f.Close()
	for b.Loop() {
		if lines, err := Read(dir, "u", 100); err != nil || len(lines) != 100 {
			b.Fatal(len(lines), err)
		}
	}
}
