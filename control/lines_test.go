package control

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// The hand-written line encoding must mean exactly what encoding/json's
// does, and its reader must read both.
func TestLineEncodingMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 12, 2, 1, 2, 3, 456789000, time.FixedZone("x", 3600))
	texts := []string{"", "plain", `quote " and \ back`, "tab\tcr\rnl\n", "\x1b[31mred\x1b[0m \x00\x7f",
		"héllo ✓ 🙂", "line\u2028sep", "<b>&amp;</b>", "bad \xff\xfe utf8"}
	for _, text := range texts {
		for k := range 8 {
			cut, trunc, unit := k&1 != 0, k&2 != 0, ""
			if k&4 != 0 {
				unit = "web/0"
			}
			b := appendLine(nil, rawLine{unit: unit, seq: 42, ts: ts, stream: procs.Stderr, text: []byte(text), cut: cut, trunc: trunc})
			var got, want Response
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%q: not JSON: %v: %s", text, err, b)
			}
			wantText := string([]rune(text)) // invalid UTF-8 as the ring makes it valid
			if cut {
				wantText += procs.CutMarker
			}
			jb, _ := json.Marshal(Response{Line: &procs.Line{Unit: unit, Seq: 42, Time: ts, Stream: procs.Stderr, Text: wantText, Truncated: cut || trunc}})
			if err := json.Unmarshal(jb, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: encoding/json reads %+v, want %+v", text, got.Line, want.Line)
			}
			var fast Response
			if err := decodeResponse(b, &fast); err != nil || !reflect.DeepEqual(fast, want) {
				t.Fatalf("%q: decodeResponse %+v (%v), want %+v", text, fast.Line, err, want.Line)
			}
			var viaJSON Response
			if err := decodeResponse(append(jb, '\n'), &viaJSON); err != nil || !reflect.DeepEqual(viaJSON, want) {
				t.Fatalf("%q: decodeResponse of encoding/json's bytes %+v (%v)", text, viaJSON.Line, err)
			}
		}
	}
	var r Response
	if err := decodeResponse([]byte(`{"missed":3}`), &r); err != nil || r.Missed != 3 || r.Line != nil {
		t.Fatalf("other responses: %+v %v", r, err)
	}
}

// FuzzLineEncoding: any bytes as a line's text encode to JSON that
// encoding/json reads as the text made valid (and the marker when cut), and
// the client's reader agrees with it; any bytes as a response line never
// make the reader panic.
func FuzzLineEncoding(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x1b[1m\x00", "\xff\u2029é", `{"line":{"seq":1,"ts":"x"}}`} {
		f.Add([]byte(s), true, "")
	}
	f.Add([]byte("x"), false, "web")
	ts := time.Unix(1700000000, 123).UTC()
	f.Fuzz(func(t *testing.T, text []byte, cut bool, unit string) {
		var r Response
		_ = decodeResponse(text, &r)
		b := appendLine(nil, rawLine{unit: unit, seq: 7, ts: ts, stream: procs.Stdout, text: text, cut: cut})
		var viaJSON, fast Response
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatalf("%q: %v: %s", text, err, b)
		}
		want := string([]rune(string(text)))
		if cut {
			want += procs.CutMarker
		}
		if viaJSON.Line == nil || viaJSON.Line.Text != want || viaJSON.Line.Truncated != cut || viaJSON.Line.Unit != string([]rune(unit)) {
			t.Fatalf("%q read back as %+v", text, viaJSON.Line)
		}
		if err := decodeResponse(b, &fast); err != nil || !reflect.DeepEqual(fast, viaJSON) {
			t.Fatalf("%q: fast reader %+v (%v), encoding/json %+v", text, fast.Line, err, viaJSON.Line)
		}
	})
}

// A stream of lines goes out in batches and comes in in batches: the
// client's flush (one write to stdout) runs once per read, not per line.
func TestLogsStreamInBatches(t *testing.T) {
	eng := newFake(t)
	const n = 5000
	for i := range n {
		eng.tail = append(eng.tail, procs.Line{Seq: uint64(i + 1), Text: "some output of a unit"})
	}
	srv := serve(t, eng, nil)
	lines, flushes := 0, 0
	err := Stream(t.Context(), srv.Path(), Request{Cmd: "logs", Name: "web", N: n},
		func(r Response) error {
			if r.Line != nil {
				lines++
			}
			return nil
		},
		func() error { flushes++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if lines != n || flushes == 0 || flushes >= n/10 {
		t.Fatalf("%d lines in %d flushes, want %d in far fewer", lines, flushes, n)
	}
}

// SinceID over the socket answers as Since does (the one generic since
// path): the unit's lines after a seq, and with a limit of 0 none, but no
// error, since the unit exists.
func TestClientSinceIDAnswersAsSince(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(t.Context()) })
	if err := sup.Add(procs.Spec{Name: "web", Shell: "echo one; echo two; exec sleep 424295"}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start("web"); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	c, err := Dial(t.Context(), srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	var id uint64
	for _, in := range c.List() {
		if in.Name == "web" {
			id = in.ID
		}
	}
	if id == 0 {
		t.Fatal("web has no ID")
	}
	var got []procs.Line
	waitFor(t, "web's line two", func() bool {
		got, _, err = c.SinceID("web", id, 0, 10)
		return err == nil && len(got) > 0 && got[len(got)-1].Text == "two"
	})
	want, _, err := c.Since("web", 0, 10)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("SinceID %+v, Since %+v (%v)", got, want, err)
	}
	one := got[len(got)-2]
	if after, _, err := c.SinceID("web", id, one.Seq, 10); err != nil || len(after) != 1 || after[0].Text != "two" {
		t.Fatalf("SinceID after line one: %+v, %v", after, err)
	}
	if none, _, err := c.SinceID("web", id, 0, 0); err != nil || none != nil {
		t.Fatalf("SinceID with limit 0: %+v, %v; want nothing and no error", none, err)
	}
}
