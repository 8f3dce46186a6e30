package vterm

import (
	"bytes"
	"strings"

	uv "github.com/charmbracelet/ultraviolet"
)

// A main-screen row goes to OnLine once it is finished, not only when it
// scrolls off: a quiet server's "listening on 8080" must reach the unit's
// log (and a log probe) while it sits on the screen. A row is finished when
// a line feed moves the cursor off it; a logical line that wrapped over
// several rows is one log line. Each row remembers what was logged of it,
// so the same text is not logged again when it scrolls off, is erased by
// ED 2, or is left at the end of the run (Unlogged). What changed after it
// was logged (a rewrite after cursor-up) is logged again when finished or
// scrolled off. The alternate screen is never logged.

// rowLog is what was handed to OnLine of one main-screen row.
type rowLog struct {
	s  string // the row as logged, text and SGR (the comparison form)
	ok bool   // s was logged
}

// lf is the line feed fed to the emulator on its own.
var lf = []byte{'\n'}

// feedLocked writes b to the emulator, stopping at each line feed to log the
// row it finishes. t.mu is held.
func (t *Term) feedLocked(b []byte) {
	if t.onLine == nil {
		_, _ = t.emu.Write(b)
		t.drainLocked()
		return
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.noteSegment(b)
			_, _ = t.emu.Write(b)
			break
		}
		if i > 0 {
			t.noteSegment(b[:i])
			_, _ = t.emu.Write(b[:i])
		}
		t.lineFeedLocked()
		b = b[i+1:]
	}
	t.drainLocked()
}

// noteSegment records whether the text since the last line feed may have
// moved the cursor other than by printing: any escape sequence but SGR
// (colours) makes it so. While it has not, the rows from the line's first
// to the cursor's are one logical line, wrapped.
func (t *Term) noteSegment(b []byte) {
	for t.segClean {
		i := bytes.IndexByte(b, 0x1b)
		if i < 0 {
			return
		}
		b = b[i+1:]
		if len(b) == 0 || b[0] != '[' {
			t.segClean = false
			return
		}
		j := 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';' || b[j] == ':') {
			j++
		}
		if j == len(b) || b[j] != 'm' {
			t.segClean = false // not SGR, or cut by the chunk: assume it moved
			return
		}
		b = b[j+1:]
	}
}

// fitRows keeps one rowLog per screen row.
func (t *Term) fitRows() {
	h := t.emu.Height()
	if len(t.rows) > h {
		t.rows = t.rows[:h]
	}
	for len(t.rows) < h {
		t.rows = append(t.rows, rowLog{})
	}
	t.lineStart = min(t.lineStart, h)
}

// rowFilled reports whether row y's last column holds text: the row may
// have wrapped into the next.
func (t *Term) rowFilled(y int) bool {
	w := t.emu.Width()
	c := t.emu.CellAt(w-1, y)
	if c != nil && c.Content != "" && c.Content != " " {
		return true
	}
	if w >= 2 && c != nil && c.Content == "" {
		if p := t.emu.CellAt(w-2, y); p != nil && p.Width == 2 {
			return true
		}
	}
	return false
}

// lineFeedLocked feeds one line feed; when it moves the cursor off the main
// screen's row, the logical line ending there is logged unless it already
// was, as it stands. t.mu is held.
func (t *Term) lineFeedLocked() {
	t.drainLocked() // scrolls before this feed shift the rows first
	e := t.emu
	if e.IsAltScreen() {
		_, _ = e.Write(lf)
		t.segClean = true
		return
	}
	t.fitRows()
	y := e.CursorPosition().Y
	start := y
	for start > 0 && start-1 >= t.lineStart && (t.segClean || t.rowFilled(start-1)) {
		start--
	}
	w := e.Width()
	t.lineRows = t.lineRows[:0]
	t.plainBuf = t.plainBuf[:0]
	same := true
	for r := start; r <= y; r++ {
		var plain *[]byte
		if !t.colorLines {
			plain = &t.plainBuf
		}
		t.rowBuf = appendRow(t.rowBuf[:0], plain, w, func(x int) *uv.Cell { return e.CellAt(x, r) })
		row := string(t.rowBuf)
		t.lineRows = append(t.lineRows, row)
		if !t.rows[r].ok || t.rows[r].s != row {
			same = false
		}
	}
	pushed := 0
	if sb := e.Scrollback(); sb != nil {
		pushed = sb.Len()
	}
	_, _ = e.Write(lf)
	moved := e.CursorPosition().Y != y
	if sb := e.Scrollback(); sb != nil && sb.Len() > pushed {
		moved = true
	}
	if !moved || e.IsAltScreen() {
		return // inside a string, or at a scroll region's foot: not finished
	}
	t.segClean = true
	t.lineStart = y + 1 // shifted by the drain if the feed scrolled
	if !same {
		if t.colorLines {
			t.newLines = append(t.newLines, strings.Join(t.lineRows, ""))
		} else {
			t.newLines = append(t.newLines, strings.TrimRight(string(t.plainBuf), " "))
		}
	}
	for i, row := range t.lineRows {
		t.rows[start+i] = rowLog{s: row, ok: true}
	}
}

