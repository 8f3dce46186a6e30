package logfile

import (
	"bytes"
	"os"
	"path/filepath"
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
