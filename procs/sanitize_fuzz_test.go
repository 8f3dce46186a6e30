package procs

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// validDisplay is the sanitiser's invariant, checked independently of its
// code: b is valid UTF-8 made of printable runes and tabs (no other C0
// control, no DEL, no C1 control U+0080..U+009F, no bidi embedding, override
// or isolate) and complete SGR sequences ESC [ [0-9;:]{0,maxSGR} m.
func validDisplay(b []byte) bool {
	return displayError(b) == ""
}

// displayError says what breaks the invariant in b, or "" when nothing does.
func displayError(b []byte) string {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == 0x1b:
			if i+1 >= len(b) || b[i+1] != '[' {
				return fmt.Sprintf("bare ESC at %d", i)
			}
			j := i + 2
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';' || b[j] == ':') {
				j++
			}
			if j >= len(b) || b[j] != 'm' {
				return fmt.Sprintf("escape at %d is not a complete SGR", i)
			}
			if j-(i+2) > maxSGR {
				return fmt.Sprintf("SGR at %d has %d parameter bytes", i, j-(i+2))
			}
			i = j + 1
		case c == '\t' || c >= 0x20 && c < 0x7f:
			i++
		case c < 0x80:
			return fmt.Sprintf("control %#x at %d", c, i)
		default:
			r, n := utf8.DecodeRune(b[i:])
			switch {
			case n == 1:
				return fmt.Sprintf("invalid UTF-8 %#x at %d", c, i)
			case r >= 0x80 && r <= 0x9f:
				return fmt.Sprintf("C1 control %U at %d", r, i)
			case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
				return fmt.Sprintf("bidi control %U at %d", r, i)
			}
			i += n
		}
	}
	return ""
}

// sanitiseAttacks seeds the fuzzer and the table test alike.
var sanitiseAttacks = []string{
	"\x1b]52;c;cm0gLXJmIH4K\x07",
	"\x1b]0;pwned\x07",
	"\x1b[2J\x1b[H",
	"\u009b2J\u009d0;pwned\u0007",
	"\x9b2J\x9d0;x\x9c",
	"\x1b[31m\b\b[2J",
	"\x1b[31m\b\b\b\b[2J",
	"\x1bP1$qm\x1b\\\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\",
	"\x1b]0;a\x1b[2Jb\x07c",
	"x\x1b]0;never terminated",
	"\x1b[" + string(bytes.Repeat([]byte("1;"), 200)) + "m",
	"abc\x1b",
	"abc\x1b[3",
	"a\u202eb\u2066c\u2069",
	"\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf",
	"é\b\b\bx\r\x1b[1m\by",
}

func FuzzSanitise(f *testing.F) {
	for _, s := range sanitiseAttacks {
		f.Add([]byte(s), []byte{3, 1, 7}, uint8(5))
	}
	f.Add([]byte("héllo ✓ 注文 👩‍👩‍👧\tok"), []byte{1, 2}, uint8(2))
	f.Fuzz(func(t *testing.T, data, splits []byte, maxLine uint8) {
		out := sanitise(nil, data)
		if e := displayError(out); e != "" {
			t.Fatalf("sanitise(%q) = %q: %s", data, out, e)
		}
		if again := sanitise(nil, out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", data, out, again)
		}
		if plain(data) && !bytes.Equal(out, data) {
			t.Fatalf("plain(%q) but sanitise changes it to %q", data, out)
		}
		if plain(data) != (bytes.IndexByte(data, 0x1b) < 0 && validDisplay(data)) {
			t.Fatalf("plain(%q) = %v disagrees with the invariant", data, plain(data))
		}
		if c := Clean(string(data)); c != string(out) {
			t.Fatalf("Clean(%q) = %q, sanitise gives %q", data, c, out)
		}
		checkPumped(t, data, splits, int(maxLine%32)+1)
	})
}

