package control

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kelpie-dev/kelpie/procs"
)

// The protocol's hot path is a log line: `logs --follow` of a flooding unit
// sends millions. Encoding and decoding them through reflection cost more
// than everything else on either side, so a line response has a writer and
// a reader of its own here. The bytes are exactly what encoding/json would
// write for Response{Line: &l} (HTML characters aside, which it escapes and
// this leaves as they are: both are the same JSON), and the reader falls
// back to encoding/json for anything that is not in that exact shape.

const (
	lineOpen   = `{"line":{`
	lineUnit   = `"unit":`
	lineSeq    = `"seq":`
	lineTS     = `,"ts":"`
	lineStream = `","stream":"`
	lineText   = `","text":`
	lineTrunc  = `,"truncated":true`
	lineEnd    = "}}\n"
)

// rawLine is what appendLine writes: one log line, its text as raw bytes
// (from the ring; any invalid UTF-8 becomes U+FFFD, as the ring's string
// copies do). Unit is set where a reply covers several units.
type rawLine struct {
	unit   string
	seq    uint64
	ts     time.Time
	stream procs.Stream
	text   []byte
	cut    bool // split for length: the text gets procs' cut marker
	trunc  bool // Line.Truncated (also true when cut)
}

// appendLine appends the response line of one log line.
func appendLine(b []byte, l rawLine) []byte {
	b = append(b, lineOpen...)
	if l.unit != "" {
		b = append(b, lineUnit...)
		b = appendJSONString(b, []byte(l.unit), false)
		b = append(b, ',')
	}
	b = append(b, lineSeq...)
	b = strconv.AppendUint(b, l.seq, 10)
	b = append(b, lineTS...)
	b = l.ts.AppendFormat(b, time.RFC3339Nano)
	b = append(b, lineStream...)
	b = append(b, l.stream.String()...)
	b = append(b, lineText...)
	b = appendJSONString(b, l.text, l.cut)
	if l.cut || l.trunc {
		b = append(b, lineTrunc...)
	}
	return append(b, lineEnd...)
}

// appendJSONString appends text as a JSON string, with procs' cut marker
// when cut.
func appendJSONString(b, text []byte, cut bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(text); {
		c := text[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, text[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, text[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// Valid JSON either way; escaped as encoding/json does, for
			// readers that take JSON for JavaScript.
			b = append(b, text[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, text[start:]...)
	if cut {
		b = append(b, procs.CutMarker...)
	}
	return append(b, '"')
}

// decodeResponse parses one response line: a log line in the shape
// appendLine writes without reflection, anything else with encoding/json.
func decodeResponse(line []byte, resp *Response) error {
	if l, ok := parseLine(line); ok {
		*resp = Response{Line: l}
		return nil
	}
	*resp = Response{}
	return json.Unmarshal(line, resp)
}

// parseLine reads a line response in exactly appendLine's shape.
func parseLine(b []byte) (*procs.Line, bool) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	rest, ok := bytes.CutPrefix(b, []byte(lineOpen))
	if !ok {
		return nil, false
	}
	var l procs.Line
	if rest, ok = bytes.CutPrefix(rest, []byte(lineUnit+`"`)); ok {
		// Unit names need no escapes; anything else takes the slow path.
		i := bytes.IndexByte(rest, '"')
		if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 || !utf8.Valid(rest[:i]) {
			return nil, false
		}
		l.Unit = string(rest[:i])
		if rest, ok = bytes.CutPrefix(rest[i+1:], []byte(",")); !ok {
			return nil, false
		}
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(lineSeq)); !ok {
		return nil, false
	}
	i := bytes.IndexByte(rest, ',')
	if i < 0 {
		return nil, false
	}
	seq, err := strconv.ParseUint(string(rest[:i]), 10, 64)
	if err != nil {
		return nil, false
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(lineTS)); !ok {
		return nil, false
	}
	if i = bytes.IndexByte(rest, '"'); i < 0 {
		return nil, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(rest[:i]))
	if err != nil {
		return nil, false
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(lineStream)); !ok {
		return nil, false
	}
	if i = bytes.IndexByte(rest, '"'); i < 0 {
		return nil, false
	}
	stream, ok := procs.ParseStream(string(rest[:i]))
	if !ok {
		return nil, false
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(lineText)); !ok {
		return nil, false
	}
	quoted, ok := bytes.CutSuffix(rest, []byte("}}"))
	if !ok {
		return nil, false
	}
	// A JSON string ends in a quote, so this suffix is never the text's.
	quoted, l.Truncated = bytes.CutSuffix(quoted, []byte(lineTrunc))
	if len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return nil, false
	}
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && utf8.Valid(inner) {
		l.Text = string(inner)
	} else if json.Unmarshal(quoted, &l.Text) != nil {
		return nil, false
	}
	l.Seq, l.Time, l.Stream = seq, ts, stream
	return &l, true
}
