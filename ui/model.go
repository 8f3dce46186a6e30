package ui

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/kelpie-dev/kelpie/procs"
)

// Options configure the screen. The zero value is usable.
type Options struct {
	// Title is the name in the header: the config's (default "kelpie").
	Title string
	// Version is kelpie's version, shown dim at the header's right end as
	// "kelpie <version>", apart from the title.
	Version string
	// Now is the clock for uptimes and countdowns (default time.Now).
	Now func() time.Time
	// KeepLines caps the output lines kept per shown unit (default 2000).
	KeepLines int
	// StatusTimeout is how long a status message stays (default 4 s; errors
	// stay twice as long).
	StatusTimeout time.Duration
	// WideWidth is the terminal width from which the detail pane sits right
	// of the table instead of under it (default 180: from there both the
	// table, with its COMMAND column, and the pane have room).
	WideWidth int
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
		o.WideWidth = 180
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
		sig        string // for verb "signal"
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
	units, running, crashed, backoff, paused, live int
	cpu                                            float64
	rss                                            uint64
}

// layout is where everything goes at the current size.
type layout struct {
	small          bool // too small to draw anything but a note
	wide           bool // pane right of the table
	tableW, tableH int  // tableH counts the column header
	paneW, paneH   int  // paneH counts the pane's title lines
	paneX, paneY   int  // the pane's top left corner on the screen
}

// Model is the kelpie screen, a tea.Model.
type Model struct {
	backend Backend
	opts    Options
	styles  *Styles
	pal     *palette
	keys    KeyMap
	after   func(time.Duration, tea.Msg) tea.Cmd // timers (tests replace it)

	ctx    context.Context // ends the pending Next when the program quits
	cancel context.CancelFunc
	sub    Subscription

	width, height int
	lay           layout

	table unitTable
	logs  logStore
	ticks tickRing
	long  []string // units whose history is long (the Stats view's), most recent last

	// The pane: the selected unit's views, or several units at once.
	shown   string // the unit whose output the pane shows
	focus   focusArea
	view    detailView // the view chosen; units without a channel show output for messages
	mode    paneMode
	pane    outputPane // the Output view
	msgPane outputPane // the Messages view
	stats   statsPane
	split   splitView
	merged  mergedView

	// What has the keyboard besides the screen itself.
	helpOpen    bool
	helpOffset  int
	helpScrolls bool // the `?` screen is taller than the body
	menu        signalMenu
	confirm     *confirmation
	line        textinput.Model // the filter or search being typed
	lineFor     modal           // modalFilter or modalSearch while typing
	composer    composer
	mouse       bool
	light       bool // the terminal's background is light (it said so)

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
	paneLines                  []string // title lines and body
	helpLines                  []string // the `?` screen, in the body's place
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
	ctx, cancel := context.WithCancel(context.Background())
	m := Model{
		backend:  b,
		opts:     opts,
		styles:   &st,
		pal:      &pal,
		keys:     km,
		after:    tick,
		ctx:      ctx,
		cancel:   cancel,
		table:    newUnitTable(),
		logs:     newLogStore(),
		line:     newLineInput(&st),
		composer: newComposer(&st),
	}
	m.pane.reset()
	m.msgPane.reset()
	m.msgPane.messages = true
	m.render()
	return m
}

