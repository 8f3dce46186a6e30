package procs

// Child output is text, never markup or terminal commands: before a line is
// stored it loses every control sequence except SGR colour codes (ESC [ ... m),
// every other C0 control byte except tab, and whatever a carriage return
// overwrote (a progress bar keeps only its last state).

const (
	lo7 = 0x0101010101010101
	hi7 = 0x8080808080808080
)

// plain reports whether b holds no byte that sanitise would change: nothing
// below 0x20 except tab, and no DEL. It checks eight bytes at a time because it
// runs on every line a child prints.
func plain(b []byte) bool {
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
			return plainSlow(b[i:])
		}
	}
	return plainSlow(b[i:])
}

func plainSlow(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// sanitise appends the displayable form of line (no trailing newline) to dst.
func sanitise(dst, line []byte) []byte {
	start := len(dst)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == 0x1b:
			i = escape(&dst, line, i)
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

// escape handles the escape sequence starting at line[i] (an ESC), keeping it
// in *dst only when it is an SGR sequence. It returns the index of the
// sequence's last byte.
func escape(dst *[]byte, line []byte, i int) int {
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

func onlySGRParams(p []byte) bool {
	for _, c := range p {
		if (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}

// Clean returns s in displayable form: printable text plus complete SGR colour
// sequences, whatever bytes s holds. Use it at every boundary where outside
// text (child output, messages shown as text, anything read from /proc, error
// texts quoting outside input) is about to be shown to the user.
func Clean(s string) string {
	if plain([]byte(s)) {
		return s
	}
	return string(sanitise(make([]byte, 0, len(s)), []byte(s)))
}
