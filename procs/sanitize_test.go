package procs

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
		{"zwj emoji and bom kept", "👩‍👩‍👧\ufeff", "👩‍👩‍👧\ufeff"},
		// Attacks: each would reach the terminal as a command.
		{"osc 52 clipboard write", "a\x1b]52;c;cm0gLXJmIH4K\x07b", "ab"},
		{"osc 52 with ST", "a\x1b]52;c;cm0gLXJmIH4K\x1b\\b", "ab"},
		{"window title", "\x1b]0;pwned\x07x", "x"},
		{"clear screen", "a\x1b[2Jb\x1b[3J", "ab"},
		{"C1 CSI as UTF-8", "a\u009b2Jb", "a2Jb"},
		{"C1 OSC as UTF-8", "\u009d0;t\u009cx", "0;tx"},
		{"every C1 as UTF-8", "\u0080\u0085\u008d\u0090\u009f.", "."},
		{"raw 8-bit CSI", "a\x9b2J", "a\ufffd2J"},
		{"raw 8-bit OSC and ST", "\x9d0;t\x9c", "\ufffd0;t\ufffd"},
		{"invalid UTF-8", "\xff\xc0\xaf\xe2\x82", "\ufffd\ufffd\ufffd\ufffd\ufffd"},
		{"surrogate", "\xed\xa0\x80", "\ufffd\ufffd\ufffd"},
		{"backspace cannot eat a colour", "\x1b[31m\b\b[2J", "\x1b[31m[2J"},
		{"backspace cannot eat a colour 2", "x\x1b[31m\b\b\b\b[2J", "x\x1b[31m[2J"},
		{"backspace after a colour", "ab\x1b[1m\bc", "ab\x1b[1mc"},
		{"backspace removes a whole rune", "a✓\bb", "ab"},
		{"backspace stops at a rewind", "ab\rc\b\bd", "d"},
		{"dcs", "\x1bP1$qm\x1b\\x", "x"},
		{"apc", "\x1b_Gf=100;AAAA\x1b\\x", "x"},
		{"pm", "\x1b^secret\x1b\\x", "x"},
		{"sos", "\x1bXsos\x07x", "x"},
		{"string cancelled by CAN", "\x1b]0;t\x18x", "x"},
		{"nested escape ends an osc", "\x1b]0;a\x1b[2Jb\x07c", "bc"},
		{"nested colour after an osc", "\x1b]0;a\x1b[31mb\x07", "\x1b[31mb"},
		{"unterminated osc", "x\x1b]0;never terminated", "x"},
		{"sgr at the cap kept", "\x1b[" + strings.Repeat("1;", maxSGR/2) + "mx", "\x1b[" + strings.Repeat("1;", maxSGR/2) + "mx"},
		{"sgr over the cap dropped", "\x1b[" + strings.Repeat("1;", 200) + "mx", "x"},
		{"sgr with intermediate dropped", "\x1b[1 mx", "x"},
		{"modifyOtherKeys is not sgr", "\x1b[>4;2mx", "x"},
		{"escape at end", "abc\x1b", "abc"},
		{"csi cut at end", "abc\x1b[31", "abc"},
		{"escape escape", "\x1b\x1b[31mx", "\x1b[31mx"},
		{"malformed csi keeps what follows", "\x1b[31\x07mx", "mx"},
		{"nF with two intermediates", "\x1b%/Gx", "x"},
		{"bidi overrides and isolates dropped", "a\u202eb\u2066c\u2069\u202a", "abc"},
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
			if c := Clean(tt.in); c != tt.want {
				t.Fatalf("Clean(%q) = %q, want %q", tt.in, c, tt.want)
			}
			if e := displayError([]byte(got)); e != "" {
				t.Fatalf("sanitise(%q) = %q: %s", tt.in, got, e)
			}
		})
	}
}

