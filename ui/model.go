package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// Options configure the screen. The zero value is usable.
type Options struct {
	// Title is the name in the header (default "kelpie").
	Title string
	// Version follows the title when set.
	Version string
	// Now is the clock for uptimes and countdowns (default time.Now).
	Now func() time.Time
	// KeepLines caps the output lines kept per shown unit (default 2000).
	KeepLines int
	// StatusTimeout is how long a status message stays (default 4 s; errors
	// stay twice as long).
	StatusTimeout time.Duration
	// WideWidth is the terminal width from which the detail pane sits right
	// of the table instead of under it (default 160).
	WideWidth int
	// FPS caps how often Run redraws the terminal (default 20). Bubble Tea
	// v1 wakes up this often even when nothing changed, so it is most of an
	// idle screen's cost; 20 keeps a key's echo under 50 ms.
	FPS int
	// Styles and KeyMap replace the defaults when set.
	Styles *Styles
	KeyMap *KeyMap
}

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = "kelpie"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeepLines <= 0 {
		o.KeepLines = 2000
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = 4 * time.Second
	}
	if o.WideWidth <= 0 {
		o.WideWidth = 160
	}
	if o.FPS <= 0 {
		o.FPS = 20
	}
	return o
}

// Messages. Commands produce them; Update applies them.
type (
	subscribedMsg struct {
		infos []procs.Info
		sub   Subscription
	}
	batchMsg  struct{ batch procs.Batch }
	subEndMsg struct{ err error }
	actionMsg struct {
		verb, name string
		err        error
	}
	statusClearMsg  struct{ tag int }
	clockMsg        struct{ tag int }
	shutdownDoneMsg struct{ err error }
	// signalMsg is a signal kelpie received (Run forwards them): it quits
	// like `q` does, and a second one kills what is left.
	signalMsg struct{ sig os.Signal }
)

type statusKind uint8

const (
	statusInfo statusKind = iota
	statusOK
	statusError
)

type status struct {
	kind statusKind
	text string
}

// counts are the header's totals.
type counts struct {
	units, running, crashed, backoff, live int
	cpu                                    float64
	rss                                    uint64
}

// layout is where everything goes at the current size.
type layout struct {
	small          bool // too small to draw anything but a note
	wide           bool // pane right of the table
	tableW, tableH int  // tableH counts the column header
	paneW, paneH   int  // paneH counts the pane's title lines
}

// Model is the kelpie screen, a tea.Model.
type Model struct {
	backend Backend
	opts    Options
	pal     *palette
	keys    KeyMap
	help    help.Model
	after   func(time.Duration, tea.Msg) tea.Cmd // timers (tests replace it)

	ctx    context.Context // ends the pending Next when the program quits
	cancel context.CancelFunc
	sub    Subscription

	width, height int
	lay           layout

	table    unitTable
	logs     logStore
	pane     outputPane
	shown    string // the unit whose output the pane shows
	focus    focusArea
	helpOpen bool

	subscribed bool
	subEnded   bool
	self       procs.UnitStats
	haveStats  bool
	totals     counts

	status     status
	statusTag  int
	clockTag   int
	clockArmed bool

	shutting   bool // Backend.Shutdown is running
	killing    bool // ... and its context was cancelled
	done       bool // ... and it returned
	shutCancel context.CancelFunc
	shutErr    error

	// Rendered in Update, joined in View.
	header, statusLine, footer string
	paneLines                  []string // title lines and body, or the full help
	frame                      string
}

// New makes the screen for a backend. Nothing is asked of the backend until
// the program runs Init's command.
func New(b Backend, opts Options) Model {
	opts = opts.withDefaults()
	st := DefaultStyles()
	if opts.Styles != nil {
		st = *opts.Styles
	}
	km := DefaultKeyMap()
	if opts.KeyMap != nil {
		km = *opts.KeyMap
	}
	pal := st.compile()
	h := help.New()
	h.Styles = st.helpStyles()
	ctx, cancel := context.WithCancel(context.Background())
	m := Model{
		backend: b,
		opts:    opts,
		pal:     &pal,
		keys:    km,
		help:    h,
		after:   tick,
		ctx:     ctx,
		cancel:  cancel,
		table:   newUnitTable(),
		logs:    newLogStore(),
	}
	m.pane.reset()
	m.render()
	return m
}

func tick(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}

// Init subscribes to the engine.
func (m Model) Init() tea.Cmd {
	b := m.backend
	return func() tea.Msg {
		infos, sub := b.Subscribe()
		return subscribedMsg{infos: infos, sub: sub}
	}
}

