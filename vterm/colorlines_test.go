package vterm

import (
	"strings"
	"testing"
)

// With ColorLines, OnLine gets each scrolled-off line as the scrollback
// keeps it (text and SGR); without, plain text.
func TestColorLines(t *testing.T) {
	for _, color := range []bool{false, true} {
		var got []string
		term := New(Options{Cols: 20, Rows: 2, ColorLines: color, OnLine: func(s string) { got = append(got, s) }})
		term.Write([]byte("\x1b[31mred\x1b[0m plain\r\nb\r\nc\r\n"))
		term.Close()
		if len(got) < 1 {
			t.Fatalf("color %v: no line scrolled off", color)
		}
		want := "red plain"
		if color {
			want = term.ScrollbackLines(nil, 0, 1)[0]
			if !strings.Contains(want, "31mred") {
				t.Fatalf("the scrollback's line %q has no colour", want)
			}
		}
		if got[0] != want {
			t.Fatalf("color %v: OnLine got %q, want %q", color, got[0], want)
		}
	}
}