// TestPlainAgreesWithSlowPath: plain (the fast path) must say yes exactly when
// the text has no escape and already holds the invariant, whatever the byte
// or rune and wherever it sits relative to the eight-byte words.
func TestPlainAgreesWithSlowPath(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		want := bytes.IndexByte(b, 0x1b) < 0 && validDisplay(b)
		if got := plain(b); got != want {
			t.Fatalf("plain(%q) = %v, want %v", b, got, want)
		}
		if want && string(sanitise(nil, b)) != string(b) {
			t.Fatalf("plain(%q) but sanitise changes it", b)
		}
	}
	var pieces [][]byte
	for c := 0; c < 256; c++ {
		pieces = append(pieces, []byte{byte(c)})
	}
	for _, r := range []rune{0x80, 0x9b, 0x9f, 0xa0, 0x7ff, 0x800, 0x202a, 0x202e, 0x202f, 0x2065, 0x2066, 0x2069, 0x206a, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff} {
		pieces = append(pieces, []byte(string(r)))
	}
	pieces = append(pieces, []byte("\xc2"), []byte("\xe2\x80"), []byte("\xed\xa0\x80"), []byte("\xf4\x90\x80\x80"), []byte("\xc0\x80"))
	for _, piece := range pieces {
		for pos := 0; pos < 20; pos++ {
			for _, tail := range []int{0, 1, 9} {
				check([]byte(strings.Repeat("x", pos) + string(piece) + strings.Repeat("y", tail)))
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

// TestTextRuneAgreesWithDecodeRune: the unrolled decoder of the fast path
// accepts exactly the valid, printable sequences.
func TestTextRuneAgreesWithDecodeRune(t *testing.T) {
	check := func(b []byte) {
		r, n := utf8.DecodeRune(b)
		want := 0
		if n > 1 && printableRune(r) {
			want = n
		}
		if got := textRune(b); got != want {
			t.Fatalf("textRune(% x) = %d, want %d", b, got, want)
		}
		if got := plain(b); got != (bytes.IndexByte(b, 0x1b) < 0 && validDisplay(b)) {
			t.Fatalf("plain(% x) = %v", b, got)
		}
	}
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		check(utf8.AppendRune(nil, r))
	}
	tails := []byte{0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xa6, 0xa9, 0xaa, 0xae, 0xaf, 0xbf, 0xc0, 0xff}
	for b0 := 0x80; b0 < 0x100; b0++ {
		check([]byte{byte(b0)})
		for b1 := 0; b1 < 0x100; b1++ {
			check([]byte{byte(b0), byte(b1)})
			for _, b2 := range tails {
				check([]byte{byte(b0), byte(b1), b2})
				for _, b3 := range tails[2:5] {
					check([]byte{byte(b0), byte(b1), b2, b3})
				}
			}
		}
	}
}

// TestCleanPlainDoesNotCopy: Clean runs wherever outside text is shown, often
// on every frame; text that needs no change must cost no allocation.
func TestCleanPlainDoesNotCopy(t *testing.T) {
	s := strings.Repeat("héllo wörld ✓ 注文\t", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Clean(s) }); n != 0 {
		t.Fatalf("Clean of plain text: %v allocations", n)
	}
}

// TestPlainEveryPosition: one odd byte anywhere in a long ASCII line (in
// the 32-byte fast path, the word loop or the tail) is seen as plain's
// reference says.
func TestPlainEveryPosition(t *testing.T) {
	odd := []string{"\x00", "\x07", "\x08", "\n", "\x1b", "\x1f", "\x7f", "\x80", "\xc2\x85", "\xe2\x80\xae", "\xff", "\t", "é", "€", "~", " "}
	for n := 1; n <= 80; n += 7 {
		for p := 0; p < n; p++ {
			for _, o := range odd {
				b := []byte(strings.Repeat("a", p) + o + strings.Repeat("z", n-p))
				want := bytes.IndexByte(b, 0x1b) < 0 && validDisplay(b)
				if got := plain(b); got != want {
					t.Fatalf("plain(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}

// plainBlockRef is plainBlock's rule, byte by byte.
func plainBlockRef(b []byte) bool {
	for _, c := range b {
		if !(c >= 0x20 && c < 0x7f || c == '\t' || c == '\n') {
			return false
		}
	}
	return true
}

// plainBlock, through the assembly and through the portable words alike,
// says yes exactly when every byte is printable ASCII, a tab or a newline:
// checked against the byte-by-byte rule for every byte value at every
// position, and for blocks of every length.
func TestPlainBlock(t *testing.T) {
	swar := func(b []byte) bool {
		n := len(b) &^ 15
		return plainBlockSWAR(b[:n]) && plainBlockRef(b[n:])
	}
	base := []byte(strings.Repeat("GET /x 200\tok\n", 10)) // 140 bytes
	for name, f := range map[string]func([]byte) bool{"plainBlock": plainBlock, "swar": swar} {
		for pos := 0; pos < 70; pos++ {
			for c := 0; c < 256; c++ {
				b := slices.Clone(base[:pos+1+pos%37])
				b[pos] = byte(c)
				if got, want := f(b), plainBlockRef(b); got != want {
					t.Fatalf("%s with %#x at %d of %d: %v, want %v", name, c, pos, len(b), got, want)
				}
			}
		}
		for n := range len(base) {
			if !f(base[:n]) {
				t.Fatalf("%s of %q: false", name, base[:n])
			}
		}
		// A bad byte far into a long block (past the early exit's checks).
		long := bytes.Repeat(base, 100)
		long[len(long)-3] = 0x1b
		if f(long) {
			t.Fatalf("%s: ESC near the end of 14,000 bytes not seen", name)
		}
	}
}

// FuzzPlainBlock: the assembly, the portable words and the rule agree on
// any input, and plainLines marks a plain input's newlines.
func FuzzPlainBlock(f *testing.F) {
	f.Add([]byte("GET /x 200\tok\nGET /y 404\tno\n"))
	f.Add([]byte("\x7f\x80\x1b[31m\x00\x09\x0a\x0b\x1f\x20\x7e\xff0123456789"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := len(b) &^ 15
		want := plainBlockRef(b[:n])
		if got := plainBlock16(b[:n]); got != want {
			t.Fatalf("plainBlock16(%q) = %v, want %v", b[:n], got, want)
		}
		if got := plainBlockSWAR(b[:n]); got != want {
			t.Fatalf("plainBlockSWAR(%q) = %v, want %v", b[:n], got, want)
		}
		if got := plainBlock(b); got != plainBlockRef(b) {
			t.Fatalf("plainBlock(%q) = %v", b, got)
		}
		got, nl := plainLines(b, nil)
		if got != plainBlockRef(b) {
			t.Fatalf("plainLines(%q) = %v", b, got)
		}
		for i := 0; got && nl != nil && i < len(b); i++ {
			if bit := nl[i/64]>>(i%64)&1 == 1; bit != (b[i] == '\n') {
				t.Fatalf("plainLines(%q) marks byte %d %v", b, i, bit)
			}
		}
	})
}