// scrolledLocked decides whether a line that left the main screen is
// logged: not when it is the first row's text as already logged. The rows
// shift up by one. t.mu is held.
func (t *Term) scrolledLocked(row string) bool {
	if len(t.edSkip) > 0 {
		skip := t.edSkip[0]
		t.edSkip = t.edSkip[1:]
		return !skip
	}
	t.resetIfErasedLocked()
	if len(t.rows) == 0 {
		return true
	}
	logged := t.rows[0].ok && t.rows[0].s == row
	copy(t.rows, t.rows[1:])
	t.rows[len(t.rows)-1] = rowLog{}
	t.lineStart = max(t.lineStart-1, 0)
	return !logged
}

// resetIfErasedLocked forgets the rows' records once the lines an erase
// pushed are accounted for: the screen is blank now.
func (t *Term) resetIfErasedLocked() {
	if t.erased && len(t.edSkip) == 0 {
		clear(t.rows)
		t.lineStart = 0
		t.erased = false
	}
}

// eraseLocked runs before the emulator's ED 2 or ED 3: ED 2 pushes the
// screen's non-empty rows to the scrollback, and those already logged as
// they stand are not logged again; after either the screen is blank.
func (t *Term) eraseLocked(n int) {
	t.drainLocked()
	if t.onLine == nil || t.emu.IsAltScreen() {
		return
	}
	t.fitRows()
	t.edSkip = t.edSkip[:0]
	e := t.emu
	w := e.Width()
	if n == 2 {
		for y := range t.rows {
			empty := true
			for x := 0; x < w && empty; x++ {
				if c := e.CellAt(x, y); c != nil && c.Content != "" && c.Content != " " {
					empty = false
				}
			}
			if empty {
				continue // x/vt does not push it
			}
			t.rowBuf = appendRow(t.rowBuf[:0], nil, w, func(x int) *uv.Cell { return e.CellAt(x, y) })
			t.edSkip = append(t.edSkip, t.rows[y].ok && t.rows[y].s == string(t.rowBuf))
		}
	}
	t.erased = true
}

// Unlogged hands the main screen's rows that OnLine has not had as they
// stand, up to the last non-blank row, one line each in OnLine's form, and
// counts them as logged: what a run leaves on the screen goes to the log
// once, at its end (lines not finished by a line feed included). Nothing
// for the alternate screen.
func (t *Term) Unlogged() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.emu
	if e.IsAltScreen() {
		return nil
	}
	t.fitRows()
	t.resetIfErasedLocked()
	w := e.Width()
	type cand struct {
		y      int
		row    string
		plain  string
		logged bool
	}
	var cs []cand
	last := -1
	for y := range t.rows {
		t.plainBuf = t.plainBuf[:0]
		t.rowBuf = appendRow(t.rowBuf[:0], &t.plainBuf, w, func(x int) *uv.Cell { return e.CellAt(x, y) })
		c := cand{y: y, row: string(t.rowBuf), plain: strings.TrimRight(string(t.plainBuf), " ")}
		c.logged = t.rows[y].ok && t.rows[y].s == c.row
		if strings.TrimSpace(c.plain) != "" {
			last = y
		}
		cs = append(cs, c)
	}
	var out []string
	for _, c := range cs[:last+1] {
		if c.logged {
			continue
		}
		if t.colorLines {
			out = append(out, c.row)
		} else {
			out = append(out, c.plain)
		}
		t.rows[c.y] = rowLog{s: c.row, ok: true}
	}
	return out
}