// next waits for the engine's next batch. Update re-arms it after each one.
func (m *Model) next() tea.Cmd {
	sub, ctx := m.sub, m.ctx
	if sub == nil || m.subEnded {
		return nil
	}
	return func() tea.Msg {
		b, err := sub.Next(ctx)
		if err != nil {
			return subEndMsg{err: err}
		}
		return batchMsg{batch: b}
	}
}

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	changed := true
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height

	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys typed faster than the terminal is read arrive as one
			// message ("jjj"): they are still separate key presses.
			for _, r := range msg.Runes {
				k := msg
				k.Runes = []rune{r}
				cmds = append(cmds, m.handleKey(k))
			}
			break
		}
		cmds = append(cmds, m.handleKey(msg))

	case signalMsg:
		cmds = append(cmds, m.quit())

	case subscribedMsg:
		m.sub, m.subscribed = msg.sub, true
		m.table.empty = "no units"
		m.table.reset(msg.infos)
		m.recount()
		cmds = append(cmds, m.showSelected(), m.next())

	case batchMsg:
		cmds = append(cmds, m.applyBatch(msg.batch), m.next())

	case subEndMsg:
		m.subEnded = true
		if !m.shutting && !errors.Is(msg.err, context.Canceled) {
			text := "lost the engine's events: " + msg.err.Error()
			if errors.Is(msg.err, procs.ErrClosed) {
				text = "the engine has shut down"
			}
			m.status = status{kind: statusError, text: text}
			m.statusTag++ // stays: nothing will update the screen again
		}

	case logsMsg:
		cmds = append(cmds, m.applyLogs(msg))

	case actionMsg:
		cmds = append(cmds, m.actionDone(msg))

	case statusClearMsg:
		if msg.tag != m.statusTag || m.status.text == "" {
			changed = false
			break
		}
		m.status = status{}

	case clockMsg:
		if msg.tag != m.clockTag {
			changed = false
			break
		}
		m.clockArmed = false

	case shutdownDoneMsg:
		m.done, m.shutErr = true, msg.err
		if m.shutCancel != nil {
			m.shutCancel()
		}
		m.cancel()
		return m, tea.Quit

	default:
		changed = false
	}
	if changed {
		m.render()
		cmds = append(cmds, m.armClock())
	}
	return m, tea.Batch(cmds...)
}

// View returns the frame Update prepared.
func (m Model) View() string { return m.frame }

// ShutdownDone reports whether the backend's shutdown ran to its end (Run
// uses it to finish the job when the program ended another way).
func (m Model) ShutdownDone() bool { return m.done }

func (m *Model) now() time.Time { return m.opts.Now() }

// handleKey applies a key press.
func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &m.keys
	k.apply(m.keyState()) // an earlier key of the same message may have changed it
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.helpOpen = true
	case key.Matches(msg, k.CloseHelp):
		m.helpOpen = false
	case key.Matches(msg, k.Focus):
		if m.focus == focusTable {
			m.focus = focusOutput
		} else {
			m.focus = focusTable
		}
	case key.Matches(msg, k.Timestamps):
		m.pane.toggleTimestamps()
	case key.Matches(msg, k.Start):
		return m.act("start", m.backend.Start)
	case key.Matches(msg, k.Stop):
		return m.act("stop", m.backend.Stop)
	case key.Matches(msg, k.Restart):
		return m.act("restart", m.backend.Restart)
	case key.Matches(msg, k.Kill):
		be := m.backend
		return m.act("kill", func(name string) error { return be.Signal(name, syscall.SIGKILL) })
	case key.Matches(msg, k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom):
		if m.focus == focusTable {
			return m.moveCursor(msg)
		}
		m.scrollPane(msg)
	default:
		return m.explainDisabled(msg)
	}
	return nil
}

// moveCursor moves the table's selection.
func (m *Model) moveCursor(msg tea.KeyMsg) tea.Cmd {
	k, t := &m.keys, &m.table
	page := t.pageRows()
	switch {
	case key.Matches(msg, k.Up):
		t.move(-1)
	case key.Matches(msg, k.Down):
		t.move(1)
	case key.Matches(msg, k.PageUp):
		t.move(-page)
	case key.Matches(msg, k.PageDown):
		t.move(page)
	case key.Matches(msg, k.HalfUp):
		t.move(-max(page/2, 1))
	case key.Matches(msg, k.HalfDown):
		t.move(max(page/2, 1))
	case key.Matches(msg, k.Top):
		t.moveTo(0)
	case key.Matches(msg, k.Bottom):
		t.moveTo(len(t.visible) - 1)
	}
	return m.showSelected()
}

