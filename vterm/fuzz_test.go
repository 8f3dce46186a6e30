package vterm

import (
	"testing"
	"unicode/utf8"
)

// Whatever a child writes, the snapshot rows, the scrollback and the log
// lines (OnLine, Unlogged) hold text and SGR only, and the title printable
// runes only; tracking what was logged never panics.
func FuzzTermOutputSafe(f *testing.F) {
	for _, s := range []string{
		"plain\r\nline",
		"\x1b]0;title\x07\x1b]8;;http://x\x1b\\l\x1b]8;;\x1b\\",
		"\x1b[31;1mred\x1b[0m\x1b[38;2;1;2;3mx\x1b[58;5;3m\x1b[4:3mu",
		"\x1bP1$qm\x1b\\\x1b_G;AAAA\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\",
		"a\u202eb\u0085c\x9b31md\xff\xfe",
		"\x1b[?1049h\x1b[2J\x1b[Hx\x1b[?1049l\x1b[3J",
		"\x1b#8\x1b[2J\x1b[10S\x1b[5M\x1b[3L\x1bc",
		"日本\u0301\u200d🙂\x1b[7m語",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var logged []string
		var title string
		term := New(Options{Cols: 12, Rows: 4, ScrollbackBytes: 4096, ColorLines: len(data)%2 == 0,
			OnLine:  func(s string) { logged = append(logged, s) },
			OnTitle: func(s string) { title = s }})
		defer term.Close()
		half := len(data) / 2
		term.Write(data[:half])
		term.Resize(7, 3+half%3)
		term.Write(data[half:])
		for _, row := range append(logged, term.Unlogged()...) {
			if !safeRow.MatchString(row) || !utf8.ValidString(row) {
				t.Fatalf("unsafe log line %q", row)
			}
		}
		s := term.Snapshot()
		for _, row := range s.Lines {
			if !safeRow.MatchString(row) || !utf8.ValidString(row) {
				t.Fatalf("unsafe row %q", row)
			}
		}
		for _, row := range term.ScrollbackLines(nil, 0, term.ScrollbackLen()) {
			if !safeRow.MatchString(row) || !utf8.ValidString(row) {
				t.Fatalf("unsafe scrollback row %q", row)
			}
		}
		for _, r := range title {
			if !printable(r) || r == utf8.RuneError {
				t.Fatalf("title %q", title)
			}
		}
	})
}
