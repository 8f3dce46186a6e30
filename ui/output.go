package ui

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

// detailView is what the detail pane shows for the selected unit.
type detailView uint8

const (
	viewOutput   detailView = iota // the unit's output
	viewMessages                   // its channel's traffic, both ways
	viewStats                      // charts and process details
	viewCount
)

func (v detailView) String() string {
	switch v {
	case viewOutput:
		return "output"
	case viewMessages:
		return "messages"
	case viewStats:
		return "stats"
	}
	return "?"
}

// outLine is one line of a unit's output as the pane keeps it.
type outLine struct {
	seq    uint64
	at     time.Time
	stream procs.Stream
	text   string
	note   bool // written by kelpie, not the unit ("N lines dropped")

	// prefix is painted in front of the line (the unit's name in the merged
	// stream); prefixW is its width.
	prefix  string
	prefixW int

	plain string // text without escape sequences, for search and copy
	key   wrapKey
	rows  []string // painted display rows
}

// plainText is the line as the user reads it, without colours.
func (l *outLine) plainText() string {
	if l.plain == "" && l.text != "" {
		if strings.IndexByte(l.text, 0x1b) < 0 {
			l.plain = l.text
		} else {
			l.plain = ansi.Strip(l.text)
		}
	}
	return l.plain
}

// wrapKey is everything a line's display rows depend on.
type wrapKey struct {
	width      int
	timestamps bool
	nowrap     bool
	query      string // search matches to highlight
	mark       lineMark
}

// lineMark singles a line out.
type lineMark uint8

const (
	markNone     lineMark = iota
	markCurrent           // the search match n/N moved to
	markSelected          // in the visual selection
)

// logBuf is the output the UI keeps for one unit: the newest lines, which
// its follower (see follow.go) brings while the unit is on screen.
type logBuf struct {
	name   string
	lines  []outLine
	base   int    // lines evicted from the front: lines[i] is line number base+i
	loaded bool   // the first read came back
	have   uint64 // newest sequence number held

	// want and fetching serve the buffer of channel messages (msgs): the
	// newest message sequence number known to exist, and a read in flight.
	want     uint64
	fetching bool
	noted    bool // a note came while a read was in flight: read again after it

	// msgs holds the unit's channel messages, read from the engine's
	// message store (not the log, which a chatty child overwrites) once the
	// Messages view asked for them. Its have/want count message sequence
	// numbers, which are the store's own.
	msgs *logBuf
}

// logsMsg is lines read for a unit, as its buffer applies them.
type logsMsg struct {
	tail   bool // the unit's newest lines: they replace what the buffer holds
	lines  []procs.Line
	missed uint64
}

// apply stores lines read, keeping at most keep.
func (b *logBuf) apply(msg logsMsg, keep int) {
	b.loaded = true
	if b.msgs != nil {
		b.msgs.noteMessages(msg) // its notes say messages came
	}
	if msg.tail {
		b.base += len(b.lines)
		b.lines = b.lines[:0:0]
	} else if msg.missed > 0 && len(b.lines) > 0 {
		b.lines = append(b.lines, outLine{
			note: true, text: "⋯ " + grouped(msg.missed) + " lines dropped",
			seq: b.have, stream: procs.Event,
		})
	}
	lines := msg.lines
	if !msg.tail {
		// Lines already had (a batch that repeats some) come first: a
		// unit's seqs ascend.
		i := 0
		for i < len(lines) && lines[i].Seq <= b.have {
			i++
		}
		lines = lines[i:]
	}
	if len(lines) == 0 {
		b.trim(keep)
		return
	}
	b.have = max(b.have, lines[len(lines)-1].Seq)
	if skip := len(lines) - keep; skip > 0 && keep > 0 {
		// Only the newest keep can stay: the rest are counted, not stored.
		b.base += skip
		lines = lines[skip:]
	}
	b.trim(keep - len(lines))
	for _, l := range lines {
		b.lines = append(b.lines, outLine{seq: l.Seq, at: l.Time, stream: l.Stream, text: l.Text})
	}
	b.trim(keep)
}