// scrollPane scrolls the output.
func (m *Model) scrollPane(msg tea.KeyMsg) {
	k, p := &m.keys, &m.pane
	b := m.logs.get(m.shown)
	page := max(p.height, 1)
	switch {
	case key.Matches(msg, k.Up):
		p.scroll(m.pal, b, -1)
	case key.Matches(msg, k.Down):
		p.scroll(m.pal, b, 1)
	case key.Matches(msg, k.PageUp):
		p.scroll(m.pal, b, -page)
	case key.Matches(msg, k.PageDown):
		p.scroll(m.pal, b, page)
	case key.Matches(msg, k.HalfUp):
		p.scroll(m.pal, b, -max(page/2, 1))
	case key.Matches(msg, k.HalfDown):
		p.scroll(m.pal, b, max(page/2, 1))
	case key.Matches(msg, k.Top):
		p.home(m.pal, b)
	case key.Matches(msg, k.Bottom):
		p.end()
	}
}

// explainDisabled answers an action key that does not apply to the selected
// unit with a word instead of silence.
func (m *Model) explainDisabled(msg tea.KeyMsg) tea.Cmd {
	r := m.table.selected()
	if r == nil || m.shutting {
		return nil
	}
	k, s := msg.String(), r.info.State
	var verb, why string
	switch {
	case has(m.keys.Start, k):
		verb, why = "start", "already "+string(s)
	case has(m.keys.Stop, k):
		verb, why = "stop", "not running"
		if s == procs.Stopping {
			why = "already stopping"
		}
	case has(m.keys.Kill, k):
		verb, why = "kill", "no process"
	default:
		return nil
	}
	return m.setStatus(statusInfo, verb+" "+r.info.Name+": "+why)
}

func has(b key.Binding, k string) bool {
	for _, x := range b.Keys() {
		if x == k {
			return true
		}
	}
	return false
}

// act runs an action on the selected unit in a command.
func (m *Model) act(verb string, f func(string) error) tea.Cmd {
	r := m.table.selected()
	if r == nil {
		return nil
	}
	name := r.info.Name
	return func() tea.Msg { return actionMsg{verb: verb, name: name, err: f(name)} }
}

func (m *Model) actionDone(msg actionMsg) tea.Cmd {
	if msg.err != nil {
		return m.setStatus(statusError, msg.verb+" "+msg.name+": "+trimErr(msg.err, msg.verb, msg.name))
	}
	var text string
	switch msg.verb {
	case "start":
		text = "started " + msg.name
	case "stop":
		text = "stopping " + msg.name
	case "restart":
		text = "restarting " + msg.name
	case "kill":
		text = "sent SIGKILL to " + msg.name
	default:
		text = msg.verb + " " + msg.name
	}
	return m.setStatus(statusOK, text)
}

// trimErr drops the `verb "name": ` the engine puts in front of its errors,
// since the status line says it already.
func trimErr(err error, verb, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, verb+" "+strconv.Quote(name)+": ")
	s = strings.TrimPrefix(s, "signal "+strconv.Quote(name)+": ")
	return s
}

// setStatus shows a message that clears itself.
func (m *Model) setStatus(kind statusKind, text string) tea.Cmd {
	m.statusTag++
	m.status = status{kind: kind, text: text}
	d := m.opts.StatusTimeout
	if kind == statusError {
		d *= 2
	}
	return m.after(d, statusClearMsg{tag: m.statusTag})
}

// quit starts the shutdown; the second time it cancels it, which kills
// whatever is still running.
func (m *Model) quit() tea.Cmd {
	switch {
	case m.done:
		return tea.Quit
	case m.shutting:
		if !m.killing {
			m.killing = true
			m.shutCancel()
		}
		return nil
	}
	m.shutting = true
	m.helpOpen = false
	ctx, cancel := context.WithCancel(context.Background())
	m.shutCancel = cancel
	be := m.backend
	return func() tea.Msg { return shutdownDoneMsg{err: be.Shutdown(ctx)} }
}

