package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/ipc"
	"github.com/kelpie-dev/kelpie/procs"
)

// jsonKind names the parts of a JSON text that are painted apart.
type jsonKind uint8

const (
	jsonKey jsonKind = iota
	jsonString
	jsonNumber
	jsonLiteral
	jsonPunct
	jsonKinds
)

// prettyLimit: bigger messages are shown as sent, wrapped, since indenting
// and painting megabytes would stall the screen for one message.
const prettyLimit = 16 << 10

// renderMessage draws a channel message: its time and direction, then the
// JSON indented and painted, each row wrapped to the width.
func renderMessage(dst []string, pal *palette, l *outLine, k wrapKey) []string {
	w := k.width
	arrow, ap := "← ", pal.msgIn
	if l.stream == procs.IPCOut {
		arrow, ap = "→ ", pal.msgOut
	}
	lead := pal.timestamp.on(l.at.Format(tsLayout)) + ap.on(arrow)
	indent := len(tsLayout) + width(arrow)
	if indent > w/2 {
		lead, indent = ap.on(arrow), width(arrow)
	}
	start := len(dst)
	for _, line := range prettyJSON(pal, l.text) {
		dst = wrapText(dst, line, w-indent)
	}
	for i := start; i < len(dst); i++ {
		if i == start {
			dst[i] = lead + dst[i]
		} else {
			dst[i] = spaces(indent) + dst[i]
		}
	}
	return dst
}

// prettyJSON indents a JSON text two spaces a level and paints its parts.
// Text that is not JSON (or too big) comes back as it is.
func prettyJSON(pal *palette, text string) []string {
	if len(text) > prettyLimit {
		return []string{text}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(text), "", "  "); err != nil {
		return []string{text}
	}
	src := buf.String()
	var lines []string
	var b strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			lines = append(lines, b.String())
			b.Reset()
			i++
		case c == ' ':
			j := i
			for j < len(src) && src[j] == ' ' {
				j++
			}
			b.WriteString(src[i:j])
			i = j
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			kind := jsonString
			if j < len(src) && src[j] == ':' {
				kind = jsonKey
			}
			pal.json[kind].write(&b, src[i:j])
			i = j
		case strings.IndexByte("{}[],:", c) >= 0:
			pal.json[jsonPunct].write(&b, src[i:i+1])
			i++
		default:
			j := i
			for j < len(src) && strings.IndexByte("{}[],: \n", src[j]) < 0 {
				j++
			}
			kind := jsonNumber
			if c == 't' || c == 'f' || c == 'n' {
				kind = jsonLiteral
			}
			pal.json[kind].write(&b, src[i:j])
			i = j
		}
	}
	return append(lines, b.String())
}

// composer is the line where the user types a JSON message for the
// selected unit: validated as they type, sent on enter, remembered in a
// history that up and down walk through.
type composer struct {
	open    bool
	target  string // the unit it sends to
	input   textinput.Model
	history []string // sent messages, oldest first
	browse  int      // index in history while walking it; len(history) is the draft
	draft   string   // what was typed before walking the history
	ok      bool     // the text is a message that may be sent
	verdict string   // "✓ valid JSON", "✗ ... at offset 12"
	sending bool     // a Send is in flight

	// Its keys, enabled by updateKeys while it is open. Submit is the
	// root's: sending reaches the engine and the status line.
	keys     InputKeys
	walkKeys HistoryKeys
}

const historyKept = 100

func newComposer(st *Styles) composer {
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = `{"cmd":"ping"}`
	in.PromptStyle = st.Prompt
	in.TextStyle = st.Input
	in.PlaceholderStyle = st.Placeholder
	in.Cursor.Style = st.Cursor
	// A steady cursor: blinking would wake the program twice a second for
	// nothing and make the screen differ from one moment to the next.
	in.Cursor.SetMode(cursor.CursorStatic)
	// Up and down walk the history here, not the suggestions.
	in.KeyMap.NextSuggestion.SetEnabled(false)
	in.KeyMap.PrevSuggestion.SetEnabled(false)
	return composer{input: in}
}

// start opens the composer for a unit, keeping an unsent draft when it is
// for the same unit.
func (c *composer) start(target string) tea.Cmd {
	if c.target != target {
		c.input.SetValue("")
	}
	c.open, c.target = true, target
	c.browse = len(c.history)
	c.check()
	return c.input.Focus()
}

func (c *composer) close() {
	c.open = false
	c.input.Blur()
}

// update gives the text input a key and checks the result.
// Update applies a key meant for the composer: esc closes it, up and down
// walk the history, the rest edits the message.
func (c *composer) Update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, c.keys.Cancel):
			c.close()
			return nil
		case key.Matches(km, c.walkKeys.HistoryPrev):
			c.walk(-1)
			return nil
		case key.Matches(km, c.walkKeys.HistoryNext):
			c.walk(1)
			return nil
		}
	}
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(msg)
	c.check()
	return cmd
}

// SetSize gives the input its width.
func (c *composer) SetSize(w, h int) { c.input.Width = max(w-width(c.input.Prompt)-1, 1) }

// updateKeys enables the composer's keys while it is open.
func (c *composer) updateKeys() {
	for _, b := range []*key.Binding{&c.keys.Submit, &c.keys.Cancel, &c.walkKeys.HistoryPrev, &c.walkKeys.HistoryNext} {
		b.SetEnabled(c.open)
	}
	c.keys.Submit.SetHelp("enter", "send")
	c.keys.Cancel.SetHelp("esc", "close")
}

