package vterm

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// KeyCode names a key that is not text.
type KeyCode int

// The keys EncodeKey knows besides text (KeyRune).
const (
	KeyRune KeyCode = iota // Key.Rune, or Key.Text for a run of text
	KeyEnter
	KeyTab
	KeyEsc
	KeyBackspace
	KeySpace
	KeyUp
	KeyDown
	KeyRight
	KeyLeft
	KeyHome
	KeyEnd
	KeyPageUp
	KeyPageDown
	KeyInsert
	KeyDelete
	KeyF1
	KeyF2
	KeyF3
	KeyF4
	KeyF5
	KeyF6
	KeyF7
	KeyF8
	KeyF9
	KeyF10
	KeyF11
	KeyF12
)

// Key is one key press for the child: a named key, a rune, or a run of
// text (Text, sent as it is), with modifiers.
type Key struct {
	Code  KeyCode
	Rune  rune
	Text  string
	Ctrl  bool
	Alt   bool
	Shift bool
}

// cursorFinal is the final byte of the cursor keys and Home/End.
func cursorFinal(c KeyCode) (byte, bool) {
	switch c {
	case KeyUp:
		return 'A', true
	case KeyDown:
		return 'B', true
	case KeyRight:
		return 'C', true
	case KeyLeft:
		return 'D', true
	case KeyHome:
		return 'H', true
	case KeyEnd:
		return 'F', true
	}
	return 0, false
}

// tildeCode is the number of the keys sent as CSI n ~.
func tildeCode(c KeyCode) (int, bool) {
	switch c {
	case KeyInsert:
		return 2, true
	case KeyDelete:
		return 3, true
	case KeyPageUp:
		return 5, true
	case KeyPageDown:
		return 6, true
	case KeyF5:
		return 15, true
	case KeyF6, KeyF7, KeyF8, KeyF9, KeyF10:
		return 17 + int(c-KeyF6), true
	case KeyF11, KeyF12:
		return 23 + int(c-KeyF11), true
	}
	return 0, false
}

// EncodeKey returns the bytes an xterm sends for k. appCursor is DECCKM
// (the child's application cursor-key mode): unmodified cursor keys and
// Home/End then send ESC O x instead of ESC [ x. Modified special keys use
// xterm's CSI 1;m form; Alt prefixes ESC to text and control keys.
func EncodeKey(k Key, appCursor bool) []byte {
	mod := 1
	if k.Shift {
		mod++
	}
	if k.Alt {
		mod += 2
	}
	if k.Ctrl {
		mod += 4
	}
	if f, ok := cursorFinal(k.Code); ok {
		switch {
		case mod > 1:
			return fmt.Appendf(nil, "\x1b[1;%d%c", mod, f)
		case appCursor:
			return []byte{0x1b, 'O', f}
		}
		return []byte{0x1b, '[', f}
	}
	if n, ok := tildeCode(k.Code); ok {
		if mod > 1 {
			return fmt.Appendf(nil, "\x1b[%d;%d~", n, mod)
		}
		return fmt.Appendf(nil, "\x1b[%d~", n)
	}
	if k.Code >= KeyF1 && k.Code <= KeyF4 {
		f := "PQRS"[k.Code-KeyF1]
		if mod > 1 {
			return fmt.Appendf(nil, "\x1b[1;%d%c", mod, f)
		}
		return []byte{0x1b, 'O', f}
	}
	var b []byte
	switch k.Code {
	case KeyEnter:
		b = []byte{'\r'}
	case KeyTab:
		if k.Shift {
			return []byte("\x1b[Z")
		}
		b = []byte{'\t'}
	case KeyEsc:
		b = []byte{0x1b}
	case KeyBackspace:
		b = []byte{0x7f}
		if k.Ctrl {
			b = []byte{0x08}
		}
	case KeySpace:
		b = []byte{' '}
		if k.Ctrl {
			b = []byte{0}
		}
	case KeyRune:
		if k.Text != "" {
			b = []byte(k.Text)
		} else if k.Ctrl {
			c, ok := ctrlByte(k.Rune)
			if !ok {
				b = utf8.AppendRune(nil, k.Rune)
			} else {
				b = []byte{c}
			}
		} else {
			b = utf8.AppendRune(nil, k.Rune)
		}
	}
	if k.Alt && len(b) > 0 {
		b = append([]byte{0x1b}, b...)
	}
	return b
}