// showSelected points the pane at the selected unit and fetches its output
// when the pane lacks some.
func (m *Model) showSelected() tea.Cmd {
	r := m.table.selected()
	if r == nil {
		m.shown = ""
		return nil
	}
	if r.info.Name != m.shown {
		m.shown = r.info.Name
		m.pane.reset()
	}
	b := m.logs.open(m.shown, r.info.LastSeq)
	if b.needsFetch() {
		return b.fetch(m.backend, m.opts.KeepLines)
	}
	return nil
}

// applyBatch applies the engine's events.
func (m *Model) applyBatch(b procs.Batch) tea.Cmd {
	t := &m.table
	keep := t.selectedName()
	structural := false
	for _, in := range b.States {
		if t.upsert(in) {
			structural = true
		}
		if buf := m.logs.get(in.Name); buf != nil {
			buf.want = max(buf.want, in.LastSeq)
		}
	}
	for _, name := range b.Removed {
		if t.remove(name) {
			structural = true
			m.logs.drop(name)
		}
	}
	if structural {
		t.rebuild(keep)
	}
	if st := b.Stats; st != nil {
		for name, us := range st.Units {
			if r := t.byName[name]; r != nil && r.info.State.Live() {
				r.info.CPU, r.info.RSS, r.info.Procs = us.CPU, us.RSS, us.Procs
			}
		}
		m.self, m.haveStats = st.Self, true
	}
	for name, seq := range b.Logs {
		if r := t.byName[name]; r != nil {
			r.info.LastSeq = max(r.info.LastSeq, seq)
		}
		if buf := m.logs.get(name); buf != nil {
			buf.want = max(buf.want, seq)
		}
	}
	m.recount()
	if t.selectedName() != m.shown || m.shown == "" {
		return m.showSelected()
	}
	if buf := m.logs.get(m.shown); buf != nil && buf.needsFetch() {
		return buf.fetch(m.backend, m.opts.KeepLines)
	}
	return nil
}

func (m *Model) applyLogs(msg logsMsg) tea.Cmd {
	b := m.logs.get(msg.name)
	if b == nil {
		return nil // no longer kept
	}
	b.apply(msg, m.opts.KeepLines)
	if msg.name != m.shown {
		return nil
	}
	var cmds []tea.Cmd
	if msg.err != nil {
		cmds = append(cmds, m.setStatus(statusError, "output of "+msg.name+": "+msg.err.Error()))
	}
	if b.needsFetch() {
		cmds = append(cmds, b.fetch(m.backend, m.opts.KeepLines))
	}
	return tea.Batch(cmds...)
}

func (m *Model) recount() {
	c := counts{units: len(m.table.order)}
	for _, r := range m.table.byName {
		in := &r.info
		switch in.State {
		case procs.Running:
			c.running++
		case procs.Crashed:
			c.crashed++
		case procs.Backoff:
			c.backoff++
		}
		if in.State.Live() {
			c.live++
			c.cpu += in.CPU
			c.rss += in.RSS
		}
	}
	m.totals = c
}

// armClock schedules one wake-up for when a backoff countdown on screen
// next changes. Without one, the screen waits for events and costs nothing.
func (m *Model) armClock() tea.Cmd {
	if m.clockArmed || m.lay.small {
		return nil
	}
	now := m.now()
	soonest := time.Duration(-1)
	consider := func(in *procs.Info) {
		if in.State != procs.Backoff || !in.NextStart.After(now) {
			return
		}
		rem := in.NextStart.Sub(now)
		d := rem - time.Duration(countdown(in.NextStart, now)-1)*time.Second
		if soonest < 0 || d < soonest {
			soonest = d
		}
	}
	t := &m.table
	for i := t.offset; i < len(t.visible) && i < t.offset+t.pageRows(); i++ {
		consider(&t.visible[i].info)
	}
	if r := t.selected(); r != nil {
		consider(&r.info)
	}
	if soonest < 0 {
		return nil
	}
	m.clockArmed = true
	m.clockTag++
	return m.after(soonest+time.Millisecond, clockMsg{tag: m.clockTag})
}

// keyState is what the key map needs to know.
func (m *Model) keyState() keyState {
	st := keyState{focus: m.focus, following: m.pane.follow, helpOpen: m.helpOpen, shutting: m.shutting}
	if r := m.table.selected(); r != nil {
		st.selected = &r.info
	}
	return st
}

