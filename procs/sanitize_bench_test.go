package procs

import (
	"testing"
)

// The sanitiser before issue 7 (commit b0a3fd0), kept as the benchmark's
// baseline: it let C1 controls and invalid UTF-8 through, so its plain never
// looked at a byte >= 0x80.

// oldPlain reports whether b holds no byte that sanitise would change: nothing
// below 0x20 except tab, and no DEL. It checks eight bytes at a time because it
// runs on every line a child prints.
func oldPlain(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		// A byte below 0x20 or equal to 0x7f sets its high bit in one of these
		// (the classic "has less than" / "has zero byte" tricks); bytes >= 0x80
		// are excluded by &^x.
		below := (x - lo7*0x20) &^ x & hi7
		del := ((x ^ lo7*0x7f) - lo7) &^ (x ^ lo7*0x7f) & hi7
		if below|del != 0 {
			return oldPlainSlow(b[i:])
		}
	}
	return oldPlainSlow(b[i:])
}

func oldPlainSlow(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// oldSanitise appends the displayable form of line (no trailing newline) to dst.
func oldSanitise(dst, line []byte) []byte {
	start := len(dst)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == 0x1b:
			i = oldEscape(&dst, line, i)
		case c == '\r':
			// "\r\n" is a plain line end; a bare CR rewinds to the line start.
			if i+1 < len(line) {
				dst = dst[:start]
			}
		case c == '\b':
			if len(dst) > start {
				dst = dst[:len(dst)-1]
			}
		case c == '\t':
			dst = append(dst, c)
		case c < 0x20 || c == 0x7f:
			// other controls (BEL, form feed, ...) are dropped
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// oldEscape handles the escape sequence starting at line[i] (an ESC), keeping it
// in *dst only when it is an SGR sequence. It returns the index of the
// sequence's last byte.
func oldEscape(dst *[]byte, line []byte, i int) int {
	if i+1 >= len(line) {
		return i
	}
	switch line[i+1] {
	case '[': // CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e
		j := i + 2
		for j < len(line) && line[j] >= 0x20 && line[j] <= 0x3f {
			j++
		}
		if j >= len(line) {
			return len(line) - 1
		}
		if line[j] == 'm' && onlySGRParams(line[i+2:j]) {
			*dst = append(*dst, line[i:j+1]...)
		}
		if line[j] < 0x40 || line[j] > 0x7e {
			return j - 1 // malformed: drop the introducer, keep what follows
		}
		return j
	case ']', 'P', '_', '^', 'X': // OSC, DCS, APC, PM, SOS: strings up to BEL or ST
		for j := i + 2; j < len(line); j++ {
			if line[j] == 0x07 {
				return j
			}
			if line[j] == 0x1b && j+1 < len(line) && line[j+1] == '\\' {
				return j + 1
			}
		}
		return len(line) - 1
	default: // two-byte sequences (ESC 7, ESC c, ...) and charset selections
		if line[i+1] >= 0x20 && line[i+1] <= 0x2f && i+2 < len(line) {
			return i + 2
		}
		return i + 1
	}
}

// benchLines are typical log lines of about 100 bytes.
var benchLines = []struct{ name, line string }{
	{"ascii", "2026-12-02T01:00:00.123Z INFO request handled path=/api/v1/items status=200 dur=1.23ms bytes=5120"},
	{"tabs", "2026-12-02T01:00:00.123Z\tINFO\trequest handled\tpath=/api/v1/items\tstatus=200\tdur=1.23ms"},
	{"latin", "2026-12-02 INFO Größe geändert: façade réglée, naïve café — übermäßig schön, señor ✓ fertig"},
	{"cjk", "2026-12-02 INFO 注文を処理しました。顧客番号は一二三四五、合計金額は九千八百円です。"},
	{"sgr", "\x1b[32m2026-12-02T01:00:00.123Z\x1b[0m \x1b[1;34mINFO\x1b[0m request handled path=/api/v1/items"},
}

// BenchmarkSanitise measures what storePiece does to a line (the plain check,
// and sanitise when it fails) with the old and the new sanitiser.
func BenchmarkSanitise(b *testing.B) {
	impls := []struct {
		name     string
		plain    func([]byte) bool
		sanitise func(dst, line []byte) []byte
	}{
		{"old", oldPlain, oldSanitise},
		{"new", plain, sanitise},
	}
	for _, l := range benchLines {
		line := []byte(l.line)
		for _, im := range impls {
			b.Run(l.name+"/"+im.name, func(b *testing.B) {
				var dst []byte
				b.SetBytes(int64(len(line)))
				for b.Loop() {
					if !im.plain(line) {
						dst = im.sanitise(dst[:0], line)
					}
				}
			})
		}
	}
}