// ctrlByte is the C0 byte ctrl+r sends: letters and @[\]^_ map to 0..31,
// space to NUL, ? to DEL.
func ctrlByte(r rune) (byte, bool) {
	switch {
	case r >= 'a' && r <= 'z':
		return byte(r - 'a' + 1), true
	case r >= '@' && r <= '_':
		return byte(r - '@'), true
	case r == ' ':
		return 0, true
	case r == '?':
		return 0x7f, true
	}
	return 0, false
}

// EncodePaste returns text as the child should get a paste: when bracketed
// (mode 2004 on) wrapped in ESC [200~ ... ESC [201~ with every end mark
// inside removed first, so the paste cannot close itself early.
func EncodePaste(text string, bracketed bool) []byte {
	if !bracketed {
		return []byte(text)
	}
	for strings.Contains(text, "\x1b[201~") {
		text = strings.ReplaceAll(text, "\x1b[201~", "")
	}
	return []byte("\x1b[200~" + text + "\x1b[201~")
}

// namedKey looks up a send-keys name (tmux's spelling, lower-cased).
func namedKey(name string) (KeyCode, bool) {
	switch name {
	case "enter":
		return KeyEnter, true
	case "tab", "btab": // tmux's back-tab: Shift is set by the caller
		return KeyTab, true
	case "esc", "escape":
		return KeyEsc, true
	case "bspace", "backspace":
		return KeyBackspace, true
	case "space":
		return KeySpace, true
	case "up":
		return KeyUp, true
	case "down":
		return KeyDown, true
	case "right":
		return KeyRight, true
	case "left":
		return KeyLeft, true
	case "home":
		return KeyHome, true
	case "end":
		return KeyEnd, true
	case "pageup", "pgup", "ppage":
		return KeyPageUp, true
	case "pagedown", "pgdn", "npage":
		return KeyPageDown, true
	case "ic", "insert":
		return KeyInsert, true
	case "dc", "delete":
		return KeyDelete, true
	}
	return 0, false
}

// ParseKeys turns `kelpie send-keys` arguments into keys, tmux's way: an
// argument that names a key (Enter, Tab, Esc, Space, BSpace, Up, Down,
// Left, Right, Home, End, PageUp, PageDown, Insert, Delete, F1..F12), with
// optional C- (ctrl), M- (alt) and S- (shift) prefixes, or a C-/M- prefix
// on one character (C-c, M-x), is that key; any other argument is literal
// text, sent as it is.
func ParseKeys(args []string) []Key {
	keys := make([]Key, 0, len(args))
	for _, a := range args {
		if k, ok := parseKeyName(a); ok {
			keys = append(keys, k)
			continue
		}
		keys = append(keys, Key{Code: KeyRune, Text: a})
	}
	return keys
}

func parseKeyName(s string) (Key, bool) {
	var k Key
	for len(s) > 2 && s[1] == '-' {
		switch s[0] {
		case 'C', 'c':
			k.Ctrl = true
		case 'M', 'm':
			k.Alt = true
		case 'S', 's':
			k.Shift = true
		default:
			return Key{}, false
		}
		s = s[2:]
	}
	if code, ok := namedKey(strings.ToLower(s)); ok {
		k.Code = code
		if strings.EqualFold(s, "btab") {
			k.Shift = true
		}
		return k, true
	}
	if len(s) >= 2 && (s[0] == 'F' || s[0] == 'f') {
		if n, err := strconv.Atoi(s[1:]); err == nil && n >= 1 && n <= 12 {
			k.Code = KeyF1 + KeyCode(n-1)
			return k, true
		}
	}
	if r, size := utf8.DecodeRuneInString(s); size == len(s) && r != utf8.RuneError && (k.Ctrl || k.Alt) {
		k.Code, k.Rune = KeyRune, r
		if _, ok := ctrlByte(r); k.Ctrl && !ok {
			return Key{}, false
		}
		return k, true
	}
	return Key{}, false
}
