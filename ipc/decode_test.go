package ipc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// refInternal is the slow, obviously right version of the scanner's cmd
// check: decode the object (encoding/json keeps the last duplicate, like
// JSON.parse) and apply Node's isInternal.
func refInternal(line []byte) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) != nil {
		return false
	}
	raw, ok := obj["cmd"]
	if !ok {
		return false
	}
	var cmd string
	if json.Unmarshal(raw, &cmd) != nil {
		return false
	}
	return len(cmd) > len(internalPrefix) && strings.HasPrefix(cmd, internalPrefix)
}

var scanSeeds = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `-`, `1.`, `1.5e`, `1.5e+3`, `-12.5E-3`,
	`true`, `tru`, `nul`, `null `, ` false`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{,}`,
	`[1,2,[3,{"b":null}]]`, `[1 2]`, `"\u00e9\n\"\\\/\b\f\r\t"`, `"\x"`, `"\u12"`,
	"\"a\x01b\"", "\"\xff\xfe\"", "{\n\t\"cmd\" : \"NODE_HANDLE\"\r\n}",
	`{"cmd":"NODE_HANDLE","type":"net.Server","msg":{"cmd":"x"}}`,
	`{"cmd":"NODE_"}`, `{"cmd":"NODE_X","cmd":1}`, `{"cmd":1,"cmd":"NODE_X"}`,
	`{"\u0063md":"\u004eODE_Y"}`, `{"cmd":["NODE_X"]}`, `["NODE_X"]`, `{"CMD":"NODE_X"}`,
	`{"a":1}{"b":2}`, `{"a":1} x`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

func TestScanMatchesEncodingJSON(t *testing.T) {
	for _, s := range scanSeeds {
		info, ok := scanJSON([]byte(s))
		if want := json.Valid([]byte(s)); ok != want {
			t.Errorf("scan(%.40q) valid=%v, json.Valid=%v", s, ok, want)
			continue
		}
		if ok && cmdIsInternal(info.cmd) != refInternal([]byte(s)) {
			t.Errorf("scan(%.40q) internal=%v, want %v", s, cmdIsInternal(info.cmd), refInternal([]byte(s)))
		}
	}
}

// FuzzDecode feeds arbitrary bytes, in arbitrary chunks, through the
// receive path (framing + validation + cmd detection) and checks it against
// a reference built from bytes.Split and encoding/json.
func FuzzDecode(f *testing.F) {
	for _, s := range scanSeeds {
		if !strings.Contains(s, "\n") && len(s) < 1000 {
			f.Add([]byte(s+"\n"+s+"\n"), uint8(3))
		}
	}
	f.Add([]byte("{\"a\":1}\n\nnot json\n"+strings.Repeat("x", 100)+"\n[1]\npartial"), uint8(7))
	f.Add([]byte(strings.Repeat(`{"cmd":"NODE_HANDLE"}`+"\n", 5)), uint8(1))
	f.Add([]byte(`"`+strings.Repeat("y", 60)+`"`+"\n{}\n"), uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		const maxLine, bufSize = 48, 16
		type event struct {
			raw      string
			internal bool
			err      error
			n        int
		}
		var want []event
		lines := bytes.Split(data, []byte("\n"))
		for _, l := range lines[:len(lines)-1] { // the last piece has no newline yet
			switch {
			case len(l) > maxLine:
				want = append(want, event{err: ErrLineTooLong, n: len(l)})
			case !json.Valid(l):
				want = append(want, event{err: ErrInvalidJSON, n: len(l)})
			default:
				want = append(want, event{raw: string(l), internal: refInternal(l)})
			}
		}

		fr := newFramer(maxLine, bufSize)
		var got []event
		step := int(chunk%23) + 1
		for rest := data; ; {
			line, lerr, ok := fr.next()
			if ok {
				if lerr != nil {
					got = append(got, event{err: lerr.Err, n: lerr.Len})
					continue
				}
				info, valid := scanJSON(line)
				if !valid {
					got = append(got, event{err: ErrInvalidJSON, n: len(line)})
					continue
				}
				got = append(got, event{raw: string(line), internal: cmdIsInternal(info.cmd)})
				continue
			}
			if len(rest) == 0 {
				break
			}
			n := copy(fr.space(), rest[:min(step, len(rest))])
			fr.advance(n)
			rest = rest[n:]
			if len(fr.buf) > max(bufSize, maxLine+1) {
				t.Fatalf("buffer grew to %d", len(fr.buf))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(want), want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.raw != w.raw || g.internal != w.internal || !errors.Is(g.err, w.err) || g.n != w.n {
				t.Fatalf("event %d: got %+v, want %+v", i, g, w)
			}
		}
	})
}
