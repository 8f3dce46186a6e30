package ui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

// A tty unit (Info.TTY) runs on a pseudo-terminal with an emulator kept in
// the engine; the Output view of such a unit shows the emulated screen
// instead of the unit's log lines. The backend offers the screen through
// procs.Terminals, found by a type assertion as the cluster hooks are
// (cluster.go): a backend without it shows tty units' log lines as before.
//
// Nothing tells the screen that an emulated screen changed, so it asks:
// at once when the pane starts showing a unit or a key was sent (then
// after 2, 4, 8... ms, for the child's answer), within ttyPace when the
// unit's log grows (lines scrolled off its screen), and otherwise on a
// tick whose wait doubles while nothing changes, up to ttyIdle, and halves
// when something did, down to ttyPace (30 a second). A fetch that finds the
// screen unchanged builds no frame, so an idle full-screen program costs
// two small reads a second. The pane hidden, nothing is asked.

const (
	// ttyPace is the shortest time between two fetches on a tick: a
	// flooding child is drawn at most 30 times a second.
	ttyPace = time.Second / 30
	// ttyProbe is the first wait after keys were sent and the screen did
	// not show them yet: the echo usually comes within a few milliseconds,
	// so the waits start short and double (2, 4, 8, 16 ms...).
	ttyProbe = 2 * time.Millisecond
	// ttyIdle is the longest wait between two fetches of a screen that
	// does not change: an idle screen costs two small reads a second and
	// no frame.
	ttyIdle = 500 * time.Millisecond
	// ttyResizeDelay debounces resizes: a terminal dragged to a new size
	// sends a burst of sizes; the child gets the last one.
	ttyResizeDelay = 120 * time.Millisecond
	// ttyTitleMax is the most cells a child's title takes beside its name.
	ttyTitleMax = 40
)

// terms returns the backend's Terminals (what the screen asks of a backend
// for tty units), if it has them.
func (m *Model) terms() (procs.Terminals, bool) {
	t, ok := m.backend.(procs.Terminals)
	return t, ok
}

// Messages of the tty pane. gen tags them with the unit shown when they
// were asked: those of a unit no longer shown are stale.
type (
	ttyScreenMsg struct {
		gen int
		scr procs.Screen
		err error
	}
	ttyTickMsg       struct{ tag int }
	ttyScrollbackMsg struct {
		gen   int
		from  int
		lines []string
		err   error
	}
	ttyResizeMsg  struct{ tag int }
	ttyResizedMsg struct {
		name       string
		cols, rows int
		err        error
	}
)

// ttyPane is the Output view of a tty unit: its emulated screen as last
// fetched, the refresh's state, the scrollback being read and the size
// sent to the engine.
type ttyPane struct {
	name string // the unit shown ("" when the pane shows no tty unit)
	gen  int    // bumped when name changes
	held string // the unit whose screen scr is (kept while hidden)

	scr  procs.Screen
	have bool
	err  string
	ver  int // bumped when scr changes, for the rows' cache

	// The refresh.
	inflight  bool          // a Screen call is running
	dirty     bool          // ... and something asked for another one
	tickTag   int           // the armed tick's tag; older ticks are stale
	tickArmed bool          // a tick is armed ...
	tickIn    time.Duration // ... this long after it was armed
	idle      time.Duration // the wait before the next fetch (see applyScreen)

	// The scrollback: back says the pane shows it, from row top of the
	// whole (the scrollback's lines, oldest first, then the screen's rows).
	back   bool
	top    int
	sb     []string // scrollback lines fetched, from sbFrom
	sbFrom int
	sbAsk  bool // a Scrollback call is running

	// The size: what the pane offers (set by render) and what each unit
	// was sent.
	cols, rows int
	sent       map[string][2]int
	resizeTag  int
	resizing   bool // a debounce timer is armed
	// reclaimed is the screen version (ver) at which a key took the size
	// back from another screen attached to the same kelpie (see reclaim).
	reclaimed int

	typing typingState

	// Its keys: the moving keys scroll the scrollback; enter starts typing
	// mode, as the root's i does (enter is the table's fold there).
	moves MoveKeys
	enter key.Binding
	// The rows as drawn, and what they were drawn from.
	rowsKey  ttyRowsKey
	drawn    []string
	position string
	// The screen's rows each drawn row came from (live, not the cursor's
	// row), at width srcW, kept in drawn: a row that did not change is not
	// drawn again.
	src  []string
	srcW int
}

// ttyRowsKey is what the drawn rows depend on.
type ttyRowsKey struct {
	ver, gen, w, h, top int
	back, typing        bool
}