// trim drops the oldest lines beyond keep. They are dropped by moving the
// rest down, so the buffer keeps its array: slicing them off the front made
// every batch of a flood grow a new one (and feed the GC).
func (b *logBuf) trim(keep int) {
	keep = max(keep, 0)
	if n := len(b.lines) - keep; n > 0 {
		b.base += n
		k := copy(b.lines, b.lines[n:])
		clear(b.lines[k:])
		b.lines = b.lines[:k]
	}
}

// end is the line number after the newest line.
func (b *logBuf) end() int { return b.base + len(b.lines) }

// logStore holds the buffers of the units shown lately, so coming back to a
// unit is instant; the least recently shown go first, except the pinned
// ones (the units of the split view).
type logStore struct {
	bufs   map[string]*logBuf
	recent []string // most recently shown last
	pinned map[string]bool
	limit  int
}

const keptBuffers = 8

func newLogStore() logStore {
	return logStore{bufs: make(map[string]*logBuf), pinned: make(map[string]bool), limit: keptBuffers}
}

func (s *logStore) get(name string) *logBuf { return s.bufs[name] }

// forgetRows drops every line's drawn rows (the palette changed).
func (s *logStore) forgetRows() {
	for _, b := range s.bufs {
		for _, bb := range []*logBuf{b, b.msgs} {
			if bb == nil {
				continue
			}
			for i := range bb.lines {
				bb.lines[i].rows, bb.lines[i].key = nil, wrapKey{}
			}
		}
	}
}

// open returns name's buffer, making it if needed, and marks it recently shown.
func (s *logStore) open(name string) *logBuf {
	b := s.bufs[name]
	if b == nil {
		b = &logBuf{name: name}
		s.bufs[name] = b
	}
	for i, n := range s.recent {
		if n == name {
			s.recent = append(s.recent[:i], s.recent[i+1:]...)
			break
		}
	}
	s.recent = append(s.recent, name)
	for i := 0; len(s.recent) > s.limit+len(s.pinned) && i < len(s.recent); {
		if n := s.recent[i]; !s.pinned[n] && n != name {
			delete(s.bufs, n)
			s.recent = append(s.recent[:i], s.recent[i+1:]...)
			continue
		}
		i++
	}
	return b
}

// pin keeps exactly names' buffers whatever else is shown.
func (s *logStore) pin(names []string) {
	clear(s.pinned)
	for _, n := range names {
		s.pinned[n] = true
	}
}

func (s *logStore) drop(name string) {
	delete(s.bufs, name)
	for i, n := range s.recent {
		if n == name {
			s.recent = append(s.recent[:i], s.recent[i+1:]...)
			break
		}
	}
}

// ruleLine draws a title rule exactly w cells wide: "── left ───── right ──".
// Segments are painted pieces of text; the first segment that does not fit
// is cut.
type segment struct {
	text string
	p    paint
}

func ruleLine(rule paint, w int, left, right []segment) string {
	if w <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	put := func(s segment, room int) bool {
		t := truncate(s.text, room)
		s.p.write(&b, t)
		used += width(t)
		return width(t) == width(s.text)
	}
	rightW := 0
	for _, s := range right {
		rightW += width(s.text)
	}
	if rightW+8 > w {
		right, rightW = nil, 0
	}
	lead := "── "
	if w < 6 {
		lead = ""
	}
	rule.write(&b, lead)
	used += width(lead)
	for _, s := range left {
		room := w - used - rightW - 3 // keep a bit of rule between the two ends
		if room <= 0 || !put(s, room) {
			break
		}
	}
	fill := w - used - rightW
	if fill > 0 {
		rule.write(&b, " "+strings.Repeat("─", fill-1))
		used += fill
	}
	for _, s := range right {
		put(s, w-used)
	}
	return b.String()
}
