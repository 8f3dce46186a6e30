package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Palette: every colour the screen uses, adaptive for light and dark terminals.
var (
	colGreen   = lipgloss.AdaptiveColor{Light: "#1a7f37", Dark: "#3fb950"}
	colYellow  = lipgloss.AdaptiveColor{Light: "#9a6700", Dark: "#d29922"}
	colRed     = lipgloss.AdaptiveColor{Light: "#cf222e", Dark: "#f85149"}
	colSoftRed = lipgloss.AdaptiveColor{Light: "#a8505a", Dark: "#e8918b"}
	colCyan    = lipgloss.AdaptiveColor{Light: "#1b7c83", Dark: "#56d4dd"}
	colAccent  = lipgloss.AdaptiveColor{Light: "#0f766e", Dark: "#2dd4bf"}
	colText    = lipgloss.AdaptiveColor{Light: "#1f2328", Dark: "#e6edf3"}
	colDim     = lipgloss.AdaptiveColor{Light: "#6e7781", Dark: "#7d8590"}
	colFaint   = lipgloss.AdaptiveColor{Light: "#a0a8b0", Dark: "#484f58"}
	colSelBg   = lipgloss.AdaptiveColor{Light: "#c8ebe6", Dark: "#134e4a"}
	colSelBlur = lipgloss.AdaptiveColor{Light: "#e6eaef", Dark: "#2d333b"}
	colBlue    = lipgloss.AdaptiveColor{Light: "#0969da", Dark: "#58a6ff"}
	colMagenta = lipgloss.AdaptiveColor{Light: "#8250df", Dark: "#bc8cff"}
	colOrange  = lipgloss.AdaptiveColor{Light: "#bc4c00", Dark: "#f0883e"}
	colPink    = lipgloss.AdaptiveColor{Light: "#bf3989", Dark: "#f778ba"}
	colOlive   = lipgloss.AdaptiveColor{Light: "#4d7c0f", Dark: "#a3e635"}
	colMatchBg = lipgloss.AdaptiveColor{Light: "#fff0a8", Dark: "#5c4a00"}
	colCurBg   = lipgloss.AdaptiveColor{Light: "#ffc46b", Dark: "#9e6a03"}
	colVisBg   = lipgloss.AdaptiveColor{Light: "#d0e4ff", Dark: "#1f3a5f"}
)

// Styles holds every style of the screen under a semantic name. Nothing else
// in the package builds a lipgloss style.
type Styles struct {
	// Header line.
	Brand  lipgloss.Style
	Header lipgloss.Style

	// Unit states.
	Running  lipgloss.Style
	Starting lipgloss.Style // also stopping and backoff
	Crashed  lipgloss.Style
	Stopped  lipgloss.Style
	Exited   lipgloss.Style
	Paused   lipgloss.Style // alive but stopped (SIGSTOP): nothing runs

	// Table.
	ColumnHeader        lipgloss.Style
	ColumnHeaderFocused lipgloss.Style
	Cell                lipgloss.Style
	Selected            lipgloss.Style // the cursor row while the table has focus
	SelectedBlurred     lipgloss.Style // the cursor row while it has not
	Restarts            lipgloss.Style // a restart count above zero
	Mark                lipgloss.Style // a unit marked for the split view
	Spark               lipgloss.Style // the CPU history in a row

	// Detail pane.
	Rule         lipgloss.Style // pane title rule, unfocused
	RuleFocused  lipgloss.Style
	Title        lipgloss.Style // the unit's name in the pane title
	Stderr       lipgloss.Style
	Event        lipgloss.Style // supervisor events in the output
	Timestamp    lipgloss.Style
	Dropped      lipgloss.Style // "N lines dropped"
	Tab          lipgloss.Style // a view's name in the pane title
	TabActive    lipgloss.Style // the view shown
	Match        lipgloss.Style // a search match in the output
	CurrentMatch lipgloss.Style // the match n/N moved to
	Selection    lipgloss.Style // lines selected for copying
	// UnitTags tell units apart where their lines mix (merged stream,
	// split titles); a unit keeps its colour by its name.
	UnitTags []lipgloss.Style

	// Messages view.
	MessageIn   lipgloss.Style // ← a message the unit sent
	MessageOut  lipgloss.Style // → a message kelpie sent
	JSONKey     lipgloss.Style
	JSONString  lipgloss.Style
	JSONNumber  lipgloss.Style
	JSONLiteral lipgloss.Style // true, false, null
	JSONPunct   lipgloss.Style

	// Stats view.
	Label     lipgloss.Style // "threads", "cwd", ...
	ChartAxis lipgloss.Style
	ChartCPU  lipgloss.Style
	ChartMem  lipgloss.Style

	// Inputs (filter, search, composer), menus and questions.
	Prompt      lipgloss.Style
	Input       lipgloss.Style
	Placeholder lipgloss.Style
	Cursor      lipgloss.Style
	Question    lipgloss.Style // "kill api and its 3 processes? y/n"

	// Generic.
	Dim     lipgloss.Style
	Error   lipgloss.Style
	Warning lipgloss.Style
	Success lipgloss.Style
	Info    lipgloss.Style

	// Help.
	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style
	HelpOff  lipgloss.Style // a key of the `?` screen that does nothing now
}

