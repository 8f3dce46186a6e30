package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
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

	// Table.
	ColumnHeader        lipgloss.Style
	ColumnHeaderFocused lipgloss.Style
	Cell                lipgloss.Style
	Selected            lipgloss.Style // the cursor row while the table has focus
	SelectedBlurred     lipgloss.Style // the cursor row while it has not
	Restarts            lipgloss.Style // a restart count above zero

	// Detail pane.
	Rule        lipgloss.Style // pane title rule, unfocused
	RuleFocused lipgloss.Style
	Title       lipgloss.Style // the unit's name in the pane title
	Stderr      lipgloss.Style
	Event       lipgloss.Style // supervisor events in the output
	Timestamp   lipgloss.Style
	Dropped     lipgloss.Style // "N lines dropped"

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

		ColumnHeader:        s.Foreground(colDim).Bold(true),
		ColumnHeaderFocused: s.Foreground(colAccent).Bold(true),
		Cell:                s,
		Selected:            s.Background(colSelBg).Bold(true),
		SelectedBlurred:     s.Background(colSelBlur),
		Restarts:            s.Foreground(colYellow),

		Rule:        s.Foreground(colFaint),
		RuleFocused: s.Foreground(colAccent),
		Title:       s.Bold(true),
		Stderr:      s.Foreground(colSoftRed),
		Event:       s.Foreground(colDim).Italic(true),
		Timestamp:   s.Foreground(colDim),
		Dropped:     s.Foreground(colYellow).Italic(true),

		Dim:     s.Foreground(colDim),
		Error:   s.Foreground(colRed).Bold(true),
		Warning: s.Foreground(colYellow),
		Success: s.Foreground(colGreen),
		Info:    s.Foreground(colText),

		HelpKey:  s.Foreground(colAccent),
		HelpDesc: s.Foreground(colDim),
		HelpSep:  s.Foreground(colFaint),
	}
}

// helpStyles dresses bubbles/help in the same palette.
func (s Styles) helpStyles() help.Styles {
	return help.Styles{
		Ellipsis:       s.HelpSep,
		ShortKey:       s.HelpKey,
		ShortDesc:      s.HelpDesc,
		ShortSeparator: s.HelpSep,
		FullKey:        s.HelpKey,
		FullDesc:       s.HelpDesc,
		FullSeparator:  s.HelpSep,
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
	toneCount
)

// rowPaints are one row variant's paints: plain, selected or selected-blurred.
type rowPaints struct {
	base     paint // text without a colour of its own (name, numbers, gaps)
	dim      paint
	restarts paint
	state    [toneCount]paint
}

// palette is Styles compiled for the hot paths.
type palette struct {
	rows [3]rowPaints // indexed by rowNormal, rowSelected, rowSelectedBlurred

	brand, header, dim                paint
	warn, crashed, running, starting  paint
	colHead, colHeadFocused           paint
	rule, ruleFocused, title          paint
	stderr, event, timestamp, dropped paint
	err, success, info                paint
	helpKey, helpDesc, helpSep        paint
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
			state: [toneCount]paint{
				toneRunning:  with(s.Running),
				toneStarting: with(s.Starting),
				toneCrashed:  with(s.Crashed),
				toneStopped:  with(s.Stopped),
				toneExited:   with(s.Exited),
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
	return p
}
