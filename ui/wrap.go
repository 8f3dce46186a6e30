package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

const sgrReset = "\x1b[0m"

// wrapText splits one line of child output into rows of at most w cells.
// The text holds printable characters, tabs and SGR colour sequences only
// (the engine removed everything else). Tabs become spaces to the next stop
// of 8; wide characters never straddle a row end; colours that are on at a
// row's end are reset there and switched on again at the next row's start,
// so no colour leaks past the pane. Rows are appended to dst.
func wrapText(dst []string, text string, w int) []string {
	if w < 1 {
		w = 1
	}
	if len(text) <= w && isPlainASCII(text) {
		return append(dst, text)
	}
	var (
		row    strings.Builder
		active string // SGR sequences in effect, to carry into the next row
		col    int
		styled bool // the current row holds a sequence that is not a reset
	)
	row.Grow(min(len(text), w*2))
	flush := func() {
		if styled {
			row.WriteString(sgrReset)
		}
		dst = append(dst, row.String())
		row.Reset()
		col = 0
		styled = active != ""
		row.WriteString(active)
	}
	put := func(s string, cw int) {
		if col+cw > w && col > 0 {
			flush()
		}
		row.WriteString(s)
		col += cw
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == 0x1b:
			j := i + 1
			if j < len(text) && text[j] == '[' {
				j++
				for j < len(text) && (text[j] < 0x40 || text[j] > 0x7e) {
					j++
				}
			}
			j = min(j+1, len(text))
			seq := text[i:j]
			row.WriteString(seq)
			switch {
			case isReset(seq):
				active = ""
			case strings.HasPrefix(seq, "\x1b[0;") || len(active) > 256:
				active = seq // starts over from a reset (or bounds the carry)
				styled = true
			default:
				active += seq
				styled = true
			}
			i = j
		case c == '\t':
			n := 8 - col%8
			if col+n > w {
				// the tab reaches past the row end: finish this row, go on
				n = w - col
			}
			put(spaces(n), n)
			i++
		case c < 0x20 || c == 0x7f:
			i++ // not expected from the engine; never let it reach the terminal
		case c < 0x80:
			put(text[i:i+1], 1)
			i++
		default:
			cluster, cw := ansi.FirstGraphemeCluster(text[i:], ansi.GraphemeWidth)
			if len(cluster) == 0 {
				i++
				continue
			}
			if cw > w {
				cluster, cw = "?", 1 // a glyph wider than the pane
			}
			put(cluster, cw)
			i += max(len(cluster), 1)
		}
	}
	if col > 0 || len(dst) == 0 {
		if styled {
			row.WriteString(sgrReset)
		}
		dst = append(dst, row.String())
	}
	return dst
}

// isReset reports whether an SGR sequence turns every attribute off.
func isReset(seq string) bool {
	return seq == "\x1b[m" || seq == "\x1b[0m" || seq == "\x1b[00m"
}