// ttyShown is the tty unit whose screen the pane shows now, or "": a tty
// unit's pane (ttyUnit) that nothing covers (help, a menu, a screen too
// small).
func (m *Model) ttyShown() string {
	if m.helpOpen || m.lay.small || m.menu.open || !m.ttyUnit() {
		return ""
	}
	return m.table.selected().info.Name
}

// ttyUnit reports whether the pane shows a tty unit's screen, whatever
// covers it now (help, a menu): the selected unit in the Output view of a
// single pane, and a backend that has Terminals. Its log lines are not
// followed.
func (m *Model) ttyUnit() bool {
	if m.mode != modeSingle {
		return false
	}
	r := m.table.selected()
	if r == nil || r.virtual || !r.info.TTY || m.shownView() != viewOutput {
		return false
	}
	_, ok := m.terms()
	return ok
}

// syncTTY points the tty pane at what the screen shows and starts what it
// needs: the first fetch, a resize, the end of typing mode. Update runs it
// after every message; it costs a few comparisons when nothing changed.
func (m *Model) syncTTY() tea.Cmd {
	t := &m.tty
	name := m.ttyShown()
	var cmds []tea.Cmd
	if why := m.typingEnds(name); why != "" {
		cmds = append(cmds, m.stopTyping(why))
	}
	switched := name != t.name
	if switched {
		t.name = name
		t.gen++
		t.inflight, t.dirty = false, false
		t.tickArmed = false
		t.tickTag++
		t.idle = ttyPace
		t.resizing = false
		t.resizeTag++
		t.sbAsk = false
		if name != "" && name != t.held {
			// Another unit: nothing of the last one's screen stays. The
			// same one shown again (after help, a menu) keeps its last
			// screen until the fresh one comes.
			t.held = name
			t.scr, t.have, t.err = procs.Screen{}, false, ""
			t.back, t.sb, t.sbFrom = false, nil, 0
			t.ver++
		}
	}
	if name == "" {
		return tea.Batch(cmds...)
	}
	if switched || (!t.have && !t.inflight) {
		cmds = append(cmds, m.fetchScreen())
	}
	cmds = append(cmds, m.resizeTTY())
	return tea.Batch(cmds...)
}

// fetchScreen asks for the shown unit's screen.
func (m *Model) fetchScreen() tea.Cmd {
	t := &m.tty
	tm, ok := m.terms()
	if !ok || t.name == "" {
		return nil
	}
	t.inflight, t.dirty = true, false
	name, gen := t.name, t.gen
	return func() tea.Msg {
		s, err := tm.Screen(name)
		return ttyScreenMsg{gen: gen, scr: s, err: err}
	}
}

// armTick arms the refresh's tick d from now; an older one goes stale.
func (m *Model) armTick(d time.Duration) tea.Cmd {
	t := &m.tty
	t.tickTag++
	t.tickArmed, t.tickIn = true, d
	return m.after(d, ttyTickMsg{tag: t.tickTag})
}

// ttyOutput notes that the shown tty unit wrote (its log grew, its state or
// title changed): the screen is fetched within ttyPace.
func (m *Model) ttyOutput() tea.Cmd {
	t := &m.tty
	switch {
	case t.name == "":
		return nil
	case t.inflight:
		t.dirty = true
		return nil
	case t.tickArmed && t.tickIn <= ttyPace:
		return nil // the next fetch is soon enough
	}
	t.idle = ttyPace
	return m.armTick(ttyPace)
}

// wrote reports whether a batch says the shown tty unit wrote: lines
// scrolled off its screen, or its state or title changed.
func (t *ttyPane) wrote(b procs.Batch) bool {
	if t.name == "" {
		return false
	}
	if _, ok := b.Logs[t.name]; ok {
		return true
	}
	for i := range b.States {
		if b.States[i].Name == t.name {
			return true
		}
	}
	return false
}

// ttyNow asks for the screen at once (keys were sent, the size changed),
// probing at short and growing intervals after it for what the child
// draws in answer.
func (m *Model) ttyNow() tea.Cmd {
	t := &m.tty
	if t.name == "" {
		return nil
	}
	t.idle = ttyProbe
	if t.inflight {
		t.dirty = true
		return nil
	}
	t.tickArmed = false
	t.tickTag++
	return m.fetchScreen()
}

