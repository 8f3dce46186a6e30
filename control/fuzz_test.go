package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzRequest feeds arbitrary bytes to the control protocol's decoder (the
// line reader and the JSON decoding of a Request): it must not panic, must
// hold no more than its limit, and a request it accepts must survive being
// encoded and decoded again.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"cmd":"ps"}` + "\n",
		`{"cmd":"logs","name":"web","n":5,"follow":true}`,
		`{"cmd":"send","name":"w","msg":{"a":[1,2,{"b":null}]}}`,
		`{"cmd":"signal","name":"w","signal":"SIGTERM"}`,
		`{"cmd":"send","msg":"<\u2028>"}`,
		`{"cmd":"x","n":1e3}`,
		`null`, `[]`, `{"cmd":` + "\xff", "\n\n",
	} {
		f.Add([]byte(s))
	}
	const limit = 512
	f.Fuzz(func(t *testing.T, data []byte) {
		line, err := readRequest(bytes.NewReader(data), limit)
		if err != nil {
			if !errors.Is(err, errTooLarge) && len(data) > 0 && !bytes.HasPrefix(data, []byte("\n")) {
				t.Fatalf("read error %v on %q", err, data)
			}
			return
		}
		if len(line) > limit {
			t.Fatalf("line of %d bytes over the limit %d", len(line), limit)
		}
		req, err := decodeRequest(line)
		if err != nil {
			return
		}
		b1, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("accepted request does not encode: %v (%+v)", err, req)
		}
		req2, err := decodeRequest(b1)
		if err != nil {
			t.Fatalf("encoded request %s does not decode: %v", b1, err)
		}
		if req2.Cmd != req.Cmd || req2.Name != req.Name || req2.N != req.N ||
			req2.Follow != req.Follow || req2.Signal != req.Signal {
			t.Fatalf("round trip changed %+v into %+v", req, req2)
		}
		b2, _ := json.Marshal(req2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable: %s then %s", b1, b2)
		}
	})
}