// newLineInput is the one-line input of the filter and the search.
func newLineInput(st *Styles) textinput.Model {
	in := textinput.New()
	in.Prompt = "/"
	in.PromptStyle = st.Prompt
	in.TextStyle = st.Input
	in.PlaceholderStyle = st.Placeholder
	in.Cursor.Style = st.Cursor
	in.Cursor.SetMode(cursor.CursorStatic) // no blink timers: see newComposer
	return in
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
		if msg.Paste {
			cmds = append(cmds, m.paste(msg))
			break
		}
		if msg.Type == tea.KeyRunes {
			// Typed text goes into inputs that are shown: no control
			// character rides along.
			if s := string(msg.Runes); !isPlainASCII(s) {
				msg.Runes = []rune(safe(s))
			}
		}
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 {
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

	case tea.MouseMsg:
		var cmd tea.Cmd
		cmd, changed = m.handleMouse(msg)
		cmds = append(cmds, cmd)

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
		if !m.shutting && errors.Is(msg.err, procs.ErrClosed) {
			// The engine was shut down from outside (`kelpie down`, a
			// signal to the process): every unit has stopped, so the
			// screen has nothing left to show.
			return m, tea.Quit
		}
		if !m.shutting && !errors.Is(msg.err, context.Canceled) {
			text := "lost the engine's events: " + msg.err.Error()
			if errors.Is(msg.err, procs.ErrClosed) {
				text = "the engine has shut down"
			}
			m.status = status{kind: statusError, text: safe(text)}
			m.statusTag++ // stays: nothing will update the screen again
		}

	case logsMsg:
		cmds = append(cmds, m.applyLogs(msg))

	case mergedMsg:
		m.merged.apply(m.pal, msg, m.opts.KeepLines)
		if m.mode == modeMerged {
			cmds = append(cmds, m.merged.fetch(m.backend, m.table.order, m.opts.KeepLines))
		}

	case detailsMsg:
		m.stats.apply(msg)

	case backgroundMsg:
		if msg.dark == !m.light {
			changed = false
			break
		}
		cmds = append(cmds, m.retheme(!msg.dark))

	case sendMsg:
		cmds = append(cmds, m.sendDone(msg))

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

// retheme switches to the light or dark palette once the terminal has told
// its background (the first frames use the dark one). Rows drawn in the
// old colours are drawn again.
func (m *Model) retheme(light bool) tea.Cmd {
	m.light = light
	lipgloss.SetHasDarkBackground(!light)
	pal := m.styles.compile()
	m.pal = &pal
	m.logs.forgetRows()
	m.stats.chartLines = nil
	if m.mode == modeMerged { // its lines carry their unit's colour
		m.merged.start(m.table.order)
		return m.merged.fetch(m.backend, m.table.order, m.opts.KeepLines)
	}
	return nil
}

// modal says what has the keyboard now.
func (m *Model) modal() modal {
	switch {
	case m.confirm != nil:
		return modalConfirm
	case m.menu.open:
		return modalMenu
	case m.lineFor != modalNone:
		return m.lineFor
	case m.composer.open:
		return modalCompose
	}
	return modalNone
}

// handleKey applies a key press.
func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := &m.keys
	k.apply(m.keyState()) // an earlier key of the same message may have changed it
	if m.status.kind == statusInfo {
		// A hint answers the key before: after the next one (another
		// unit, another view) it may no longer be true, so it goes.
		// Outcomes and errors stay their time.
		m.status = status{}
	}
	switch m.modal() {
	case modalConfirm:
		return m.confirmKey(msg)
	case modalMenu:
		return m.menuKey(msg)
	case modalFilter, modalSearch:
		return m.lineKey(msg)
	case modalCompose:
		return m.composeKey(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.helpOpen, m.helpOffset = true, 0
	case key.Matches(msg, k.CloseHelp):
		m.helpOpen = false
	case m.helpOpen:
		m.scrollHelp(msg)
	case key.Matches(msg, k.Focus):
		m.cycleFocus(msg.String() == "shift+tab")
	case key.Matches(msg, k.Clear):
		return m.clearInnermost()
	case key.Matches(msg, k.Mouse):
		return m.toggleMouse()
	case key.Matches(msg, k.ViewOutput):
		return m.setView(viewOutput)
	case key.Matches(msg, k.ViewMessages):
		return m.setView(viewMessages)
	case key.Matches(msg, k.ViewStats):
		return m.setView(viewStats)
	case key.Matches(msg, k.Compose):
		return m.openComposer()
	case key.Matches(msg, k.Split):
		return m.toggleSplit()
	case key.Matches(msg, k.Merged):
		return m.toggleMerged()
	case key.Matches(msg, k.Signal):
		if r := m.table.selected(); r != nil {
			m.menu.show(r.info.Name)
		}
	case key.Matches(msg, k.Start):
		return m.act("start", m.backend.Start)
	case key.Matches(msg, k.Stop):
		return m.guard("stop", m.act("stop", m.backend.Stop))
	case key.Matches(msg, k.Restart):
		return m.guard("restart", m.act("restart", m.backend.Restart))
	case key.Matches(msg, k.Kill):
		return m.guard("kill", m.signal(syscall.SIGKILL))
	case key.Matches(msg, k.Fold):
		if m.table.toggleFold() {
			return m.showSelected()
		}
	case key.Matches(msg, k.Expand):
		m.table.setFold(true)
	case key.Matches(msg, k.Collapse):
		if m.table.setFold(false) {
			return m.showSelected()
		}
	case key.Matches(msg, k.Filter):
		return m.startLine(modalFilter, m.table.filter)
	case key.Matches(msg, k.Sort):
		m.table.cycleSort()
	case key.Matches(msg, k.SortReverse):
		m.table.reverseSort()
	case key.Matches(msg, k.Mark):
		if r := m.table.selected(); r != nil {
			r.marked = !r.marked
			m.table.move(1)
			return m.showSelected()
		}
	case key.Matches(msg, k.Timestamps):
		if p, _ := m.activePane(); p != nil {
			p.toggleTimestamps()
		}
	case key.Matches(msg, k.Wrap):
		if p, _ := m.activePane(); p != nil {
			p.toggleWrap()
			p.topSub = 0 // the line on top keeps its place; its rows change
		}
	case key.Matches(msg, k.Search):
		p, _ := m.activePane()
		return m.startLine(modalSearch, p.search.query)
	case key.Matches(msg, k.NextMatch):
		m.stepMatch(1)
	case key.Matches(msg, k.PrevMatch):
		m.stepMatch(-1)
	case key.Matches(msg, k.Select):
		if p, b := m.activePane(); p != nil && !p.startSelection(m.pal, b) {
			return m.setStatus(statusInfo, "nothing to select yet")
		}
	case key.Matches(msg, k.Copy):
		return m.copySelection()
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

// paste puts pasted text into the input that has the keyboard (the filter,
// the search, the composer), made safe and on one line. Anywhere else it is
// ignored: pasted text is never a run of key presses (a pasted `x` would
// stop a unit).
func (m *Model) paste(msg tea.KeyMsg) tea.Cmd {
	m.keys.apply(m.keyState())
	text := safe(string(msg.Runes))
	switch m.modal() {
	case modalFilter, modalSearch, modalCompose:
		if text == "" {
			return nil
		}
		msg.Runes = []rune(text)
		if m.modal() == modalCompose {
			return m.composeKey(msg)
		}
		return m.lineKey(msg)
	}
	return m.setStatus(statusInfo, "paste ignored: paste into the filter (/), a search or a message (m)")
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

// moveBy turns a moving key into a distance, for a pane of height rows.
func (m *Model) moveBy(msg tea.KeyMsg, height int) (delta int, top, bottom bool) {
	k := &m.keys
	page := max(height, 1)
	switch {
	case key.Matches(msg, k.Up):
		return -1, false, false
	case key.Matches(msg, k.Down):
		return 1, false, false
	case key.Matches(msg, k.PageUp):
		return -page, false, false
	case key.Matches(msg, k.PageDown):
		return page, false, false
	case key.Matches(msg, k.HalfUp):
		return -max(page/2, 1), false, false
	case key.Matches(msg, k.HalfDown):
		return max(page/2, 1), false, false
	case key.Matches(msg, k.Top):
		return 0, true, false
	case key.Matches(msg, k.Bottom):
		return 0, false, true
	}
	return 0, false, false
}

// scrollPane scrolls what the pane shows (or moves a selection in it).
func (m *Model) scrollPane(msg tea.KeyMsg) {
	if m.mode == modeSingle && m.shownView() == viewStats {
		delta, top, bottom := m.moveBy(msg, m.lay.paneH-1)
		switch {
		case top:
			m.stats.offset = 0
		case bottom:
			m.stats.offset = 1 << 30
		default:
			m.stats.scroll(delta)
		}
		return
	}
	p, b := m.activePane()
	if p == nil {
		return
	}
	delta, top, bottom := m.moveBy(msg, p.height)
	if p.visual.on {
		// The selection moves by lines; a page of rows is a page of lines
		// or more, which is near enough.
		switch {
		case top:
			delta = -(1 << 30)
		case bottom:
			delta = 1 << 30
		}
		p.moveSelection(m.pal, b, delta)
		return
	}
	switch {
	case top:
		p.home(m.pal, b)
	case bottom:
		p.end()
	default:
		p.scroll(m.pal, b, delta)
	}
}

// scrollHelp moves the `?` screen.
func (m *Model) scrollHelp(msg tea.KeyMsg) {
	delta, top, bottom := m.moveBy(msg, m.height-3)
	switch {
	case top:
		m.helpOffset = 0
	case bottom:
		m.helpOffset = 1 << 30
	default:
		m.helpOffset = max(0, m.helpOffset+delta)
	}
}

// cycleFocus moves the keyboard between the table and the pane (each
// column of a split view in turn).
func (m *Model) cycleFocus(back bool) {
	stops := 2
	if m.mode == modeSplit {
		stops = 1 + len(m.split.names)
	}
	at := 0
	if m.focus == focusOutput {
		at = 1
		if m.mode == modeSplit {
			at = 1 + m.split.focus
		}
	}
	if back {
		at = (at + stops - 1) % stops
	} else {
		at = (at + 1) % stops
	}
	if at == 0 {
		m.focus = focusTable
		return
	}
	m.focus = focusOutput
	if m.mode == modeSplit {
		m.split.focus = at - 1
	}
}

// clearInnermost is esc: it backs out of the innermost thing that is on.
func (m *Model) clearInnermost() tea.Cmd {
	p, _ := m.activePane()
	switch {
	case p != nil && p.visual.on && m.focus == focusOutput:
		p.visual.on = false
	case p != nil && p.search.query != "" && m.focus == focusOutput:
		p.search.set("", nil)
		p.rekey()
	case m.table.filter != "" && m.focus == focusTable:
		m.table.setFilter("")
		return m.showSelected()
	case m.mode == modeSplit:
		return m.closeSplit()
	case m.mode == modeMerged:
		return m.toggleMerged()
	}
	return nil
}

// explainDisabled answers an action key that does not apply to the selected
// unit with a word instead of silence.
func (m *Model) explainDisabled(msg tea.KeyMsg) tea.Cmd {
	k := msg.String()
	if has(m.keys.Compose, k) && m.mode == modeSingle {
		if r := m.table.selected(); r != nil && r.info.Channel == "" {
			return m.setStatus(statusInfo, r.info.Name+" has no message channel (ipc: true in its config)")
		}
	}
	if has(m.keys.Split, k) && m.mode == modeSingle {
		return m.setStatus(statusInfo, "mark units with * to split them with the selected one")
	}
	r := m.table.selected()
	if r == nil || m.shutting {
		return nil
	}
	s := r.info.State
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
	case has(m.keys.Signal, k):
		verb, why = "signal", "no process"
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

// signal sends sig to the selected unit in a command.
func (m *Model) signal(sig syscall.Signal) tea.Cmd {
	r := m.table.selected()
	if r == nil {
		return nil
	}
	name, be := r.info.Name, m.backend
	verb := "signal"
	if sig == syscall.SIGKILL {
		verb = "kill"
	}
	return func() tea.Msg {
		return actionMsg{verb: verb, name: name, sig: procs.SignalName(sig), err: be.Signal(name, sig)}
	}
}

// guard asks first when an action reaches a group (a group row's members,
// or a unit's child processes): y runs cmd.
func (m *Model) guard(verb string, cmd tea.Cmd) tea.Cmd {
	r := m.table.selected()
	if r == nil || cmd == nil {
		return cmd
	}
	n, what := groupSize(r)
	if n == 0 {
		return cmd
	}
	m.confirm = &confirmation{
		question: verb + " " + r.label + " and its " + plural(n, what) + "?",
		run:      cmd,
	}
	return nil
}

func (m *Model) confirmKey(msg tea.KeyMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		m.confirm = nil
		return m.quit()
	case key.Matches(msg, k.Yes):
		run := m.confirm.run
		m.confirm = nil
		return run
	case key.Matches(msg, k.No):
		m.confirm = nil
		return m.setStatus(statusInfo, "cancelled")
	}
	return nil
}

func (m *Model) menuKey(msg tea.KeyMsg) tea.Cmd {
	k, s := &m.keys, &m.menu
	switch {
	case key.Matches(msg, k.Quit):
		s.open = false
		return m.quit()
	case key.Matches(msg, k.Cancel):
		s.open = false
	case key.Matches(msg, k.Submit):
		s.open = false
		sig := s.selected()
		if m.table.selectedName() != s.target {
			return nil // the unit went away meanwhile
		}
		cmd := m.signal(sig)
		if harmless(sig) {
			return cmd
		}
		return m.guard("send "+procs.SignalName(sig)+" to", cmd)
	default:
		delta, top, bottom := m.moveBy(msg, m.lay.paneH-1)
		switch {
		case top:
			s.cursor = 0
		case bottom:
			s.cursor = len(s.sigs) - 1
		default:
			s.move(delta)
		}
	}
	return nil
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
	case "kill", "signal":
		text = "sent " + msg.sig + " to " + msg.name
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
	// Texts quote outside input: names, errors naming files or quoting
	// a unit's output.
	m.status = status{kind: kind, text: safe(text)}
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
	m.menu.open = false
	m.confirm = nil
	m.composer.close()
	m.lineFor = modalNone
	ctx, cancel := context.WithCancel(context.Background())
	m.shutCancel = cancel
	be := m.backend
	return func() tea.Msg { return shutdownDoneMsg{err: be.Shutdown(ctx)} }
}

// showSelected points the pane at the selected unit and fetches what its
// view lacks.
func (m *Model) showSelected() tea.Cmd {
	r := m.table.selected()
	if r == nil {
		m.shown = ""
		return nil
	}
	if r.info.Name != m.shown {
		m.shown = r.info.Name
		m.pane.reset()
		m.msgPane.reset()
		if m.composer.open && m.composer.target != m.shown {
			m.composer.close()
		}
	}
	var cmds []tea.Cmd
	b := m.logs.open(m.shown, r.info.LastSeq)
	if m.mode == modeSingle && m.shownView() == viewMessages {
		b.messages() // so that the fetch reads the messages too
	}
	if b.needsFetch() {
		cmds = append(cmds, b.fetch(m.backend, m.opts.KeepLines))
	}
	if m.mode == modeSingle && m.shownView() == viewStats {
		m.keepLong(m.shown)
		if m.stats.name != m.shown {
			cmds = append(cmds, m.stats.fetchDetails(m.backend, m.shown))
		}
	}
	return tea.Batch(cmds...)
}

// shownView is the view the pane shows for the selected unit: the chosen
// one, except that a unit without a channel has no messages to show.
func (m *Model) shownView() detailView {
	if m.view == viewMessages {
		if r := m.table.selected(); r == nil || r.info.Channel == "" {
			return viewOutput
		}
	}
	return m.view
}

// setView switches the pane to one of the selected unit's views.
func (m *Model) setView(v detailView) tea.Cmd {
	m.view = v
	cmd := m.showSelected()
	if v == viewStats && m.shown != "" {
		// Opening the view reads the details afresh, even for the unit
		// they were last read for.
		cmd = tea.Batch(cmd, m.stats.fetchDetails(m.backend, m.shown))
	}
	return cmd
}

// activePane is the pane of lines that the output keys act on, with its
// buffer, or nil when the pane shows none (the Stats view).
func (m *Model) activePane() (*outputPane, *logBuf) {
	switch m.mode {
	case modeSplit:
		i := m.split.focus
		return &m.split.panes[i], m.logs.get(m.split.names[i])
	case modeMerged:
		return &m.merged.pane, m.merged.buf
	}
	switch m.shownView() {
	case viewOutput:
		return &m.pane, m.logs.get(m.shown)
	case viewMessages:
		if b := m.logs.get(m.shown); b != nil {
			return &m.msgPane, b.messages()
		}
		return &m.msgPane, nil
	}
	return nil, nil
}

// keepLong gives a unit the long history its charts draw, taking it back
// from the unit that had it least recently.
func (m *Model) keepLong(name string) {
	r := m.table.byName[name]
	if r == nil {
		return
	}
	r.hist.resize(longHistory)
	for i, n := range m.long {
		if n == name {
			m.long = append(m.long[:i], m.long[i+1:]...)
			break
		}
	}
	m.long = append(m.long, name)
	for len(m.long) > longKept {
		if old := m.table.byName[m.long[0]]; old != nil {
			old.hist.resize(shortHistory)
		}
		m.long = m.long[1:]
	}
}

// watched reports whether the screen shows name's output now.
func (m *Model) watched(name string) bool {
	if name == m.shown && m.mode == modeSingle {
		return true
	}
	if m.mode == modeSplit {
		for _, n := range m.split.names {
			if n == name {
				return true
			}
		}
	}
	return false
}

// fetchShown fetches what the buffers on screen lack.
func (m *Model) fetchShown() tea.Cmd {
	var cmds []tea.Cmd
	var names []string
	switch m.mode {
	case modeSingle:
		names = []string{m.shown}
	case modeSplit:
		names = m.split.names
	}
	for _, name := range names {
		if b := m.logs.get(name); b != nil && b.needsFetch() {
			cmds = append(cmds, b.fetch(m.backend, m.opts.KeepLines))
		}
	}
	if m.mode == modeMerged {
		cmds = append(cmds, m.merged.fetch(m.backend, m.table.order, m.opts.KeepLines))
	}
	return tea.Batch(cmds...)
}

// applyBatch applies the engine's events.
func (m *Model) applyBatch(b procs.Batch) tea.Cmd {
	t := &m.table
	keep := t.selectedKey()
	structural := false
	for _, in := range b.States {
		if t.upsert(in) {
			structural = true
		}
		if buf := m.logs.get(in.Name); buf != nil {
			buf.want = max(buf.want, in.LastSeq)
		}
		if m.mode == modeMerged {
			m.merged.announce(in.Name, in.LastSeq)
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
	} else if len(b.States) > 0 {
		// A state change may move a row (sort), hide it (filter) or end
		// its process tree.
		t.arrange(keep)
	}
	var cmds []tea.Cmd
	if st := b.Stats; st != nil {
		m.ticks.push(st.Time)
		t.applyStats(st)
		m.self, m.haveStats = st.Self, true
		if m.mode == modeSingle && m.shownView() == viewStats && m.shown != "" {
			cmds = append(cmds, m.stats.fetchDetails(m.backend, m.shown))
		}
	}
	for name, seq := range b.Logs {
		if r := t.byName[name]; r != nil {
			r.info.LastSeq = max(r.info.LastSeq, seq)
		}
		if buf := m.logs.get(name); buf != nil {
			buf.want = max(buf.want, seq)
		}
		if m.mode == modeMerged {
			m.merged.announce(name, seq)
		}
	}
	m.recount()
	if t.selectedName() != m.shown || m.shown == "" {
		cmds = append(cmds, m.showSelected())
	}
	return tea.Batch(append(cmds, m.fetchShown())...)
}

func (m *Model) applyLogs(msg logsMsg) tea.Cmd {
	b := m.logs.get(msg.name)
	if b == nil {
		return nil // no longer kept
	}
	b.apply(msg, m.opts.KeepLines)
	if !m.watched(msg.name) {
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
		case procs.Paused:
			c.paused++
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
		if v := t.visible[i]; v.proc < 0 {
			consider(&v.u.info)
		}
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
	st := keyState{
		focus: m.focus, mode: m.mode, view: m.shownView(), helpOpen: m.helpOpen, helpScrolls: m.helpScrolls, shutting: m.shutting,
		filtering: m.table.filter != "", mouse: m.mouse, modal: m.modal(),
		nextSort: sortCycle[(slices.Index(sortCycle, m.table.sortBy)+1)%len(sortCycle)],
	}
	if v, ok := m.table.selectedRow(); ok {
		st.selected = &v.u.info
		st.procRow = v.proc >= 0
		st.member = v.u.depth > 0
		st.expandable = v.u.expandable()
		st.open = v.u.open()
		st.marked = v.u.marked
		marked := m.table.marked()
		n := len(marked)
		if !v.u.marked {
			n++
		}
		st.canSplit = n >= 2
	}
	switch m.mode {
	case modeSplit:
		st.paneName = "split"
	case modeMerged:
		st.paneName = "merged"
	default:
		st.paneName = st.view.String()
	}
	if p, _ := m.activePane(); p != nil {
		st.lines = true
		st.following = p.follow
		// The Messages view scrolls and follows, but has no search,
		// selection, wrap or timestamps toggles.
		st.outputLike = !p.messages
		st.searching = p.search.query != ""
		st.visual = p.visual.on
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
		// Half for the table, or more, up to three fifths, where that
		// makes room for its COMMAND column.
		tw := min(max(w/2, 72), 116)
		tw = max(tw, min(m.table.widthWithCommand(), w*3/5))
		return layout{wide: true, tableW: tw, tableH: body, paneW: w - tw - 2, paneH: body, paneX: tw + 2, paneY: 1}
	}
	th := min(max(len(m.table.visible)+1, 2), max(3, body*45/100))
	if body-th < 4 {
		th = max(2, body-4)
	}
	return layout{tableW: w, tableH: th, paneW: w, paneH: body - th, paneX: 0, paneY: 1 + th}
}