// applyScreen applies a fetched screen and arms the next fetch; it
// reports whether the pane looks different.
func (m *Model) applyScreen(msg ttyScreenMsg) (tea.Cmd, bool) {
	t := &m.tty
	if msg.gen != t.gen || t.name == "" {
		return nil, false
	}
	t.inflight = false
	changed := false
	if msg.err != nil {
		e := msg.err.Error()
		changed = e != t.err
		t.err = e
		if changed {
			t.ver++
		}
		if !t.have {
			// Nothing to show yet: ask again, slowly.
			t.idle = ttyIdle
			return m.armTick(ttyIdle), changed
		}
	} else {
		changed = !t.have || t.err != "" || !sameScreen(&t.scr, &msg.scr)
		t.err = ""
		if changed {
			t.scr, t.have = msg.scr, true
			t.ver++
		}
	}
	switch {
	case t.dirty:
		t.idle = ttyPace
	case changed && t.idle < ttyPace:
		// Keys were answered: keep probing a little for the rest.
		t.idle *= 2
	case changed:
		// Halved, not back to the pace at once: a program that redraws
		// now and then (htop every second) is read about as often as it
		// draws, one that draws all the time soon at the pace.
		t.idle = max(t.idle/2, ttyPace)
	default:
		t.idle = min(t.idle*2, ttyIdle)
	}
	t.dirty = false
	cmd := m.armTick(t.idle)
	if t.back {
		cmd = tea.Batch(cmd, m.fetchScrollback())
	}
	return cmd, changed
}

// tickTTY is the refresh's tick: it fetches the screen, unless the tick is
// stale or the pane hides it.
func (m *Model) tickTTY(msg ttyTickMsg) tea.Cmd {
	t := &m.tty
	if msg.tag != t.tickTag || !t.tickArmed {
		return nil
	}
	t.tickArmed = false
	if t.name == "" {
		return nil
	}
	if t.inflight {
		t.dirty = true
		return nil
	}
	return m.fetchScreen()
}

// sameScreen reports whether two screens draw the same.
func sameScreen(a, b *procs.Screen) bool {
	if a.Cols != b.Cols || a.Rows != b.Rows || a.CursorX != b.CursorX || a.CursorY != b.CursorY ||
		a.CursorVisible != b.CursorVisible || a.AltScreen != b.AltScreen || a.Title != b.Title ||
		a.Scrollback != b.Scrollback {
		return false
	}
	return slices.Equal(a.Lines, b.Lines)
}

// resizeTTY sends the pane's size to the shown unit when it differs from
// what the unit was last sent: at once the first time, else after
// ttyResizeDelay (debounced).
func (m *Model) resizeTTY() tea.Cmd {
	t := &m.tty
	if t.name == "" || t.cols <= 0 || t.rows <= 0 {
		return nil
	}
	if t.sent == nil {
		t.sent = make(map[string][2]int)
	}
	sent, ok := t.sent[t.name]
	if sent == [2]int{t.cols, t.rows} {
		t.resizing = false
		return nil
	}
	if ok || t.resizing {
		if t.resizing {
			return nil // the armed timer takes the size then
		}
		t.resizing = true
		t.resizeTag++
		return m.after(ttyResizeDelay, ttyResizeMsg{tag: t.resizeTag})
	}
	return m.sendResize()
}

// reclaim gives the unit this pane's size again when the screen as
// fetched has another one although this pane sent its own: a second
// screen attached to the same kelpie sized it since. The screen that types
// into a unit sizes it, as tmux gives a window to its latest client; once
// per fetched screen, not per key.
func (m *Model) reclaim(name string) tea.Cmd {
	t := &m.tty
	if name != t.name || !t.have || t.cols <= 0 || t.rows <= 0 || t.resizing || t.reclaimed == t.ver {
		return nil
	}
	pane := [2]int{t.cols, t.rows}
	if t.sent[name] != pane || (t.scr.Cols == t.cols && t.scr.Rows == t.rows) {
		return nil
	}
	t.reclaimed = t.ver
	return m.sendResize()
}

// sendResize sends the pane's size now.
func (m *Model) sendResize() tea.Cmd {
	t := &m.tty
	tm, ok := m.terms()
	if !ok || t.name == "" {
		return nil
	}
	name, cols, rows := t.name, t.cols, t.rows
	t.sent[name] = [2]int{cols, rows}
	t.resizing = false
	return func() tea.Msg {
		return ttyResizedMsg{name: name, cols: cols, rows: rows, err: tm.Resize(name, cols, rows)}
	}
}

// applyResizeTimer sends the size the debounce waited for.
func (m *Model) applyResizeTimer(msg ttyResizeMsg) tea.Cmd {
	t := &m.tty
	if msg.tag != t.resizeTag || !t.resizing {
		return nil
	}
	t.resizing = false
	if t.name == "" || t.sent[t.name] == [2]int{t.cols, t.rows} {
		return nil
	}
	return m.sendResize()
}

