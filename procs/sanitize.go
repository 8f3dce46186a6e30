package procs

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Outside text (child output, /proc strings, error texts quoting either) is
// text, never markup or terminal commands. Whatever bytes go in, what sanitise
// and Clean return holds only:
//
//   - printable text: valid UTF-8 with no C0 control but tab, no DEL, no C1
//     control (U+0080..U+009F: VTE-based terminals act on them even encoded
//     as UTF-8) and no bidirectional embedding, override or isolate
//     (U+202A..U+202E, U+2066..U+2069: they reorder what follows on screen,
//     the "trojan source" spoof). Invalid UTF-8 becomes U+FFFD, so no raw
//     byte 0x80..0x9f can ever be read as a C1 control;
//   - complete SGR colour sequences, ESC [ params m, whose params are digits,
//     ';' and ':' only and at most maxSGR bytes long.
//
// Every other escape sequence is dropped whole (CSI, OSC, DCS, APC, PM, SOS,
// charset selections, ...), every other control byte too, except two that are
// applied: a carriage return rewinds to the line start (a progress bar keeps
// only its last state) and a backspace removes the previous printable rune,
// never anything of a kept SGR sequence (see sanitise).
//
// The invariant is closed under concatenation (two valid texts side by side
// are a valid text: UTF-8 and SGR sequences are complete in each), so a long
// line stored as cut pieces, each sanitised on its own, is safe piece by piece
// and whole. A cut inside a UTF-8 sequence turns its bytes into U+FFFD; a cut
// inside an escape sequence drops its start, and its rest shows as text.

// maxSGR bounds the parameter bytes of a kept SGR sequence. Truecolour
// foreground and background plus a few attributes ("38;2;255;255;255;48;2;
// 255;255;255;1;3;4;9") take about 40; a longer one is dropped: it is not
// colour a child needs, and terminals cap parameter counts anyway.
const maxSGR = 64

const (
	lo7 = 0x0101010101010101
	hi7 = 0x8080808080808080
	m7f = 0x7f7f7f7f7f7f7f7f
)

// plain reports whether sanitise would leave b as it is because b holds no
// control and no escape: only printable ASCII, tabs and printable UTF-8. It
// runs on every line a child prints, so it checks eight bytes at a time, and
// only where a word holds a byte >= 0x80 it validates the run of non-ASCII
// runes that starts there (common two- and three-byte runes inline).
func plain(b []byte) bool {
	n := len(b)
	i := 0
	for i < n {
		// Runs of plain ASCII (most of most lines), 32 bytes a turn: the
		// four words' checks OR'd, one branch.
		for i+32 <= n {
			x0 := binary.LittleEndian.Uint64(b[i:])
			x1 := binary.LittleEndian.Uint64(b[i+8:])
			x2 := binary.LittleEndian.Uint64(b[i+16:])
			x3 := binary.LittleEndian.Uint64(b[i+24:])
			if (asciiBad(x0)|asciiBad(x1)|asciiBad(x2)|asciiBad(x3)|x0|x1|x2|x3)&hi7 != 0 {
				break // a control, or a byte >= 0x80: the word loop sorts it out
			}
			i += 32
		}
		if i == n {
			break
		}
		if i+8 <= n {
			x := binary.LittleEndian.Uint64(b[i:])
			// Bytes >= 0x80 (&^x) are left to the rune check below.
			if asciiBad(x)&^x&hi7 != 0 {
				return false
			}
			h := x & hi7
			if h == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(h) >> 3 // the first byte >= 0x80
		} else {
			c := b[i]
			if c < 0x80 {
				if c < 0x20 && c != '\t' || c == 0x7f {
					return false
				}
				i++
				continue
			}
		}
		for i < n && b[i] >= 0x80 {
			c := b[i]
			// U+00C0..U+07FF and U+1000..U+FFFF but for the ranges that need
			// a closer look (E0: overlong, E2: bidi controls, ED: surrogates).
			if c >= 0xc3 && c < 0xe0 && i+1 < n && b[i+1]&0xc0 == 0x80 {
				i += 2
				continue
			}
			if c&0xf0 == 0xe0 && c != 0xe0 && c != 0xe2 && c != 0xed && i+2 < n && b[i+1]&0xc0 == 0x80 && b[i+2]&0xc0 == 0x80 {
				i += 3
				continue
			}
			size := textRune(b[i:])
			if size == 0 {
				return false
			}
			i += size
		}
	}
	return true
}