// DefaultStyles returns kelpie's styles.
func DefaultStyles() Styles {
	s := lipgloss.NewStyle()
	return Styles{
		Brand:  s.Foreground(colAccent).Bold(true),
		Header: s.Foreground(colText),

		Running:  s.Foreground(colGreen),
		Starting: s.Foreground(colYellow),
		Crashed:  s.Foreground(colRed),
		Stopped:  s.Foreground(colDim),
		Exited:   s.Foreground(colCyan),
		Paused:   s.Foreground(colMagenta).Bold(true),

		ColumnHeader:        s.Foreground(colDim).Bold(true),
		ColumnHeaderFocused: s.Foreground(colAccent).Bold(true),
		Cell:                s,
		Selected:            s.Background(colSelBg).Bold(true),
		SelectedBlurred:     s.Background(colSelBlur),
		Restarts:            s.Foreground(colYellow),
		Mark:                s.Foreground(colAccent).Bold(true),
		Spark:               s.Foreground(colCyan),

		Rule:         s.Foreground(colFaint),
		RuleFocused:  s.Foreground(colAccent),
		Title:        s.Bold(true),
		Stderr:       s.Foreground(colSoftRed),
		Event:        s.Foreground(colDim).Italic(true),
		Timestamp:    s.Foreground(colDim),
		Dropped:      s.Foreground(colYellow).Italic(true),
		Tab:          s.Foreground(colDim),
		TabActive:    s.Foreground(colAccent).Bold(true),
		Match:        s.Background(colMatchBg),
		CurrentMatch: s.Background(colCurBg).Bold(true),
		Selection:    s.Background(colVisBg),
		UnitTags: []lipgloss.Style{
			s.Foreground(colCyan), s.Foreground(colMagenta), s.Foreground(colGreen), s.Foreground(colOrange),
			s.Foreground(colBlue), s.Foreground(colPink), s.Foreground(colOlive), s.Foreground(colYellow),
		},

		MessageIn:   s.Foreground(colCyan).Bold(true),
		MessageOut:  s.Foreground(colMagenta).Bold(true),
		JSONKey:     s.Foreground(colBlue),
		JSONString:  s.Foreground(colGreen),
		JSONNumber:  s.Foreground(colOrange),
		JSONLiteral: s.Foreground(colMagenta),
		JSONPunct:   s.Foreground(colDim),

		Label:     s.Foreground(colDim),
		ChartAxis: s.Foreground(colFaint),
		ChartCPU:  s.Foreground(colCyan),
		ChartMem:  s.Foreground(colMagenta),

		Prompt:      s.Foreground(colAccent).Bold(true),
		Input:       s.Foreground(colText),
		Placeholder: s.Foreground(colDim).Italic(true),
		Cursor:      s.Foreground(colAccent),
		Question:    s.Foreground(colYellow).Bold(true),

		Dim:     s.Foreground(colDim),
		Error:   s.Foreground(colRed).Bold(true),
		Warning: s.Foreground(colYellow),
		Success: s.Foreground(colGreen),
		Info:    s.Foreground(colText),

		HelpKey:  s.Foreground(colAccent),
		HelpDesc: s.Foreground(colDim),
		HelpSep:  s.Foreground(colFaint),
		HelpOff:  s.Foreground(colFaint).Faint(true),
	}
}

// paint is a style compiled to the escape sequences around its text, so hot
// paths colour a cell with two string concatenations instead of a lipgloss
// render. Only styles without padding, margins, borders or widths compile.
type paint struct{ open, close string }

func compile(st lipgloss.Style) paint {
	r := st.Render("X")
	i := strings.IndexByte(r, 'X')
	if i < 0 {
		return paint{}
	}
	return paint{open: r[:i], close: r[i+1:]}
}

