package vterm

import (
	"image/color"
	"strconv"
	"strings"
	"unicode/utf8"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// Rows are drawn from the emulator's cells, never from its Render(): cells
// hold a grapheme and a style, so what comes out is text and SGR and nothing
// else (Render() would pass hyperlinks through as OSC 8).

// appendRow appends the cells of one row to b as text with SGR sequences.
// Trailing blank cells with no style are left out (the pane pads); a row
// that set any style ends with a reset, so rows can be drawn side by side
// with other text. plain gets the text alone when non-nil.
func appendRow(b []byte, plain *[]byte, n int, cell func(x int) *uv.Cell) []byte {
	end := n
	for end > 0 {
		c := cell(end - 1)
		if c != nil && !blank(c) {
			break
		}
		end--
	}
	var cur uv.Style
	styled := false
	for x := 0; x < end; x++ {
		c := cell(x)
		if c == nil {
			b = append(b, ' ')
			if plain != nil {
				*plain = append(*plain, ' ')
			}
			continue
		}
		if c.Width == 0 {
			continue // the second column of a wide character
		}
		if !c.Style.Equal(&cur) {
			b = appendSGR(b, &c.Style)
			cur = c.Style
			styled = true
		}
		n0 := len(b)
		b = appendContent(b, c)
		if plain != nil {
			*plain = append(*plain, b[n0:]...)
		}
	}
	if styled && !cur.IsZero() {
		b = append(b, "\x1b[m"...)
	}
	return b
}

// blank reports whether a cell draws nothing: a space (or nothing) with no
// style. A space with a background colour is not blank.
func blank(c *uv.Cell) bool {
	return (c.Content == "" || c.Content == " ") && c.Style.IsZero()
}

// appendContent appends a cell's grapheme filtered to printable runes, or
// as many spaces as the cell is wide when nothing printable is left.
func appendContent(b []byte, c *uv.Cell) []byte {
	s := c.Content
	if len(s) == 1 && s[0] >= 0x20 && s[0] < 0x7f {
		return append(b, s[0])
	}
	n0 := len(b)
	for _, r := range s {
		if printable(r) {
			b = utf8.AppendRune(b, r)
		}
	}
	if len(b) == n0 {
		b = append(b, strings.Repeat(" ", max(c.Width, 1))...)
	}
	return b
}

// printable is the rune policy of procs.Clean for text: no C0 control, no
// DEL, no C1 control, no bidirectional embedding, override or isolate.
func printable(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return false
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return false
	}
	return true
}

// appendSGR appends one SGR sequence that resets and then sets style s: a
// whole state rather than a diff, so a row can start anywhere.
func appendSGR(b []byte, s *uv.Style) []byte {
	b = append(b, "\x1b[0"...)
	attrs := [...]struct {
		bit  uint8
		code string
	}{
		{uv.AttrBold, "1"}, {uv.AttrFaint, "2"}, {uv.AttrItalic, "3"},
		{uv.AttrBlink, "5"}, {uv.AttrRapidBlink, "6"}, {uv.AttrReverse, "7"},
		{uv.AttrConceal, "8"}, {uv.AttrStrikethrough, "9"},
	}
	for _, a := range attrs {
		if s.Attrs&a.bit != 0 {
			b = append(b, ';')
			b = append(b, a.code...)
		}
	}
	switch s.Underline {
	case uv.UnderlineNone:
	case uv.UnderlineSingle:
		b = append(b, ";4"...)
	default:
		b = append(b, ";4:"...)
		b = strconv.AppendInt(b, int64(s.Underline), 10)
	}
	b = appendColor(b, s.Fg, 30, 90, "38")
	b = appendColor(b, s.Bg, 40, 100, "48")
	b = appendColor(b, s.UnderlineColor, -1, -1, "58")
	return append(b, 'm')
}

// appendColor appends a colour parameter: the 16 basic colours and the
// 256-colour palette by index (so the user's palette applies), anything else
// as 24-bit RGB. A transparent colour is the default and adds nothing.
func appendColor(b []byte, c color.Color, base, bright int, ext string) []byte {
	if c == nil {
		return b
	}
	switch v := c.(type) {
	case ansi.BasicColor:
		if base >= 0 {
			b = append(b, ';')
			if v < 8 {
				return strconv.AppendInt(b, int64(base)+int64(v), 10)
			}
			return strconv.AppendInt(b, int64(bright)+int64(v)-8, 10)
		}
		return appendIndexed(b, ext, uint8(v))
	case ansi.IndexedColor:
		return appendIndexed(b, ext, uint8(v))
	}
	r, g, bl, a := c.RGBA()
	if a == 0 {
		return b
	}
	b = append(b, ';')
	b = append(b, ext...)
	b = append(b, ";2;"...)
	b = strconv.AppendInt(b, int64(r>>8), 10)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(g>>8), 10)
	b = append(b, ';')
	return strconv.AppendInt(b, int64(bl>>8), 10)
}

func appendIndexed(b []byte, ext string, i uint8) []byte {
	b = append(b, ';')
	b = append(b, ext...)
	b = append(b, ";5;"...)
	return strconv.AppendInt(b, int64(i), 10)
}

// cleanTitle makes a child's title safe to show: printable runes only,
// tabs as spaces, at most maxTitle runes.
func cleanTitle(s string) string {
	const maxTitle = 200
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '\t' {
			r = ' '
		}
		if !printable(r) || r == utf8.RuneError {
			continue
		}
		if n == maxTitle {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
