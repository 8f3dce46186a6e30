package vterm

import (
	"fmt"
	"testing"
)

func TestEncodeKey(t *testing.T) {
	cases := []struct {
		k    Key
		app  bool
		want string
	}{
		{Key{Code: KeyUp}, false, "\x1b[A"},
		{Key{Code: KeyUp}, true, "\x1bOA"},
		{Key{Code: KeyLeft}, true, "\x1bOD"},
		{Key{Code: KeyHome}, false, "\x1b[H"},
		{Key{Code: KeyEnd}, true, "\x1bOF"},
		{Key{Code: KeyRight, Ctrl: true}, true, "\x1b[1;5C"},
		{Key{Code: KeyDown, Shift: true, Alt: true}, false, "\x1b[1;4B"},
		{Key{Code: KeyPageUp}, false, "\x1b[5~"},
		{Key{Code: KeyPageDown, Ctrl: true}, false, "\x1b[6;5~"},
		{Key{Code: KeyDelete}, false, "\x1b[3~"},
		{Key{Code: KeyInsert}, false, "\x1b[2~"},
		{Key{Code: KeyF1}, false, "\x1bOP"},
		{Key{Code: KeyF4}, false, "\x1bOS"},
		{Key{Code: KeyF2, Shift: true}, false, "\x1b[1;2Q"},
		{Key{Code: KeyF5}, false, "\x1b[15~"},
		{Key{Code: KeyF10}, false, "\x1b[21~"},
		{Key{Code: KeyF12, Ctrl: true}, false, "\x1b[24;5~"},
		{Key{Code: KeyEnter}, false, "\r"},
		{Key{Code: KeyTab}, false, "\t"},
		{Key{Code: KeyTab, Shift: true}, false, "\x1b[Z"},
		{Key{Code: KeyEsc}, false, "\x1b"},
		{Key{Code: KeyBackspace}, false, "\x7f"},
		{Key{Code: KeyBackspace, Alt: true}, false, "\x1b\x7f"},
		{Key{Code: KeySpace}, false, " "},
		{Key{Code: KeySpace, Ctrl: true}, false, "\x00"},
		{Key{Rune: 'c', Ctrl: true}, false, "\x03"},
		{Key{Rune: 'A', Ctrl: true}, false, "\x01"},
		{Key{Rune: '[', Ctrl: true}, false, "\x1b"},
		{Key{Rune: '\\', Ctrl: true}, false, "\x1c"},
		{Key{Rune: 'x', Alt: true}, false, "\x1bx"},
		{Key{Rune: 'c', Ctrl: true, Alt: true}, false, "\x1b\x03"},
		{Key{Rune: 'é'}, false, "é"},
		{Key{Rune: '日', Alt: true}, false, "\x1b日"},
		{Key{Text: "héllo"}, false, "héllo"},
	}
	for _, c := range cases {
		if got := string(EncodeKey(c.k, c.app)); got != c.want {
			t.Errorf("EncodeKey(%+v, app=%v) = %q, want %q", c.k, c.app, got, c.want)
		}
	}
}

func TestEncodePaste(t *testing.T) {
	if got := string(EncodePaste("a\x1b[20\x1b[201~1~rm -rf\r", true)); got != "\x1b[200~arm -rf\r\x1b[201~" {
		t.Errorf("bracketed paste = %q", got)
	}
}

func TestParseKeys(t *testing.T) {
	got := ParseKeys([]string{"echo hi", "Enter", "C-c", "c-C", "M-x", "C-M-a", "Up", "DOWN", "Left", "Right",
		"Home", "End", "PageUp", "PgDn", "F1", "F12", "F13", "Space", "BSpace", "Tab", "BTab", "Esc",
		"S-Up", "C-Left", "Escape", "C-é", "X-y", "Enterprise", ""})
	want := []Key{
		{Text: "echo hi"}, {Code: KeyEnter}, {Rune: 'c', Ctrl: true}, {Rune: 'C', Ctrl: true},
		{Rune: 'x', Alt: true}, {Rune: 'a', Ctrl: true, Alt: true},
		{Code: KeyUp}, {Code: KeyDown}, {Code: KeyLeft}, {Code: KeyRight},
		{Code: KeyHome}, {Code: KeyEnd}, {Code: KeyPageUp}, {Code: KeyPageDown},
		{Code: KeyF1}, {Code: KeyF12}, {Text: "F13"}, {Code: KeySpace}, {Code: KeyBackspace},
		{Code: KeyTab}, {Code: KeyTab, Shift: true}, {Code: KeyEsc},
		{Code: KeyUp, Shift: true}, {Code: KeyLeft, Ctrl: true}, {Code: KeyEsc},
		{Text: "C-é"}, {Text: "X-y"}, {Text: "Enterprise"}, {Text: ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("key %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Encoded: tmux's send-keys bytes.
	var b []byte
	for _, k := range ParseKeys([]string{"ls", "Space", "-l", "Enter", "C-c", "M-x", "Up"}) {
		b = append(b, EncodeKey(k, false)...)
	}
	if fmt.Sprintf("%q", b) != `"ls -l\r\x03\x1bx\x1b[A"` {
		t.Errorf("encoded %q", b)
	}
}