// applyResized fetches the screen drawn at the new size; a refused resize
// is forgotten, so that the next frame tries again, and said.
func (m *Model) applyResized(msg ttyResizedMsg) tea.Cmd {
	t := &m.tty
	if msg.err != nil {
		if t.sent[msg.name] == [2]int{msg.cols, msg.rows} {
			delete(t.sent, msg.name)
		}
		return m.setStatus(statusError, "resize "+msg.name+": "+msg.err.Error())
	}
	if msg.name == t.name {
		return m.ttyNow()
	}
	return nil
}

// The scrollback.

// scrollTTY scrolls the pane by delta rows (negative: back, into the
// scrollback); top and bottom go to the oldest line and back to live.
func (m *Model) scrollTTY(delta int, top, bottom bool) tea.Cmd {
	t := &m.tty
	if !t.have {
		return nil
	}
	live := t.scr.Scrollback + t.screenTop()
	switch {
	case bottom:
		t.back = false
		return nil
	case top:
		t.top = 0
	case !t.back:
		t.top = live + delta
	default:
		t.top += delta
	}
	t.top = max(t.top, 0)
	t.back = t.top < live
	if !t.back {
		return nil
	}
	return m.fetchScrollback()
}

// fetchScrollback reads the scrollback lines the pane shows (and a page
// either side) unless it has them.
func (m *Model) fetchScrollback() tea.Cmd {
	t := &m.tty
	tm, ok := m.terms()
	n := t.scr.Scrollback
	if !ok || !t.back || t.sbAsk || t.top >= n {
		return nil
	}
	h := max(t.rows, 1)
	end := min(n, t.top+h)
	if t.top >= t.sbFrom && end <= t.sbFrom+len(t.sb) {
		return nil
	}
	from, to := max(0, t.top-h), min(n, t.top+2*h)
	t.sbAsk = true
	name, gen := t.name, t.gen
	return func() tea.Msg {
		lines, err := tm.Scrollback(name, from, to)
		return ttyScrollbackMsg{gen: gen, from: from, lines: lines, err: err}
	}
}

// applyScrollback keeps the scrollback lines read.
func (m *Model) applyScrollback(msg ttyScrollbackMsg) (tea.Cmd, bool) {
	t := &m.tty
	if msg.gen != t.gen {
		return nil, false
	}
	t.sbAsk = false
	if msg.err != nil {
		return m.setStatus(statusError, "scrollback of "+t.name+": "+msg.err.Error()), true
	}
	t.sb, t.sbFrom = msg.lines, msg.from
	t.ver++
	return m.fetchScrollback(), true
}

// screenTop is the first of the screen's rows the pane shows live: a
// screen taller than the pane (not resized yet) keeps its cursor in view.
func (t *ttyPane) screenTop() int {
	h := max(t.rows, 1)
	if n := len(t.scr.Lines); n > h && t.scr.CursorY >= h {
		return min(t.scr.CursorY-h+1, n-h)
	}
	return 0
}

// ttyBindings are the tty pane's keys, for routing.
func (t *ttyPane) bindings() []*key.Binding { return append(t.moves.list(), &t.enter) }

// updateKeys enables the tty pane's keys: the moving keys scroll its
// scrollback when it has the keyboard, and enter types into the unit when
// it runs as well.
func (t *ttyPane) updateKeys(focused, running bool) {
	t.enter.SetEnabled(focused && running)
	mv := &t.moves
	mv.enable(focused)
	if !focused {
		return
	}
	mv.Up.SetHelp("↑/k", "up")
	mv.Down.SetHelp("↓/j", "down")
	mv.Top.SetHelp("g/home", "top")
	mv.Bottom.SetHelp("G/end", "live")
	mv.Bottom.SetEnabled(t.back)
}

// ttyKey answers the tty pane's keys: enter starts typing mode, a moving
// key scrolls.
func (m *Model) ttyKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.tty.enter) {
		return m.startTyping(msg)
	}
	delta, top, bottom := m.tty.moves.distance(msg, m.tty.rows)
	return m.scrollTTY(delta, top, bottom)
}

// The view.