// plainBlock reports whether b holds only printable ASCII, tabs and
// newlines: then every line in it is plain, and the pump checks the whole
// read once instead of line by line. plainBlock16 takes the 16-byte blocks
// (with SSE2 on amd64, plainBlockSWAR elsewhere), the tail is checked here.
func plainBlock(b []byte) bool {
	n := len(b) &^ 15
	if !plainBlock16(b[:n]) {
		return false
	}
	for _, c := range b[n:] {
		if c >= 0x7f || c < 0x20 && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

// plainBlockSWAR is plainBlock16 in portable Go, eight bytes a word: the
// reference the assembly is tested against, and the code on other
// architectures. len(b) is a multiple of 16.
func plainBlockSWAR(b []byte) bool {
	var acc uint64
	for i := 0; i+16 <= len(b); i += 16 {
		acc |= blockBad(binary.LittleEndian.Uint64(b[i:])) | blockBad(binary.LittleEndian.Uint64(b[i+8:]))
		if i&1023 == 0 && acc&hi7 != 0 {
			return false
		}
	}
	return acc&hi7 == 0
}

// blockBad has the high bit of each byte of x set that is not printable
// ASCII, a tab or a newline: a byte >= 0x80, DEL, or another control. As
// in asciiBad, no carry crosses a byte.
func blockBad(x uint64) uint64 {
	y := x & m7f
	notTab := (y ^ lo7*'\t') + m7f
	notNL := (y ^ lo7*'\n') + m7f
	return ^(y+lo7*0x60)&notTab&notNL | (y + lo7) | x
}

// asciiBad has the high bit of each byte of x set that is an ASCII
// control other than tab, or DEL (bytes >= 0x80 give garbage there; the
// caller tests them apart). Exact per byte, since no carry crosses a byte
// (every byte of y is below 0x80): y+0x60 reaches 0x80 iff y >= 0x20;
// t+0x7f does iff t != 0, that is y is not a tab; y+1 does iff y is DEL.
func asciiBad(x uint64) uint64 {
	y := x & m7f
	t := y ^ lo7*'\t'
	return ^(y+lo7*0x60)&(t+m7f) | (y + lo7)
}

// textRune returns the length of the UTF-8 sequence b starts with (b[0] >=
// 0x80) when it is valid and printable, and 0 when it is invalid (overlong,
// surrogate, above U+10FFFF, cut short), a C1 control or a bidi control:
// utf8.DecodeRune plus printableRune, unrolled.
func textRune(b []byte) int {
	c := b[0]
	switch {
	case c < 0xc2: // a continuation byte, or an overlong two-byte sequence
		return 0
	case c < 0xe0:
		if len(b) < 2 || b[1]&0xc0 != 0x80 || c == 0xc2 && b[1] < 0xa0 { // C1: C2 80..C2 9F
			return 0
		}
		return 2
	case c < 0xf0:
		if len(b) < 3 || b[1]&0xc0 != 0x80 || b[2]&0xc0 != 0x80 ||
			c == 0xe0 && b[1] < 0xa0 || // overlong
			c == 0xed && b[1] >= 0xa0 || // surrogate
			c == 0xe2 && (b[1] == 0x80 && b[2] >= 0xaa && b[2] <= 0xae || // U+202A..U+202E
				b[1] == 0x81 && b[2] >= 0xa6 && b[2] <= 0xa9) { // U+2066..U+2069
			return 0
		}
		return 3
	case c < 0xf5:
		if len(b) < 4 || b[1]&0xc0 != 0x80 || b[2]&0xc0 != 0x80 || b[3]&0xc0 != 0x80 ||
			c == 0xf0 && b[1] < 0x90 || // overlong
			c == 0xf4 && b[1] >= 0x90 { // above U+10FFFF
			return 0
		}
		return 4
	}
	return 0
}

// printableRune reports whether a validly decoded non-ASCII rune may be shown.
func printableRune(r rune) bool {
	return r >= 0xa0 && !(r >= 0x202a && r <= 0x202e) && !(r >= 0x2066 && r <= 0x2069)
}

// sanitise appends the displayable form of line (no trailing newline) to dst.
//
// Backspace is applied because programs use it to draw spinners and overstrike,
// but only to text: it removes the last rune appended after the last kept SGR
// sequence (floor) and does nothing when there is none. Deleting into a kept
// sequence could leave a bare ESC that joins the following bytes into a new
// sequence ("ESC[31m BS BS BS [2J" would become ESC[2J, clear screen). A
// backspace right after a colour change therefore fails to overstrike the
// character before it: a harmless loss.
func sanitise(dst, line []byte) []byte {
	start := len(dst)
	floor := start // backspace never deletes below this
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c >= 0x20 && c < 0x7f || c == '\t':
			dst = append(dst, c)
			i++
		case c == 0x1b:
			before := len(dst)
			dst, i = escape(dst, line, i)
			if len(dst) != before {
				floor = len(dst)
			}
		case c == '\r':
			// "\r\n" is a plain line end; a bare CR rewinds to the line start.
			if i+1 < len(line) {
				dst = dst[:start]
				floor = start
			}
			i++
		case c == '\b':
			if len(dst) > floor {
				_, n := utf8.DecodeLastRune(dst[floor:])
				dst = dst[:len(dst)-n]
			}
			i++
		case c < 0x80:
			i++ // other C0 controls (BEL, form feed, ...) and DEL are dropped
		default:
			r, n := utf8.DecodeRune(line[i:])
			switch {
			case n == 1:
				dst = utf8.AppendRune(dst, utf8.RuneError) // invalid UTF-8
			case printableRune(r):
				dst = append(dst, line[i:i+n]...)
			}
			// C1 controls and bidi controls are dropped.
			i += n
		}
	}
	return dst
}

