package ui

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// searchState is a search in an output pane: the query and the lines that
// match it, kept up to date as lines come and go.
type searchState struct {
	query   string
	matches []int // line numbers (see logBuf.base) of matching lines, oldest first
	cur     int   // index in matches of the line n/N moved to; -1 for none
	scanned int   // line number the scan reached
	buf     *logBuf
}

// set starts a search for q over b ("" ends it).
func (s *searchState) set(q string, b *logBuf) {
	*s = searchState{query: q, cur: -1, buf: b}
	if b != nil {
		s.scanned = b.base
	}
	s.sync(b)
}

// sync forgets matches that left the buffer and scans the lines that
// arrived since the last call.
func (s *searchState) sync(b *logBuf) {
	if s.query == "" || b == nil {
		return
	}
	if s.buf != b {
		s.set(s.query, b)
		return
	}
	drop := 0
	for drop < len(s.matches) && s.matches[drop] < b.base {
		drop++
	}
	if drop > 0 {
		s.matches = append(s.matches[:0], s.matches[drop:]...)
		if s.cur >= 0 {
			s.cur = max(s.cur-drop, -1)
		}
	}
	for n := max(s.scanned, b.base); n < b.end(); n++ {
		if l := &b.lines[n-b.base]; !l.note && indexFold(l.plainText(), s.query, 0) >= 0 {
			s.matches = append(s.matches, n)
		}
	}
	s.scanned = b.end()
}

func (s *searchState) isCurrent(n int) bool {
	return s.cur >= 0 && s.cur < len(s.matches) && s.matches[s.cur] == n
}

// step moves to the next (+1) or previous (-1) match, wrapping around; from
// no current match, either goes to the newest. It returns the line number.
func (s *searchState) step(dir int) (int, bool) {
	if len(s.matches) == 0 {
		return 0, false
	}
	switch {
	case s.cur < 0:
		s.cur = len(s.matches) - 1
	default:
		s.cur = (s.cur + dir + len(s.matches)) % len(s.matches)
	}
	return s.matches[s.cur], true
}

// status is the title's word on the search: "match 3/17", "no match".
func (s *searchState) status() string {
	switch {
	case s.query == "":
		return ""
	case len(s.matches) == 0:
		return "no match for “" + safe(s.query) + "”"
	case s.cur < 0:
		return plural(len(s.matches), "match") + " for “" + safe(s.query) + "”"
	}
	return "match " + strconv.Itoa(s.cur+1) + "/" + strconv.Itoa(len(s.matches))
}

// indexFold is the byte offset of the first match of q in s at or after
// from, ignoring case, or -1. It compares rune by rune so the offsets are
// those of s (lower-casing can change a string's length).
func indexFold(s, q string, from int) int {
	if q == "" {
		return -1
	}
	for i := from; i < len(s); {
		if _, ok := hasPrefixFold(s[i:], q); ok {
			return i
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1
}

// hasPrefixFold reports whether s starts with q ignoring case, and how many
// bytes of s the match covers.
func hasPrefixFold(s, q string) (int, bool) {
	n := 0
	for q != "" {
		if n >= len(s) {
			return 0, false
		}
		r1, s1 := utf8.DecodeRuneInString(s[n:])
		r2, s2 := utf8.DecodeRuneInString(q)
		if r1 != r2 && unicode.ToLower(r1) != unicode.ToLower(r2) {
			return 0, false
		}
		n += s1
		q = q[s2:]
	}
	return n, true
}

// highlight paints every match of q in text with hl. text may hold SGR
// colour sequences: matches are found in what the user reads, and after
// each one the line's paint (restore) and its own colours in effect are
// switched on again, since hl ends with a reset.
func highlight(text, q string, hl paint, restore string) string {
	if q == "" || hl.open == "" {
		return text
	}
	// plain is text without its escape sequences; at[i] is where plain's
	// byte i sits in text.
	var plain strings.Builder
	at := make([]int, 0, len(text))
	for i := 0; i < len(text); {
		if text[i] == 0x1b {
			i = skipEscape(text, i)
			continue
		}
		plain.WriteByte(text[i])
		at = append(at, i)
		i++
	}
	ps := plain.String()
	first := indexFold(ps, q, 0)
	if first < 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 32)
	active := "" // the text's own SGR sequences in effect, since its last reset
	done := 0    // bytes of text written
	copyTo := func(end int) {
		for i := done; i < end; {
			if text[i] == 0x1b {
				j := skipEscape(text, i)
				if seq := text[i:j]; isReset(seq) {
					active = ""
				} else {
					active += seq
				}
				i = j
				continue
			}
			i++
		}
		b.WriteString(text[done:end])
		done = end
	}
	for m := first; m >= 0; {
		n, _ := hasPrefixFold(ps[m:], q)
		start, end := at[m], at[m+n-1]+1
		copyTo(start)
		b.WriteString(hl.open)
		copyTo(end)
		b.WriteString(hl.close)
		b.WriteString(restore)
		b.WriteString(active)
		m = indexFold(ps, q, m+n)
	}
	b.WriteString(text[done:])
	return b.String()
}

// skipEscape returns the index after the escape sequence starting at i.
func skipEscape(text string, i int) int {
	j := i + 1
	if j < len(text) && text[j] == '[' {
		j++
		for j < len(text) && (text[j] < 0x40 || text[j] > 0x7e) {
			j++
		}
	}
	return min(j+1, len(text))
}