func (c *composer) check() {
	c.ok, c.verdict = checkMessage(c.input.Value())
}

// walk moves through the history: -1 to older messages, +1 back towards
// the draft.
func (c *composer) walk(dir int) {
	if len(c.history) == 0 {
		return
	}
	if c.browse == len(c.history) {
		c.draft = c.input.Value()
	}
	c.browse = max(0, min(c.browse+dir, len(c.history)))
	if c.browse == len(c.history) {
		c.input.SetValue(c.draft)
	} else {
		c.input.SetValue(c.history[c.browse])
	}
	c.input.CursorEnd()
	c.check()
}

// sent records a message that went out and clears the line for the next.
func (c *composer) sent(text string) {
	if n := len(c.history); n == 0 || c.history[n-1] != text {
		c.history = append(c.history, text)
		if len(c.history) > historyKept {
			c.history = c.history[len(c.history)-historyKept:]
		}
	}
	c.browse, c.draft = len(c.history), ""
	c.input.SetValue("")
	c.check()
}

// message is the bytes enter would send.
func (c *composer) message() []byte { return []byte(strings.TrimSpace(c.input.Value())) }

// checkMessage says whether s may be sent, in words for the indicator. It
// asks ipc.CheckUser, the engine's own rule, so the composer never refuses
// what the engine would send or offers what it would refuse; it only spares
// the user a round trip.
func checkMessage(s string) (ok bool, verdict string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return false, "type one JSON value"
	}
	err := ipc.CheckUser([]byte(t))
	if err == nil {
		return true, "✓ valid JSON"
	}
	if errors.Is(err, ipc.ErrReserved) {
		return false, "✗ " + err.Error()
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// The decoder counts the bad character as read: point at it.
		off := int(se.Offset)
		if strings.HasPrefix(se.Error(), "invalid character") {
			off--
		}
		lead := strings.Index(s, t[:1])
		return false, fmt.Sprintf("✗ %s at offset %d", strings.TrimPrefix(se.Error(), "json: "), off+lead)
	}
	return false, "✗ not one valid JSON value"
}

// sendMsg reports a Send's end.
type sendMsg struct {
	name    string
	text    string
	err     error
	members int // a group's: how many members it went to
}

func sendCmd(be Backend, name string, msg []byte) tea.Cmd {
	return func() tea.Msg { return sendMsg{name: name, text: string(msg), err: be.Send(name, msg)} }
}

// msgsFetch carries the channel messages a fetch read from the engine's
// message store.
type msgsFetch struct {
	msgs   []procs.Message
	missed uint64
	err    error
}

// messages returns the buffer of the unit's channel messages, making it on
// first use (empty and due for a fetch).
func (b *logBuf) messages() *logBuf {
	if b.msgs == nil {
		b.msgs = &logBuf{name: b.name}
	}
	return b.msgs
}

// stale reports whether the message buffer (nil when nobody asked for
// messages) should be read again.
func (mb *logBuf) stale() bool {
	return mb != nil && !mb.fetching && (!mb.loaded || mb.want > mb.have)
}

// fetchMessages returns the command reading the messages after the newest
// held (the newest keep of them). It runs after the lines whose notes made
// the buffer stale were read: every message is stored before its note is
// logged, so the messages those notes stand for are in what it reads.
func (mb *logBuf) fetchMessages(be Backend, keep int) tea.Cmd {
	mb.fetching = true
	name, after := mb.name, mb.have
	return func() tea.Msg {
		f := &msgsFetch{}
		for {
			page, missed, err := be.Messages(name, after, keep)
			if err != nil {
				f.err = err
				return msgsMsg{name: name, f: f}
			}
			f.missed += missed
			f.msgs = append(f.msgs, page...)
			if n := len(f.msgs) - keep; n > 0 {
				f.missed += uint64(n)
				f.msgs = f.msgs[n:]
			}
			if len(page) < keep {
				return msgsMsg{name: name, f: f}
			}
			after = page[len(page)-1].Seq
		}
	}
}

// noteMessages marks the message buffer due for a read when lines read
// from the log carry notes of messages (or lost lines may have).
func (mb *logBuf) noteMessages(msg logsMsg) {
	due := msg.missed > 0 || msg.tail
	for _, l := range msg.lines {
		due = due || l.Stream == procs.IPCIn || l.Stream == procs.IPCOut
	}
	if due {
		mb.want = max(mb.want, mb.have+1)
		mb.noted = mb.fetching // the read in flight may have run before these notes
	}
}

// store stores the messages a read brought.
func (mb *logBuf) store(f *msgsFetch, keep int) {
	mb.fetching, mb.loaded = false, true
	if f.err == nil {
		if f.missed > 0 && len(mb.lines) > 0 {
			mb.lines = append(mb.lines, outLine{
				note: true, text: "⋯ " + grouped(f.missed) + " messages dropped",
				seq: mb.have, stream: procs.Event,
			})
		}
		for _, m := range f.msgs {
			if m.Seq <= mb.have {
				continue
			}
			// A message is outside text: JSON escapes do not cover C1
			// controls, and a cut message is shown as its decoded start.
			mb.lines = append(mb.lines, outLine{seq: m.Seq, at: m.Time, stream: m.Stream, text: procs.Clean(m.Text())})
			mb.have = m.Seq
		}
		mb.trim(keep)
	}
	// All there was has been read: only a later note makes it due again.
	mb.want = mb.have
	if mb.noted {
		mb.want, mb.noted = mb.have+1, false
	}
}