// checkPumped feeds data through a real pump in reads sized by splits (each
// byte a read length) with a small line limit, so that reads, cuts and line
// ends fall anywhere, and checks every stored line and their concatenation.
func checkPumped(t *testing.T, data, splits []byte, maxLine int) {
	t.Helper()
	// A ring big enough for every piece: sanitising at most triples a byte
	// (U+FFFD), and each stored piece costs recOverhead. The smallest ring
	// that holds them keeps an iteration cheap.
	r := newRing(max(64<<10, 2*(3*len(data)+(len(data)+1)*recOverhead)))
	p := newPump(r, Stdout, maxLine, nil)
	now := time.Unix(1, 0)
	rest := data
	for k := 0; len(rest) > 0; k++ {
		n := len(rest)
		if len(splits) > 0 {
			n = min(n, int(splits[k%len(splits)])+1)
		}
		p.feed(rest[:n], now, false)
		rest = rest[n:]
	}
	p.feed(nil, now, true)
	lines, missed := r.Since(0, 1<<30)
	if missed != 0 {
		t.Fatalf("missed %d lines", missed)
	}
	var all []byte
	for _, l := range lines {
		if e := displayError([]byte(l.Text)); e != "" {
			t.Fatalf("pumped %q (maxLine %d): line %d %q: %s", data, maxLine, l.Seq, l.Text, e)
		}
		all = append(all, l.Text...)
	}
	if e := displayError(all); e != "" {
		t.Fatalf("pumped %q: concatenation %q: %s", data, all, e)
	}
}

func TestSanitiseAttacksHoldTheInvariant(t *testing.T) {
	for _, s := range sanitiseAttacks {
		out := sanitise(nil, []byte(s))
		if e := displayError(out); e != "" {
			t.Errorf("sanitise(%q) = %q: %s", s, out, e)
		}
		if c := Clean(s); !validDisplay([]byte(c)) {
			t.Errorf("Clean(%q) = %q breaks the invariant", s, c)
		}
		for maxLine := 1; maxLine <= 9; maxLine += 4 {
			checkPumped(t, []byte(s+"\n"+s), []byte{2, 5, 1}, maxLine)
		}
	}
}

// TestStorePieceCutsExpandedTextSafely: a line of invalid bytes triples in
// size when sanitised; what the ring stores must still be cut between runes.
func TestStorePieceCutsExpandedTextSafely(t *testing.T) {
	r := newRing(1 << 20)
	p := newPump(r, Stdout, 10, nil)
	p.feed([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x1b[1;2;3m\xff\n"), time.Unix(1, 0), false)
	lines, _ := r.Since(0, 100)
	var all string
	for _, l := range lines {
		if e := displayError([]byte(l.Text)); e != "" {
			t.Fatalf("line %q: %s", l.Text, e)
		}
		text := strings.TrimSuffix(l.Text, cutMarker)
		if len(text) > 10 {
			t.Fatalf("line %q longer than the limit", text)
		}
		all += text
	}
	if want := string(bytes.Repeat([]byte("\uFFFD"), 10)) + "\x1b[1;2;3m\uFFFD"; all != want {
		t.Fatalf("stored %q, want %q", all, want)
	}
}

func TestCutText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want int
	}{
		{"abcdef", 3, 3},
		{"a✓b", 2, 1},                // inside the 3-byte rune: before it
		{"ab\x1b[31mc", 5, 2},        // inside the SGR: before it
		{"ab\x1b[31mc", 7, 7},        // right after it
		{"\x1b[31mc", 2, 5},          // no boundary before n: past the first sequence
		{"✓x", 1, 3},                 // likewise past the first rune
		{"x\x1b[1m\x1b[2my", 6, 5},   // between two sequences
		{"x\x1b[1m\x1b[2my", 7, 5},   // inside the second
		{"\uFFFD\uFFFD\uFFFD", 7, 6}, // replacement characters
	} {
		if got := cutText([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("cutText(%q, %d) = %d, want %d", tt.in, tt.n, got, tt.want)
		}
	}
}