// on paints text.
func (p paint) on(text string) string {
	if p.open == "" || text == "" {
		return text
	}
	return p.open + text + p.close
}

// write paints text into b.
func (p paint) write(b *strings.Builder, text string) {
	if p.open == "" || text == "" {
		b.WriteString(text)
		return
	}
	b.WriteString(p.open)
	b.WriteString(text)
	b.WriteString(p.close)
}

// stateTone names the colour family of a unit state.
type stateTone uint8

const (
	toneRunning stateTone = iota
	toneStarting
	toneCrashed
	toneStopped
	toneExited
	tonePaused
	toneCount
)

// rowPaints are one row variant's paints: plain, selected or selected-blurred.
type rowPaints struct {
	base     paint // text without a colour of its own (name, numbers, gaps)
	dim      paint
	restarts paint
	mark     paint
	spark    paint
	state    [toneCount]paint
}

// palette is Styles compiled for the hot paths.
type palette struct {
	rows [3]rowPaints // indexed by rowNormal, rowSelected, rowSelectedBlurred

	brand, header, dim                paint
	warn, crashed, running, starting  paint
	paused                            paint
	colHead, colHeadFocused           paint
	rule, ruleFocused, title          paint
	stderr, event, timestamp, dropped paint
	err, success, info                paint
	helpKey, helpDesc, helpSep        paint
	helpOff                           paint

	tab, tabActive, match, curMatch, selection paint
	msgIn, msgOut                              paint
	json                                       [jsonKinds]paint
	label, prompt, question                    paint
	unitTags                                   []paint
}

const (
	rowNormal = iota
	rowSelected
	rowSelectedBlurred
)

func (s Styles) compile() palette {
	var p palette
	for i, bg := range []lipgloss.Style{s.Cell, s.Selected, s.SelectedBlurred} {
		with := func(st lipgloss.Style) paint { return compile(st.Inherit(bg)) }
		p.rows[i] = rowPaints{
			base:     compile(bg),
			dim:      with(s.Dim),
			restarts: with(s.Restarts),
			mark:     with(s.Mark),
			spark:    with(s.Spark),
			state: [toneCount]paint{
				toneRunning:  with(s.Running),
				toneStarting: with(s.Starting),
				toneCrashed:  with(s.Crashed),
				toneStopped:  with(s.Stopped),
				toneExited:   with(s.Exited),
				tonePaused:   with(s.Paused),
			},
		}
	}
	p.brand = compile(s.Brand)
	p.header = compile(s.Header)
	p.dim = compile(s.Dim)
	p.warn = compile(s.Warning)
	p.crashed = compile(s.Crashed)
	p.running = compile(s.Running)
	p.starting = compile(s.Starting)
	p.paused = compile(s.Paused)
	p.colHead = compile(s.ColumnHeader)
	p.colHeadFocused = compile(s.ColumnHeaderFocused)
	p.rule = compile(s.Rule)
	p.ruleFocused = compile(s.RuleFocused)
	p.title = compile(s.Title)
	p.stderr = compile(s.Stderr)
	p.event = compile(s.Event)
	p.timestamp = compile(s.Timestamp)
	p.dropped = compile(s.Dropped)
	p.err = compile(s.Error)
	p.success = compile(s.Success)
	p.info = compile(s.Info)
	p.helpKey = compile(s.HelpKey)
	p.helpDesc = compile(s.HelpDesc)
	p.helpSep = compile(s.HelpSep)
	p.helpOff = compile(s.HelpOff)
	p.tab = compile(s.Tab)
	p.tabActive = compile(s.TabActive)
	p.match = compile(s.Match)
	p.curMatch = compile(s.CurrentMatch)
	p.selection = compile(s.Selection)
	p.msgIn = compile(s.MessageIn)
	p.msgOut = compile(s.MessageOut)
	p.json = [jsonKinds]paint{
		jsonKey: compile(s.JSONKey), jsonString: compile(s.JSONString), jsonNumber: compile(s.JSONNumber),
		jsonLiteral: compile(s.JSONLiteral), jsonPunct: compile(s.JSONPunct),
	}
	p.label = compile(s.Label)
	p.prompt = compile(s.Prompt)
	p.question = compile(s.Question)
	for _, st := range s.UnitTags {
		p.unitTags = append(p.unitTags, compile(st))
	}
	if len(p.unitTags) == 0 {
		p.unitTags = []paint{{}}
	}
	return p
}
