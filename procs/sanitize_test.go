package procs

import (
	"strings"
	"testing"
	"time"
)

func TestSanitise(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello world", "hello world"},
		{"tab kept", "a\tb", "a\tb"},
		{"colour kept", "\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m"},
		{"256 colour kept", "\x1b[38;5;208mo\x1b[m", "\x1b[38;5;208mo\x1b[m"},
		{"cursor move dropped", "a\x1b[2Jb\x1b[10;5Hc", "abc"},
		{"private mode dropped", "\x1b[?1049hx\x1b[?25l", "x"},
		{"osc title dropped", "\x1b]0;pwned\x07text", "text"},
		{"osc with ST dropped", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"carriage return keeps the last state", "10%\r50%\r100%", "100%"},
		{"crlf", "line\r", "line"},
		{"backspace", "abd\bc", "abc"},
		{"bell and nul dropped", "a\x07b\x00c", "abc"},
		{"del dropped", "a\x7fb", "ab"},
		{"lone escape at end", "abc\x1b", "abc"},
		{"charset selection dropped", "\x1b(Bok", "ok"},
		{"sgr with colon params kept", "\x1b[4:3mx", "\x1b[4:3mx"},
		{"utf8 untouched", "héllo ✓ 注文", "héllo ✓ 注文"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var got string
			if plain(in) {
				got = tt.in
			} else {
				got = string(sanitise(nil, in))
			}
			if got != tt.want {
				t.Fatalf("sanitise(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPlainAgreesWithSlowPath(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 20; pos++ {
			b := []byte(strings.Repeat("x", 20))
			b[pos] = byte(c)
			want := plainSlow(b)
			if got := plain(b); got != want {
				t.Fatalf("plain(byte %#x at %d) = %v, want %v", c, pos, got, want)
			}
		}
	}
}

func TestRingEvictsWholeChunksAndCountsMissed(t *testing.T) {
	r := newRing(64 << 10)
	line := []byte(strings.Repeat("z", 100))
	for i := 0; i < 10000; i++ {
		r.Append(time.Time{}, Stdout, line)
	}
	if r.used > r.limit {
		t.Fatalf("used %d > limit %d", r.used, r.limit)
	}
	lines, missed := r.Since(0, 5)
	if missed == 0 || len(lines) != 5 || lines[0].Seq != missed+1 {
		t.Fatalf("missed %d, first seq %d", missed, lines[0].Seq)
	}
	tail := r.Tail(3)
	if len(tail) != 3 || tail[2].Seq != 10000 {
		t.Fatalf("tail %+v", tail)
	}
}

func TestAppendSinceMatchesSince(t *testing.T) {
	r := newRing(64 << 10)
	for i := 0; i < 3000; i++ {
		r.Append(time.Unix(0, int64(i)), Stream(i%2), []byte(strings.Repeat("q", i%50)))
	}
	lines, missed := r.Since(10, 500)
	buf, recs, missed2 := r.appendSince(10, 500, nil, nil)
	if missed != missed2 || len(lines) != len(recs) {
		t.Fatalf("missed %d/%d, %d/%d lines", missed, missed2, len(lines), len(recs))
	}
	for i, l := range lines {
		rl := recs[i]
		if rl.Seq != l.Seq || rl.Stream != l.Stream || string(buf[rl.Off:rl.Off+rl.Len]) != l.Text || rl.Time != l.Time.UnixNano() {
			t.Fatalf("line %d: %+v vs %+v", i, rl, l)
		}
	}
}
