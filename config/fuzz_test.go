package config

import (
	"errors"
	"testing"
)

// FuzzParseYAML feeds arbitrary bytes to the kelpie.yaml parser: it must not
// panic, and every problem it reports must point inside the file.
func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{
		"processes:\n  web:\n    run: x\n   restart: always\n",
		"processes:\n  web:\n\trun: x\n",
		"processes:\n  web:\n    run: [x\n",
		"processes:\n  web:\n    run: {a: x\n",
		"processes:\n  web:\n    run: \"x\n",
		"processes: a: b\n",
		"processes:\n  web: {run: x, log_buffer: 2GiB}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("kelpie.yaml", data)
		var es Errors
		if err == nil || !errors.As(err, &es) {
			return
		}
		// The last column of each line, lines counted as YAML counts them.
		last := map[int]int{}
		for off := 0; off <= len(data); off++ {
			l, c := position(data, off)
			last[l] = max(last[l], c)
		}
		for _, e := range es {
			if e.Line < 1 || last[e.Line] == 0 {
				t.Fatalf("%v: line outside the file", e)
			}
			if e.Col < 0 || e.Col > last[e.Line] {
				t.Fatalf("%v: column beyond the end of line %d (%d)", e, e.Line, last[e.Line])
			}
		}
	})
}
