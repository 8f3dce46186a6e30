package ui

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// The terminal's background colour decides between the light and dark
// palettes. Asking for it used to happen before the screen was up, and a
// terminal that never answers (`script`, some remote or embedded ones) held
// the first frame back for seconds. Now the screen is drawn at once in the
// dark palette, the question goes out with the first frame, and the answer
// is picked out of the key input whenever it comes; a light answer repaints
// in the light palette.

// seqAskBackground asks for the background colour (OSC 11), then for the
// device attributes (DA1): every terminal answers the second, so its answer
// says that no background answer is coming.
const seqAskBackground = "\x1b]11;?\x07\x1b[c"

// answerWindow is how long answers are looked for in the input. A terminal
// that answers does so within a round trip; after this, input is passed on
// untouched.
const answerWindow = 3 * time.Second

// backgroundMsg is the terminal's answer: its background is dark or not.
type backgroundMsg struct{ dark bool }

// answerReader is the key input with the terminal's answers taken out, so
// that no byte of an answer ("\x1b]11;rgb:ffff/ffff/ffff\x07") is ever read
// as key presses (`1` switches views, `r` restarts). It stands in for the
// terminal file in Bubble Tea, which reads it only after waiting on its file
// descriptor: so it never holds bytes that the descriptor will not announce,
// except an answer's first bytes, whose rest is on its way.
type answerReader struct {
	f        *os.File
	until    time.Time // answers are looked for until then (or DA1)
	now      func() time.Time
	answered func(dark bool) // called once with the background's answer
	done     bool            // DA1 came, or the window closed
	pend     []byte          // the start of an answer, waiting for its rest
	afterESC bool            // the last bytes passed on ended with a lone ESC
}

func newAnswerReader(f *os.File, answered func(dark bool)) *answerReader {
	return &answerReader{f: f, until: time.Now().Add(answerWindow), now: time.Now, answered: answered}
}

// Read reads the input, without the terminal's answers.
func (r *answerReader) Read(p []byte) (int, error) {
	if r.done || r.now().After(r.until) {
		r.done = true
		if len(r.pend) > 0 { // not an answer after all: pass it on
			n := copy(p, r.pend)
			r.pend = r.pend[n:]
			return n, nil
		}
		return r.f.Read(p)
	}
	// Room for what is held back, so all that is returned fits in p.
	room := len(p) - len(r.pend)
	if room <= 0 {
		n := copy(p, r.pend)
		r.pend = r.pend[n:]
		return n, nil
	}
	n, err := r.f.Read(p[:room])
	out := r.filter(p[:n])
	return copy(p, out), err
}

// filter takes the answers out of data (read after what is pending) and
// keeps an incomplete answer's start pending.
func (r *answerReader) filter(data []byte) []byte {
	in := append(r.pend, data...)
	r.pend = nil
	out := make([]byte, 0, len(in))
	if r.afterESC {
		// An answer split right after its ESC: the ESC went out alone
		// (Bubble Tea reads it as the esc key, which is harmless here);
		// its body must not go out as keys.
		end, ok := r.answerBody(in, 0)
		switch {
		case ok:
			in = in[end:]
		case end < 0 && len(in) < 128:
			r.pend = append([]byte(nil), in...)
			return out
		}
	}
	for i := 0; i < len(in); {
		if in[i] != 0x1b {
			out = append(out, in[i])
			i++
			continue
		}
		end, state := r.answer(in[i:])
		switch state {
		case answerWhole:
			i += end
		case answerPartial:
			r.pend = append([]byte(nil), in[i:]...)
			i = len(in)
		default:
			out = append(out, in[i])
			i++
		}
	}
	r.afterESC = len(out) > 0 && out[len(out)-1] == 0x1b
	return out
}

type answerState uint8

const (
	answerNone answerState = iota
	answerWhole
	answerPartial
)

// answer looks at b, starting with ESC: a whole answer (its length), the
// start of one, or none.
func (r *answerReader) answer(b []byte) (int, answerState) {
	if len(b) == 1 {
		return 0, answerNone // a lone ESC is the esc key
	}
	for _, intro := range []string{"\x1b]11;", "\x1b[?"} {
		if len(b) < len(intro) && strings.HasPrefix(intro, string(b)) {
			return 0, answerPartial
		}
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x1b]11;")) || bytes.HasPrefix(b, []byte("\x1b[?")):
		end, ok := r.answerBody(b, 1)
		if ok {
			return end, answerWhole
		}
		if end < 0 && len(b) < 128 {
			return 0, answerPartial
		}
	}
	return 0, answerNone
}

// answerBody reads an answer whose introducer (after the ESC) starts at
// b[at]: the OSC 11 colour or the DA1 attributes. It returns the index past
// the answer and true; or -1 when the answer is not complete yet, or 0 when
// b holds no answer there.
func (r *answerReader) answerBody(b []byte, at int) (int, bool) {
	rest := b[at:]
	switch {
	case bytes.HasPrefix(rest, []byte("]11;")):
		body := rest[4:]
		for j := 0; j < len(body); j++ {
			end := -1
			switch {
			case body[j] == 0x07:
				end = j + 1
			case body[j] == 0x1b && j+1 < len(body) && body[j+1] == '\\':
				end = j + 2
			}
			if end >= 0 {
				if dark, ok := parseBackground(string(body[:j])); ok && r.answered != nil {
					r.answered(dark)
					r.answered = nil
				}
				return at + 4 + end, true
			}
		}
		return -1, false
	case bytes.HasPrefix(rest, []byte("[?")):
		for j := 2; j < len(rest); j++ {
			c := rest[j]
			switch {
			case c >= '0' && c <= '9' || c == ';':
				continue
			case c == 'c':
				r.done = true // DA1: no answer comes after it
				return at + j + 1, true
			}
			return 0, false
		}
		return -1, false
	}
	return 0, false
}

// parseBackground reads an OSC 11 colour ("rgb:RRRR/GGGG/BBBB" with one to
// four hex digits per channel, or "#RRGGBB") and says whether it is dark.
func parseBackground(s string) (dark, ok bool) {
	var parts []string
	switch {
	case strings.HasPrefix(s, "rgb:"):
		parts = strings.Split(s[4:], "/")
	case strings.HasPrefix(s, "rgba:"):
		parts = strings.Split(s[5:], "/")
		if len(parts) == 4 {
			parts = parts[:3]
		}
	case strings.HasPrefix(s, "#") && len(s) == 7:
		parts = []string{s[1:3], s[3:5], s[5:7]}
	}
	if len(parts) != 3 {
		return false, false
	}
	var v [3]float64
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 {
			return false, false
		}
		n, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			return false, false
		}
		v[i] = float64(n) / float64(uint64(1)<<(4*len(p))-1)
	}
	// Relative luminance, near enough: dark below the middle grey.
	return 0.2126*v[0]+0.7152*v[1]+0.0722*v[2] < 0.5, true
}

// Write, Close, Fd and Name make answerReader a terminal file for Bubble
// Tea, which then waits on the descriptor and can stop reading at exit.
func (r *answerReader) Write(p []byte) (int, error) { return r.f.Write(p) }
func (r *answerReader) Close() error                { return nil } // stdin is not ours to close
func (r *answerReader) Fd() uintptr                 { return r.f.Fd() }
func (r *answerReader) Name() string                { return r.f.Name() }
