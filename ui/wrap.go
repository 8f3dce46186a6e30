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
	wr := wrapper{dst: dst, w: w}
	wr.row.Grow(min(len(text), w*2))
	for i := 0; i < len(text); {
		i = wr.step(text, i)
	}
	if wr.col > 0 || len(wr.dst) == 0 {
		if wr.styled {
			wr.row.WriteString(sgrReset)
		}
		wr.dst = append(wr.dst, wr.row.String())
	}
	return wr.dst
}

// wrapper is wrapText's state between rows.
type wrapper struct {
	dst    []string
	row    strings.Builder
	active string // SGR sequences in effect, to carry into the next row
	col, w int
	styled bool // the current row holds a sequence that is not a reset
}

// step takes what starts at text[i] into the rows and returns where the
// next thing starts.
func (wr *wrapper) step(text string, i int) int {
	c := text[i]
	switch {
	case c == 0x1b:
		return wr.escape(text, i)
	case c == '\t':
		n := 8 - wr.col%8
		if wr.col+n > wr.w {
			// the tab reaches past the row end: finish this row, go on
			n = wr.w - wr.col
		}
		wr.put(spaces(n), n)
		return i + 1
	case c < 0x20 || c == 0x7f:
		return i + 1 // not expected from the engine; never let it reach the terminal
	case c < 0x80:
		wr.put(text[i:i+1], 1)
		return i + 1
	}
	cluster, cw := ansi.FirstGraphemeCluster(text[i:], ansi.GraphemeWidth)
	if len(cluster) == 0 {
		return i + 1
	}
	n := len(cluster)
	if cw > wr.w {
		cluster, cw = "?", 1 // a glyph wider than the pane
	}
	wr.put(cluster, cw)
	return i + n
}

// escape copies the SGR sequence at text[i] into the row and notes which
// colours are on.
func (wr *wrapper) escape(text string, i int) int {
	j := i + 1
	if j < len(text) && text[j] == '[' {
		j++
		for j < len(text) && (text[j] < 0x40 || text[j] > 0x7e) {
			j++
		}
	}
	j = min(j+1, len(text))
	seq := text[i:j]
	wr.row.WriteString(seq)
	switch {
	case isReset(seq):
		wr.active = ""
	case strings.HasPrefix(seq, "\x1b[0;") || len(wr.active) > 256:
		wr.active = seq // starts over from a reset (or bounds the carry)
		wr.styled = true
	default:
		wr.active += seq
		wr.styled = true
	}
	return j
}

// put adds s, cw cells wide, starting a new row first if it does not fit.
func (wr *wrapper) put(s string, cw int) {
	if wr.col+cw > wr.w && wr.col > 0 {
		wr.flush()
	}
	wr.row.WriteString(s)
	wr.col += cw
}

// flush ends the row, resetting colours, and starts the next with them on.
func (wr *wrapper) flush() {
	if wr.styled {
		wr.row.WriteString(sgrReset)
	}
	wr.dst = append(wr.dst, wr.row.String())
	wr.row.Reset()
	wr.col = 0
	wr.styled = wr.active != ""
	wr.row.WriteString(wr.active)
}

// isReset reports whether an SGR sequence turns every attribute off.
func isReset(seq string) bool {
	return seq == "\x1b[m" || seq == "\x1b[0m" || seq == "\x1b[00m"
}