// escape handles the escape sequence starting at line[i] (an ESC). It appends
// the sequence to dst only when it is a complete SGR sequence, and returns dst
// and the index where reading resumes. A malformed or cut sequence is dropped
// up to the first byte that cannot belong to it, which is then read afresh
// (so an ESC inside a sequence starts a new one, as in terminals).
func escape(dst, line []byte, i int) ([]byte, int) {
	n := len(line)
	if i+1 >= n {
		return dst, n // ESC at the end: dropped
	}
	switch c := line[i+1]; {
	case c == '[': // CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e
		j := i + 2
		for j < n && line[j] >= 0x30 && line[j] <= 0x3f {
			j++
		}
		params := line[i+2 : j]
		for j < n && line[j] >= 0x20 && line[j] <= 0x2f {
			j++
		}
		if j >= n {
			return dst, n // cut at the end of the line
		}
		if line[j] < 0x40 || line[j] > 0x7e {
			return dst, j // malformed
		}
		if line[j] == 'm' && i+2+len(params) == j && len(params) <= maxSGR && onlySGRParams(params) {
			dst = append(dst, line[i:j+1]...)
		}
		return dst, j + 1
	case c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X':
		// OSC, DCS, APC, PM, SOS: a string up to BEL or ST (ESC \, or C1 ST
		// as UTF-8); CAN and SUB cancel it; any other ESC ends it and starts
		// a new sequence. The whole string is dropped, to the line end if
		// unterminated.
		for j := i + 2; j < n; j++ {
			switch line[j] {
			case 0x07, 0x18, 0x1a:
				return dst, j + 1
			case 0x1b:
				if j+1 < n && line[j+1] == '\\' {
					return dst, j + 2
				}
				return dst, j
			case 0xc2:
				if j+1 < n && line[j+1] == 0x9c {
					return dst, j + 2
				}
			}
		}
		return dst, n
	case c >= 0x20 && c <= 0x2f: // intermediates then a final byte: ESC ( B, ESC # 8, ...
		j := i + 2
		for j < n && line[j] >= 0x20 && line[j] <= 0x2f {
			j++
		}
		if j < n && line[j] >= 0x30 && line[j] <= 0x7e {
			return dst, j + 1
		}
		return dst, j
	case c >= 0x30 && c <= 0x7e: // two-byte sequences: ESC 7, ESC c, ESC M, ...
		return dst, i + 2
	default: // ESC before a control, DEL or non-ASCII: only the ESC goes
		return dst, i + 1
	}
}

// cutText returns where to cut b, valid display text longer than n bytes, so
// that both parts stay valid: the last rune or SGR boundary at or before n,
// or, when there is none (n shorter than b's first SGR sequence), the end of
// b's first rune or sequence.
func cutText(b []byte, n int) int {
	k := n
	for k > 0 && !utf8.RuneStart(b[k]) {
		k--
	}
	// Only an SGR sequence holds an ESC, and one is at most maxSGR+3 bytes.
	from := max(0, k-maxSGR-3)
	if e := bytes.LastIndexByte(b[from:k], 0x1b); e >= 0 {
		e += from
		if end := e + bytes.IndexByte(b[e:], 'm') + 1; end > k {
			k = e
		}
	}
	if k > 0 {
		return k
	}
	if b[0] == 0x1b {
		if m := bytes.IndexByte(b, 'm'); m > 0 {
			return m + 1
		}
		return len(b) // not valid text; never loop on it
	}
	_, size := utf8.DecodeRune(b)
	return size
}

func onlySGRParams(p []byte) bool {
	for _, c := range p {
		if (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}

// cleanLine is Clean for a text shown on one row that may hold several lines
// (a shell script): line ends become spaces instead of a carriage return
// rewinding over what came before.
func cleanLine(s string) string {
	if plain(unsafe.Slice(unsafe.StringData(s), len(s))) {
		return s
	}
	return Clean(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s))
}

// Clean returns s in displayable form: printable text plus complete SGR colour
// sequences, whatever bytes s holds (see sanitise). Use it at every boundary
// where outside text (child output, messages shown as text, anything read from
// /proc, error texts quoting outside input) is about to be shown to the user.
// Text that needs no change is returned as is, without copying.
func Clean(s string) string {
	// A read-only view of s: plain and sanitise never write to their input.
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	if plain(b) {
		return s
	}
	return string(sanitise(make([]byte, 0, len(s)), b))
}