// renderTTY draws the tty pane's body, w x h, and words where it is.
func (m *Model) renderTTY(w, h int) ([]string, string) {
	t := &m.tty
	t.cols, t.rows = w, h
	k := ttyRowsKey{ver: t.ver, gen: t.gen, w: w, h: h, top: t.top, back: t.back, typing: t.typing.on}
	if k == t.rowsKey && len(t.drawn) == h {
		return t.drawn, t.position
	}
	t.rowsKey = k
	p := m.pal
	rows := t.drawn[:0]
	if !t.have || t.back {
		t.srcW = -1 // drawn will not hold the live screen's rows
	}
	switch {
	case !t.have && t.err != "":
		rows = append(rows, p.err.on(truncate(safe(t.err), w)))
	case !t.have:
		rows = append(rows, p.dim.on(truncate("loading…", w)))
	case t.back:
		rows = t.backRows(rows, w, h)
	default:
		rows = t.liveRows(rows, w, h)
	}
	for len(rows) < h {
		rows = append(rows, "")
	}
	t.drawn = rows[:h]
	t.position = t.where()
	return t.drawn, t.position
}

// backRows appends the rows of the scrollback from row top on: its lines
// (blank until they are read), then the screen's rows.
func (t *ttyPane) backRows(rows []string, w, h int) []string {
	n := t.scr.Scrollback
	for i := t.top; i < t.top+h; i++ {
		switch {
		case i < n && i >= t.sbFrom && i < t.sbFrom+len(t.sb):
			rows = append(rows, ttyRow(t.sb[i-t.sbFrom], w))
		case i < n:
			rows = append(rows, "")
		case i-n < len(t.scr.Lines):
			rows = append(rows, ttyRow(t.scr.Lines[i-n], w))
		}
	}
	return rows
}

// liveRows appends the live screen's rows, the cursor drawn; rows holds
// the rows drawn last time in its spare capacity, reused where the screen's
// row did not change.
func (t *ttyPane) liveRows(rows []string, w, h int) []string {
	top := t.screenTop()
	if t.srcW != w || cap(rows) < h {
		t.src, t.srcW = t.src[:0], w
	}
	for y := top; y < len(t.scr.Lines) && y < top+h; y++ {
		i, line := len(rows), t.scr.Lines[y]
		cursor := t.scr.CursorVisible && y == t.scr.CursorY
		if !cursor && i < len(t.src) && t.src[i] == line {
			rows = append(rows, rows[:i+1][i]) // drawn the same last time
			continue
		}
		row := ttyRow(line, w)
		src := line
		if cursor {
			row = withCursor(row, t.scr.CursorX, w)
			src = "\x00" // no row holds a NUL: the cursor's row is drawn anew
		}
		rows = append(rows, row)
		for len(t.src) <= i {
			t.src = append(t.src, "\x00")
		}
		t.src[i] = src
	}
	return rows
}

// where words the pane's place for its title.
func (t *ttyPane) where() string {
	if !t.have {
		return "terminal"
	}
	size := strconv.Itoa(t.scr.Cols) + "×" + strconv.Itoa(t.scr.Rows)
	switch {
	case t.back:
		n := t.scr.Scrollback
		return "scrollback · line " + grouped(uint64(min(t.top, n)+1)) + "/" + grouped(uint64(n)) + " · " + size
	case t.err != "":
		return "terminal · " + safe(t.err)
	case t.typing.on:
		return "typing · " + size
	}
	return "terminal · " + size
}

// ttyRow is one row of the child's screen fit for the pane: through the
// sanitiser like every outside text (the engine's rows are text and SGR
// already), cut to w cells.
func ttyRow(line string, w int) string {
	line = termSafe(line)
	if len(line) > w && width(line) > w { // a cell takes a byte at least
		line = ansi.Truncate(line, w, "")
	}
	if strings.IndexByte(line, 0x1b) >= 0 {
		line += sgrReset
	}
	return line
}

// withCursor draws the cursor on row at column x: that cell in reverse
// video.
func withCursor(row string, x, w int) string {
	if x < 0 || x >= w {
		return row
	}
	left := ansi.Truncate(row, x, "")
	if lw := width(left); lw < x {
		left += spaces(x - lw)
	}
	cell := ansi.Strip(ansi.Cut(row, x, x+1))
	if cell == "" {
		cell = " "
	}
	right := ansi.TruncateLeft(row, x+1, "")
	return left + sgrReset + "\x1b[7m" + cell + sgrReset + right
}

// ttyTitle is the child's title as the pane's title shows it: cleaned
// and cut.
func (m *Model) ttyTitle(in *procs.Info) string {
	title := in.Title
	if t := &m.tty; t.have && t.name == in.Name && t.scr.Title != "" {
		title = t.scr.Title
	}
	return truncate(safe(title), ttyTitleMax)
}
