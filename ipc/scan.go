package ipc

import (
	"bytes"
	"encoding/json"
)

// maxDepth caps nesting like encoding/json does, so the recursive scanner
// cannot be driven into a huge stack by a line of 16 MiB of '['.
const maxDepth = 10000

// internalPrefix marks Node's own protocol messages (NODE_HANDLE, cluster's
// NODE_CLUSTER...). Node's isInternal also requires the cmd to be longer
// than the prefix, so a bare "NODE_" is an ordinary user message.
const internalPrefix = "NODE_"

// scanInfo is what one pass over a JSON value tells the channel.
type scanInfo struct {
	// ws: the value contains insignificant whitespace; a sender must compact
	// it, because a newline in it would split the line for the receiver.
	ws bool
	// cmd is the raw string token (quotes included) of the top-level "cmd"
	// member as a JavaScript receiver sees it (the last duplicate wins);
	// nil when the value is not an object, has no "cmd", or its last "cmd"
	// is not a string.
	cmd []byte
}

// scanner validates one JSON value in a single pass without building it:
// decoding every message into interface{} would dominate the channel's cost.
// It accepts exactly what encoding/json's Valid (and JavaScript's JSON.parse)
// accepts.
type scanner struct {
	data  []byte
	i     int
	depth int
	info  scanInfo
}

// scanJSON reports whether data is exactly one JSON value (surrounding
// whitespace allowed) and what the channel needs to know about it.
func scanJSON(data []byte) (scanInfo, bool) {
	s := scanner{data: data}
	s.skipWS()
	if !s.value(true) {
		return scanInfo{}, false
	}
	s.skipWS()
	if s.i != len(s.data) {
		return scanInfo{}, false
	}
	return s.info, true
}

func (s *scanner) skipWS() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.info.ws = true
			s.i++
		default:
			return
		}
	}
}

// value scans one value; top is true only for the outermost one, whose
// object members are checked for "cmd".
func (s *scanner) value(top bool) bool {
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object(top)
	case c == '[':
		return s.array()
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *scanner) object(top bool) bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.i++ // '{'
	s.skipWS()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return false
		}
		kStart := s.i
		escaped, ok := s.str()
		if !ok {
			return false
		}
		isCmd := top && keyIsCmd(s.data[kStart:s.i], escaped)
		s.skipWS()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false
		}
		s.i++
		s.skipWS()
		vStart := s.i
		if !s.value(false) {
			return false
		}
		if isCmd {
			// JSON.parse keeps the last duplicate: a later non-string "cmd"
			// hides an earlier NODE_ one.
			if s.data[vStart] == '"' {
				s.info.cmd = s.data[vStart:s.i]
			} else {
				s.info.cmd = nil
			}
		}
		s.skipWS()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.skipWS()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array() bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.i++ // '['
	s.skipWS()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value(false) {
			return false
		}
		s.skipWS()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.skipWS()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// str scans a string token starting at the opening quote and reports
// whether it contained an escape (then its bytes differ from its value).
func (s *scanner) str() (escaped, ok bool) {
	s.i++ // opening quote
	d := s.data
	for s.i < len(d) {
		c := d[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, true
		case c == '\\':
			escaped = true
			if s.i+1 >= len(d) {
				return false, false
			}
			switch d[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(d) {
					return false, false
				}
				for _, h := range d[s.i+2 : s.i+6] {
					if !isHex(h) {
						return false, false
					}
				}
				s.i += 6
			default:
				return false, false
			}
		case c < 0x20:
			return false, false
		default:
			s.i++
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number follows RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	d := s.data
	if d[s.i] == '-' {
		s.i++
	}
	if s.i >= len(d) {
		return false
	}
	switch {
	case d[s.i] == '0':
		s.i++
	case d[s.i] >= '1' && d[s.i] <= '9':
		for s.i < len(d) && isDigit(d[s.i]) {
			s.i++
		}
	default:
		return false
	}
	if s.i < len(d) && d[s.i] == '.' {
		s.i++
		if s.i >= len(d) || !isDigit(d[s.i]) {
			return false
		}
		for s.i < len(d) && isDigit(d[s.i]) {
			s.i++
		}
	}
	if s.i < len(d) && (d[s.i] == 'e' || d[s.i] == 'E') {
		s.i++
		if s.i < len(d) && (d[s.i] == '+' || d[s.i] == '-') {
			s.i++
		}
		if s.i >= len(d) || !isDigit(d[s.i]) {
			return false
		}
		for s.i < len(d) && isDigit(d[s.i]) {
			s.i++
		}
	}
	return true
}

// keyIsCmd reports whether a member name token decodes to "cmd". Escaped
// names ("\u0063md") are decoded on a slow path, because JSON.parse would
// see "cmd" and a NODE_ command could otherwise slip past the refusal.
func keyIsCmd(tok []byte, escaped bool) bool {
	if !escaped {
		return string(tok) == `"cmd"`
	}
	return unquote(tok) == "cmd"
}

// unquote decodes a string token already validated by the scanner.
func unquote(tok []byte) string {
	if bytes.IndexByte(tok, '\\') < 0 {
		return string(tok[1 : len(tok)-1])
	}
	var v string
	if err := json.Unmarshal(tok, &v); err != nil {
		return ""
	}
	return v
}

// cmdIsInternal mirrors Node's isInternal for the cmd token found by the
// scanner.
func cmdIsInternal(tok []byte) bool {
	if tok == nil {
		return false
	}
	if bytes.IndexByte(tok, '\\') < 0 {
		v := tok[1 : len(tok)-1]
		return len(v) > len(internalPrefix) && string(v[:len(internalPrefix)]) == internalPrefix
	}
	v := unquote(tok)
	return len(v) > len(internalPrefix) && v[:len(internalPrefix)] == internalPrefix
}

// cmdIs reports whether the cmd token decodes to want.
func cmdIs(tok []byte, want string) bool {
	if tok == nil {
		return false
	}
	if bytes.IndexByte(tok, '\\') < 0 {
		return len(tok) == len(want)+2 && string(tok[1:len(tok)-1]) == want
	}
	return unquote(tok) == want
}
