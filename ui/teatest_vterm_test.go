package ui

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// vterm replays what the program wrote into the rows a terminal would
// show. It knows what Bubble Tea's standard renderer writes: whole lines from
// column 0, cursor moves by rows, erasing; colours and modes are skipped.
//
// teatest's writer passes the output on a rune at a time, so a read can end
// in the middle of a frame. Waits look only at whole frames: the renderer
// ends each one with a carriage return on the bottom row (every earlier
// carriage return of a frame is on a row above), and String returns the
// rows as they stood then.
type vterm struct {
	rows    []string
	frame   []string // the rows at the end of the last whole frame
	row     int
	fresh   bool   // the cursor is at column 0: text starts the row afresh
	pending []byte // an escape sequence or rune cut short by a read
}

func newVterm(h int) *vterm {
	return &vterm{rows: make([]string, h), frame: make([]string, h), fresh: true}
}

func (v *vterm) feed(b []byte) {
	data := append(v.pending, b...)
	v.pending = nil
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == 0x1b:
			n := v.escape(data[i:])
			if n == 0 {
				v.pending = append([]byte(nil), data[i:]...)
				return
			}
			i += n
			continue
		case c == '\r':
			v.fresh = true
			if v.row == len(v.frame)-1 {
				copy(v.frame, v.rows)
			}
		case c == '\n':
			v.row++
		case c < 0x20 || c == 0x7f:
		default:
			if !utf8.FullRune(data[i:]) {
				v.pending = append([]byte(nil), data[i:]...)
				return
			}
			_, n := utf8.DecodeRune(data[i:])
			for v.row >= len(v.rows) {
				v.rows = append(v.rows, "")
			}
			if v.fresh {
				v.rows[v.row], v.fresh = "", false
			}
			v.rows[v.row] += string(data[i : i+n])
			i += n
			continue
		}
		i++
	}
}

// escape applies the sequence b starts with and returns its length, or 0
// when b holds only part of it.
func (v *vterm) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '[':
		for j := 2; j < len(b); j++ {
			if b[j] >= 0x40 && b[j] <= 0x7e {
				v.csi(string(b[2:j]), b[j])
				return j + 1
			}
		}
		return 0
	case ']', 'P', '_', '^': // strings, ended by BEL or ST
		for j := 2; j < len(b); j++ {
			if b[j] == 0x07 {
				return j + 1
			}
			if b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\' {
				return j + 2
			}
		}
		return 0
	case '(', ')':
		if len(b) < 3 {
			return 0
		}
		return 3
	}
	return 2
}

func (v *vterm) csi(params string, final byte) {
	if strings.HasPrefix(params, "?") {
		return // private modes: cursor, paste, mouse
	}
	args := strings.Split(params, ";")
	num := func(i int) int {
		if i < len(args) {
			if n, err := strconv.Atoi(args[i]); err == nil && n > 0 {
				return n
			}
		}
		return 1
	}
	clear := func(from int) {
		for i := max(from, 0); i < len(v.rows); i++ {
			v.rows[i] = ""
		}
	}
	switch final {
	case 'A':
		v.row = max(v.row-num(0), 0)
	case 'B':
		v.row += num(0)
	case 'H', 'f':
		v.row, v.fresh = num(0)-1, num(1) == 1
	case 'J':
		switch {
		case params == "2" || params == "3":
			clear(0)
		case v.fresh:
			clear(v.row)
		default:
			clear(v.row + 1)
		}
	case 'K':
		if v.fresh || params == "2" {
			if v.row < len(v.rows) {
				v.rows[v.row] = ""
			}
		}
	}
}

// String is the last whole frame.
func (v *vterm) String() string { return strings.Join(v.frame, "\n") }

func goroutineIDs() map[string]bool {
	ids := make(map[string]bool)
	for _, g := range goroutines() {
		if m := goroutineHead.FindStringSubmatch(g); m != nil {
			ids[m[1]] = true
		}
	}
	return ids
}

func goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// checkNoStrays fails if a goroutine started since before, running Bubble
// Tea or this package's code (commands, the fake), is still there once the
// program has ended. (teatest's own SIGINT watcher is not one of them: it
// lives as long as the process, by teatest's design.)
func checkNoStrays(t *testing.T, before map[string]bool) {
	t.Helper()
	var stray []string
	for deadline := time.Now().Add(ttWait); ; time.Sleep(ttPoll) {
		stray = stray[:0]
		for _, g := range goroutines() {
			m := goroutineHead.FindStringSubmatch(g)
			if m == nil || before[m[1]] || strings.Contains(g, "testing.tRunner") {
				continue
			}
			if strings.Contains(g, "github.com/charmbracelet/bubbletea.") || strings.Contains(g, "github.com/kelpie-dev/kelpie/ui.") {
				stray = append(stray, g)
			}
		}
		if len(stray) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, g := range stray {
		t.Errorf("goroutine left running after the program ended:\n%s", g)
	}
}
