package ui

import (
	"context"
	"os"
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
	// Attached names the kelpie the screen is attached to (a socket path,
	// ssh://host) when it is not this process's own supervisor: q then
	// leaves the screen with everything running, Q (confirmed) stops it
	// all, and the kelpie going away ends the screen with a *GoneError.
	Attached string
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
		// A group row's action: how many members it reached, and what
		// failed, one "member: error" each.
		group   bool
		n       int
		failed  []string
		to      int    // verb "scale": the members asked for
		instead int    // members killed by a stop, refused as goroutines
		why     string // ... the engine's refusal
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
	stuck                                          int // workers that did not return when stopped
	ttys                                           int // tty units (the `?` screen lists their keys)
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
	// The panes' followers (follow.go): per buffer on screen, and the
	// merged stream's.
	follows      map[string]*follower
	mergedFollow *follower
	followSeq    int
	ticks        tickRing
	long         []string // units whose history is long (the Stats view's), most recent last

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
	tty     ttyPane // the Output view of a tty unit: its emulated screen

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
	stopAll    bool // attached: Q was confirmed, q is a shutdown's q again
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
	renders                    int // frames built, for the tests that count them
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
		follows:  make(map[string]*follower),
		line:     newLineInput(&st),
		composer: newComposer(&st),
	}
	m.pane.reset()
	m.msgPane.reset()
	m.msgPane.messages = true
	m.giveKeys(&km)
	m.render()
	return m
}

// giveKeys hands each component its part of the key map.
func (m *Model) giveKeys(km *KeyMap) {
	m.table.keys, m.table.moves = km.TableKeys, km.MoveKeys
	for _, p := range []*outputPane{&m.pane, &m.msgPane, &m.merged.pane} {
		p.keys, p.moves = km.OutputKeys, km.MoveKeys
	}
	m.split.keys, m.split.moves = km.OutputKeys, km.MoveKeys
	m.stats.moves = km.MoveKeys
	m.tty.moves = km.MoveKeys
	m.tty.enter = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "type"))
	m.menu.moves, m.menu.keys = km.MoveKeys, km.InputKeys
	m.composer.keys, m.composer.walkKeys = km.InputKeys, km.HistoryKeys
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
		m.restartMerged()
	}
	return nil
}

// restartMerged starts the merged stream afresh: Update's syncFollowers
// starts its follower.
func (m *Model) restartMerged() {
	m.stopMerged()
	m.merged.start(m.table.order)
}

// showSelected points the pane at the selected unit (Update's
// syncFollowers then follows its output) and fetches the details its view
// lacks.
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
	if r.virtual {
		return nil // a group row: the pane sums the group up (renderGroup)
	}
	var cmds []tea.Cmd
	b := m.logs.open(m.shown)
	if m.mode == modeSingle && m.shownView() == viewMessages {
		b.messages() // so that the messages are read too
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

// activePane is the pane of lines that the output keys act on, with its
// buffer, or nil when the pane shows none (the Stats view).
func (m *Model) activePane() (*outputPane, *logBuf) {
	p, b := m.shownPane()
	if p != nil {
		p.bind(m.pal, b) // for its Update: the buffer may have changed since
	}
	return p, b
}

func (m *Model) shownPane() (*outputPane, *logBuf) {
	switch m.mode {
	case modeSplit:
		i := m.split.focus
		return &m.split.panes[i], m.logs.get(m.split.names[i])
	case modeMerged:
		return &m.merged.pane, m.merged.buf
	}
	if r := m.table.selected(); r != nil && r.virtual {
		return nil, nil // a group row's pane has no lines of output
	}
	if m.ttyUnit() {
		return nil, nil // a tty unit's Output view is its screen (tty.go)
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

// applyBatch applies the engine's events.
func (m *Model) applyBatch(b procs.Batch) tea.Cmd {
	t := &m.table
	keep := t.selectedKey()
	structural := false
	for _, in := range b.States {
		if t.upsert(in) {
			structural = true
		}
	}
	for _, name := range b.Removed {
		if t.remove(name) {
			structural = true
			m.logs.drop(name)
			delete(m.tty.sent, name)
		}
	}
	if structural {
		t.rebuild(keep)
	} else if len(b.States) > 0 {
		// A state change may move a row (sort), hide it (filter) or end
		// its process tree; its group's row sums it.
		t.summarizeOf(b.States)
		t.arrange(keep)
	}
	var cmds []tea.Cmd
	if st := b.Stats; st != nil {
		m.ticks.push(st.Time)
		t.applyStats(st)
		m.self, m.haveStats = st.Self, true
		if m.mode == modeSingle && m.shownView() == viewStats && t.byName[m.shown] != nil { // a unit, not a group row
			cmds = append(cmds, m.stats.fetchDetails(m.backend, m.shown))
		}
	}
	// The lines announced reach the panes through their cursors; a row
	// keeps the newest seq, so that a unit shown again after a flood
	// starts from its tail rather than reading through it.
	for name, seq := range b.Logs {
		if r := t.byName[name]; r != nil {
			r.info.LastSeq = max(r.info.LastSeq, seq)
		}
	}
	if m.tty.wrote(b) {
		cmds = append(cmds, m.ttyOutput())
	}
	if batchShows(b) { // the header's totals count states and stats only
		m.recount()
	}
	if t.selectedName() != m.shown || m.shown == "" {
		cmds = append(cmds, m.showSelected())
	}
	return tea.Batch(cmds...)
}

func (m *Model) recount() {
	c := counts{units: len(m.table.order)}
	for _, r := range m.table.byName {
		in := &r.info
		if in.TTY {
			c.ttys++
		}
		switch in.State {
		case procs.Running:
			c.running++
		case procs.Crashed:
			c.crashed++
		case procs.Backoff:
			c.backoff++
		case procs.Paused:
			c.paused++
		case procs.Stuck:
			c.stuck++
		}
		if in.State.Live() {
			c.live++
			c.cpu += in.CPU
			if in.Kind != procs.KindWorker { // a worker's memory is kelpie's own, shown apart
				c.rss += in.RSS
			}
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