// computeLayout places the table and the pane for the current size.
func (m *Model) computeLayout() layout {
	w, h := m.width, m.height
	body := h - 3 // header, status line, footer
	if w < 30 || body < 4 {
		return layout{small: true}
	}
	if w >= m.opts.WideWidth {
		tw := min(max(w*9/20, 72), 110)
		return layout{wide: true, tableW: tw, tableH: body, paneW: w - tw - 2, paneH: body}
	}
	th := min(max(len(m.table.visible)+1, 2), max(3, body*45/100))
	if body-th < 4 {
		th = max(2, body-4)
	}
	return layout{tableW: w, tableH: th, paneW: w, paneH: body - th}
}

// render prepares every piece of the screen and the frame View returns.
func (m *Model) render() {
	if m.width <= 0 || m.height <= 0 {
		m.frame = ""
		return
	}
	m.keys.apply(m.keyState())
	m.lay = m.computeLayout()
	if m.lay.small {
		m.frame = m.renderSmall()
		return
	}
	now := m.now()
	m.table.focused = m.focus == focusTable
	m.table.setSize(m.lay.tableW, m.lay.tableH)
	m.table.render(m.pal, now)
	m.header = m.renderHeader()
	m.statusLine = m.renderStatus()
	m.footer = m.renderFooter()
	if m.helpOpen {
		m.paneLines = m.renderHelp()
	} else {
		m.paneLines = m.renderPane(now)
	}
	m.frame = m.compose()
}

func (m *Model) renderSmall() string {
	lines := make([]string, m.height)
	msg := "terminal too small"
	if m.shutting {
		msg = "stopping…"
	}
	lines[0] = truncate(msg, m.width)
	return strings.Join(lines, "\n")
}

// compose joins the prepared pieces into exactly height lines.
func (m *Model) compose() string {
	l := &m.lay
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	b.WriteString(m.header)
	if l.wide {
		sep := m.pal.rule.on("│") + " "
		for i := 0; i < l.tableH; i++ {
			b.WriteByte('\n')
			b.WriteString(m.table.lines[i])
			b.WriteString(sep)
			if i < len(m.paneLines) {
				b.WriteString(m.paneLines[i])
			}
		}
	} else {
		for _, line := range m.table.lines {
			b.WriteByte('\n')
			b.WriteString(line)
		}
		for i := 0; i < l.paneH; i++ {
			b.WriteByte('\n')
			if i < len(m.paneLines) {
				b.WriteString(m.paneLines[i])
			}
		}
	}
	b.WriteByte('\n')
	b.WriteString(m.statusLine)
	b.WriteByte('\n')
	b.WriteString(m.footer)
	return b.String()
}

func (m *Model) renderHeader() string {
	p, c := m.pal, &m.totals
	// The full header first; a narrower terminal loses the version, then
	// the words after the counts.
	for tier := range 3 {
		compact := tier == 2
		left := []segment{{m.opts.Title, p.brand}}
		if m.opts.Version != "" && tier == 0 {
			left = append(left, segment{" " + m.opts.Version, p.dim})
		}
		word := func(s string) string {
			if compact {
				return ""
			}
			return " " + s
		}
		left = append(left,
			segment{"   " + strconv.Itoa(c.units) + " units", p.header},
			segment{"  ● " + strconv.Itoa(c.running) + word("running"), p.running},
		)
		if c.crashed > 0 {
			left = append(left, segment{"  ✖ " + strconv.Itoa(c.crashed) + word("crashed"), p.crashed})
		}
		if c.backoff > 0 {
			left = append(left, segment{"  ◌ " + strconv.Itoa(c.backoff) + word("backoff"), p.starting})
		}
		left = append(left, segment{"   cpu " + percent(c.cpu) + "%  mem " + humanBytes(c.rss), p.header})
		var right []segment
		if m.haveStats {
			right = []segment{{"kelpie " + percent(m.self.CPU) + "% " + humanBytes(m.self.RSS), p.dim}}
		}
		if compact || segWidth(left)+2+segWidth(right) <= m.width {
			return spread(m.width, left, right)
		}
	}
	return ""
}

// spread lays segments out on one line of exactly w cells: left ones from
// the start, right ones flush right when there is room for them.
func spread(w int, left, right []segment) string {
	lw, rw := segWidth(left), segWidth(right)
	if lw+2+rw > w {
		right, rw = nil, 0
	}
	var b strings.Builder
	used := 0
	for _, s := range left {
		room := w - used
		if room <= 0 {
			break
		}
		t := truncate(s.text, room)
		s.p.write(&b, t)
		used += width(t)
	}
	b.WriteString(spaces(w - used - rw))
	for _, s := range right {
		s.p.write(&b, s.text)
	}
	return b.String()
}

