package ui

import (
	"hash/fnv"
	"slices"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// paneMode is how many units the detail pane shows.
type paneMode uint8

const (
	modeSingle paneMode = iota // the selected unit, in one of its views
	modeSplit                  // the output of several units side by side
	modeMerged                 // every unit's output in one stream, each line tagged
)

// maxSplit caps the split view: more columns than this are too narrow to
// read, and each one keeps a buffer.
const maxSplit = 4

// splitView shows the output of a few units at once, side by side (or one
// above the other when the pane is narrow).
type splitView struct {
	names []string
	panes []outputPane
	focus int // the column the moving keys scroll
	cols  bool
	// laid out by render: where each column sits in the pane, for the mouse
	boxes []box

	// The keys each column's pane starts with.
	keys  OutputKeys
	moves MoveKeys
}

// box is a rectangle of the pane, relative to its top left corner.
type box struct{ x, y, w, h int }

func (b box) has(x, y int) bool { return x >= b.x && x < b.x+b.w && y >= b.y && y < b.y+b.h }

func (s *splitView) start(names []string) {
	*s = splitView{names: names, panes: make([]outputPane, len(names)), keys: s.keys, moves: s.moves}
	for i := range s.panes {
		s.panes[i].reset()
		s.panes[i].keys, s.panes[i].moves = s.keys, s.moves
	}
}

// focused is the column that has the keyboard (its pane is bound to its
// buffer by the root: see Model.activePane).
func (s *splitView) focused() *outputPane { return &s.panes[s.focus] }

// Update passes a key to the focused column.
func (s *splitView) Update(msg tea.Msg) tea.Cmd { return s.focused().Update(msg) }

// splitLook is what the split view draws from besides its own state: the
// root binds it (the palette, the units' states and buffers, the clock).
type splitLook struct {
	pal     *palette
	focused bool // the pane has the keyboard
	now     time.Time
	info    func(name string) *procs.Info // nil for a unit that is gone
	buf     func(name string) *logBuf
}

// View draws the columns into w x h lines.
func (s *splitView) View(m splitLook, w, h int) []string {
	n := len(s.names)
	lines := make([]string, h)
	s.boxes = s.boxes[:0]
	s.cols = w/n >= 30 || h/n < 4
	focused := m.focused
	if s.cols {
		cw := (w - (n - 1)) / n
		x := 0
		for i := range n {
			wi := cw
			if i == n-1 {
				wi = w - x
			}
			col := s.column(m, i, wi, h, focused && s.focus == i)
			for j := range h {
				if i > 0 {
					lines[j] += m.pal.rule.on("│")
				}
				lines[j] += fit(col[j], wi, false)
			}
			s.boxes = append(s.boxes, box{x: x, y: 0, w: wi, h: h})
			x += wi + 1
		}
		return lines
	}
	y := 0
	rh := h / n
	for i := range n {
		hi := rh
		if i == n-1 {
			hi = h - y
		}
		copy(lines[y:], s.column(m, i, w, hi, focused && s.focus == i))
		s.boxes = append(s.boxes, box{x: 0, y: y, w: w, h: hi})
		y += hi
	}
	return lines
}

// column is one unit's title and output, exactly h lines.
func (s *splitView) column(m splitLook, i, w, h int, focused bool) []string {
	p, name := &s.panes[i], s.names[i]
	rule := m.pal.rule
	if focused {
		rule = m.pal.ruleFocused
	}
	left := []segment{{safe(name), m.pal.unitTag(name)}}
	if in := m.info(name); in != nil {
		glyph, _, tone := stateText(in, m.now)
		left = append(left, segment{" " + glyph, m.pal.rows[rowNormal].state[tone]})
	} else {
		left = append(left, segment{" gone", m.pal.dim})
	}
	b := m.buf(name)
	p.SetSize(w, h-1)
	p.View(m.pal, b, "no output yet")
	out := make([]string, 0, h)
	out = append(out, ruleLine(rule, w, left, []segment{{" " + p.position() + " ", m.pal.dim}, {"─", rule}}))
	return append(out, p.rows...)
}

// mergedView is every unit's output in one stream, oldest first, each line
// tagged with its unit's name in the unit's colour. It keeps its own
// buffer, fed by one cursor over every unit (see follow.go).
type mergedView struct {
	buf   *logBuf
	pane  outputPane
	have  map[string]uint64 // per unit: newest sequence number read
	nameW int
	tags  map[string]string // per unit: its name made safe and fitted to nameW, with the bar
}

// Update passes a key to the stream's pane.
func (v *mergedView) Update(msg tea.Msg) tea.Cmd { return v.pane.Update(msg) }

// mergedMsg is lines read for the merged stream, per unit.
type mergedMsg struct {
	tail   bool // each unit's newest lines, the stream's start
	lines  map[string][]procs.Line
	missed map[string]uint64
}

// mergedTailLines is how many of each unit's newest lines the merged stream
// starts with.
const mergedTailLines = 200

func (v *mergedView) start(names []string) {
	keys, moves := v.pane.keys, v.pane.moves
	*v = mergedView{
		buf:  &logBuf{name: "*"},
		have: make(map[string]uint64),
		tags: make(map[string]string),
	}
	v.pane.reset()
	v.pane.keys, v.pane.moves = keys, moves
	for _, n := range names {
		v.nameW = max(v.nameW, width(n))
	}
	v.nameW = min(v.nameW, 16)
}

// apply adds lines read in time order (each unit's lines are in order
// already; lines of different units are interleaved by their times).
func (v *mergedView) apply(pal *palette, msg mergedMsg, keep int) {
	v.buf.loaded = true
	type tagged struct {
		name string
		l    procs.Line
	}
	var all []tagged
	names := make([]string, 0, len(msg.lines))
	for n := range msg.lines {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, l := range msg.lines[n] {
			if l.Seq <= v.have[n] {
				continue
			}
			all = append(all, tagged{n, l})
			v.have[n] = l.Seq
		}
		if missed := msg.missed[n]; missed > 0 {
			v.addLine(pal, n, outLine{note: true, stream: procs.Event, text: "⋯ " + grouped(missed) + " lines dropped"})
		}
	}
	slices.SortStableFunc(all, func(a, b tagged) int { return a.l.Time.Compare(b.l.Time) })
	for _, t := range all {
		v.addLine(pal, t.name, outLine{seq: t.l.Seq, at: t.l.Time, stream: t.l.Stream, text: t.l.Text})
	}
	v.buf.trim(keep)
}

func (v *mergedView) addLine(pal *palette, name string, l outLine) {
	// A flood comes line by line: a unit's tag is made once, and again only
	// when a wider name widened the column.
	tag, ok := v.tags[name]
	if !ok {
		shown := safe(name)
		if w := min(width(shown), 16); w > v.nameW {
			v.nameW = w
			clear(v.tags)
		}
		tag = fit(shown, v.nameW, false) + " │ "
		v.tags[name] = tag
	}
	l.prefix, l.prefixW = pal.unitTag(name).on(tag), width(tag)
	v.buf.lines = append(v.buf.lines, l)
}

// unitTag is the colour a unit's name has where units mix; it follows from
// the name, so a unit keeps it across runs.
func (p *palette) unitTag(name string) paint {
	h := fnv.New32a()
	h.Write([]byte(name))
	return p.unitTags[h.Sum32()%uint32(len(p.unitTags))]
}
