package logfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// BenchmarkLine is the per-line cost of a log file: 100-byte lines, a
// millisecond apart at most (as a flooding unit's are), into a real file.
func BenchmarkLine(b *testing.B) {
	for _, tc := range []struct {
		name string
		text []byte
	}{
		{"plain", bytes.Repeat([]byte("x"), 100)},
		{"colour", append([]byte("\x1b[31mred\x1b[0m "), bytes.Repeat([]byte("x"), 88)...)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := &file{path: filepath.Join(b.TempDir(), "u.log"), opts: Options{MaxSize: 1 << 40, MaxFiles: 1}}
			t0 := time.Now().UnixNano()
			b.SetBytes(int64(len(tc.text)))
			i := 0
			for b.Loop() {
				if err := f.line(t0+int64(i)*200, procs.Stdout, tc.text, true); err != nil {
					b.Fatal(err)
				}
				i++
			}
			_ = f.close()
			_ = os.Remove(f.path)
		})
	}
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

// BenchmarkWriteBatch is the log writer's cost for one cursor batch of a
// flooding unit: 4,096 lines of 100 bytes (about a followChunk), formatted
// and written to a real file, per line.
func BenchmarkWriteBatch(b *testing.B) {
	const n = 4096
	var rb procs.RawBatch
	t0 := time.Now().UnixNano()
	text := bytes.Repeat([]byte("y"), 100)
	for i := range n {
		rb.Lines = append(rb.Lines, procs.RawLine{Seq: uint64(i + 1), Time: t0 + int64(i)*200, Stream: procs.Stdout, Off: len(rb.Buf), Len: len(text)})
		rb.Buf = append(rb.Buf, text...)
	}
	u := procs.RawOutput{Unit: "flood", Lines: rb.Lines}
	w := &Writer{opts: Options{Dir: b.TempDir(), MaxSize: 1 << 40, MaxFiles: 1}.withDefaults(), files: map[string]*file{}}
	b.SetBytes(int64(n * len(text)))
	for b.Loop() {
		w.write(u, rb.Buf)
		for e := w.open.Front(); e != nil; e = e.Next() {
			if err := e.Value.(*file).flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
	for w.open.Len() > 0 {
		w.shut(w.open.Back().Value.(*file))
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