func segWidth(segs []segment) int {
	n := 0
	for _, s := range segs {
		n += width(s.text)
	}
	return n
}

func (m *Model) renderStatus() string {
	p := m.pal
	switch {
	case m.shutting && m.killing:
		return p.err.on(truncate(fmt.Sprintf("killing %s…", plural(m.totals.live, "unit")), m.width))
	case m.shutting:
		return p.warn.on(truncate(fmt.Sprintf("stopping %s…  (q again: kill now)", plural(m.totals.live, "unit")), m.width))
	case m.status.text == "":
		return ""
	}
	pt := p.info
	switch m.status.kind {
	case statusOK:
		pt = p.success
	case statusError:
		pt = p.err
	}
	return pt.on(truncate(m.status.text, m.width))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// renderFooter is the one-line help: the keys that apply now, the less
// important ones left out when the line is too narrow.
func (m *Model) renderFooter() string {
	items := m.keys.ShortHelp()
	on := make([]bool, len(items))
	for i, b := range items {
		on[i] = b.Enabled()
	}
	const sep = " • "
	itemW := func(b key.Binding) int { return width(b.Help().Key) + 1 + width(b.Help().Desc) }
	total := func() int {
		n, first := 0, true
		for i, b := range items {
			if !on[i] {
				continue
			}
			if !first {
				n += len(sep) - 2 // " • " is 3 cells
			}
			n += itemW(b)
			first = false
		}
		return n
	}
	for _, d := range m.keys.shortHelpDropOrder() {
		if total() <= m.width {
			break
		}
		for i, b := range items {
			if on[i] && b.Help() == d.Help() {
				on[i] = false
			}
		}
	}
	var b strings.Builder
	used, first := 0, true
	for i, kb := range items {
		if !on[i] {
			continue
		}
		w := itemW(kb)
		if !first {
			w += 3
		}
		if used+w > m.width {
			break
		}
		if !first {
			m.pal.helpSep.write(&b, sep)
		}
		m.pal.helpKey.write(&b, kb.Help().Key)
		b.WriteByte(' ')
		m.pal.helpDesc.write(&b, kb.Help().Desc)
		used += w
		first = false
	}
	return b.String()
}

// renderHelp is the `?` screen in the pane's place.
func (m *Model) renderHelp() []string {
	w, h := m.lay.paneW, m.lay.paneH
	rule := m.pal.ruleFocused
	lines := []string{ruleLine(rule, w,
		[]segment{{"keys", m.pal.title}},
		[]segment{{" ?/esc close ", m.pal.dim}, {"──", rule}})}
	m.help.Width = w
	for _, l := range strings.Split(m.help.FullHelpView(m.keys.FullHelp()), "\n") {
		if len(lines) >= h {
			break
		}
		lines = append(lines, truncate(" "+l, w))
	}
	return lines
}

// renderPane is the detail pane: title, state reason, output.
func (m *Model) renderPane(now time.Time) []string {
	w, h := m.lay.paneW, m.lay.paneH
	p := m.pal
	rule := p.rule
	if m.focus == focusOutput {
		rule = p.ruleFocused
	}
	r := m.table.selected()
	if r == nil {
		title := "no unit selected"
		if !m.subscribed {
			title = "connecting…"
		}
		m.pane.setSize(w, 0)
		return []string{ruleLine(rule, w, []segment{{title, p.dim}}, nil)}
	}
	in := &r.info
	glyph, words, tone := stateText(in, now)
	left := []segment{
		{in.Name, p.title},
		{"  " + glyph + " " + words, p.rows[rowNormal].state[tone]},
		{"  " + in.Command, p.dim},
	}
	b := m.logs.get(m.shown)
	lines := make([]string, 0, h)
	// Render the body first: the title tells where it is.
	reason := in.Reason != "" && h >= 4
	bodyH := h - 1
	if reason {
		bodyH--
	}
	m.pane.setSize(w, bodyH)
	m.pane.render(p, b)
	right := []segment{{" " + m.pane.view.String() + " · " + m.pane.position() + " ", p.dim}, {"──", rule}}
	lines = append(lines, ruleLine(rule, w, left, right))
	if reason {
		rp := p.dim
		switch toneOf(in.State) {
		case toneCrashed:
			rp = p.crashed
		case toneStarting:
			rp = p.warn
		}
		lines = append(lines, rp.on(truncate("  "+in.Reason, w)))
	}
	return append(lines, m.pane.rows...)
}
