package procs

import (
	"bytes"
	"encoding/binary"
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
// and whole; a cut inside a UTF-8 or escape sequence only loses that sequence.

// maxSGR bounds the parameter bytes of a kept SGR sequence. Truecolour
// foreground and background plus a few attributes ("38;2;255;255;255;48;2;
// 255;255;255;1;3;4;9") take about 40; a longer one is dropped: it is not
// colour a child needs, and terminals cap parameter counts anyway.
const maxSGR = 64

const (
	lo7 = 0x0101010101010101
	hi7 = 0x8080808080808080
)

// plain reports whether sanitise would leave b as it is because b holds no
// control and no escape: only printable ASCII, tabs and printable UTF-8. It
// runs on every line a child prints, so it checks eight bytes at a time and
// only looks closer at a word holding something other than printable ASCII.
func plain(b []byte) bool {
	i := 0
	for i < len(b) {
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			// A byte below 0x20 sets its high bit in x-0x20.. (the borrow
			// of the lowest such byte cannot be hidden by lower bytes, which
			// do not borrow); 0x7f does in x+0x01..; a byte >= 0x80 has it
			// already. Borrows and carries out of flagged bytes only cause
			// false alarms, which the closer look below clears.
			if (x|(x-lo7*0x20)|(x+lo7))&hi7 == 0 {
				i += 8
				continue
			}
		}
		// A closer look at this word (a rune may run past its end), then
		// back to whole words.
		for end := min(i+8, len(b)); i < end; {
			c := b[i]
			switch {
			case c >= 0x20 && c < 0x7f || c == '\t':
				i++
			case c < 0x80:
				return false
			default:
				r, n := utf8.DecodeRune(b[i:])
				if n == 1 || !printableRune(r) {
					return false // invalid UTF-8, C1 or bidi control
				}
				i += n
			}
		}
	}
	return true
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
