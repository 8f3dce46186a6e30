package ipc

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// checkCase is one row of testdata/check_cases.json, the table of messages
// that the engine (procs), the composer (ui) and CheckUser must all judge
// the same way: "ok", "invalid" or "reserved".
type checkCase struct {
	Msg  string `json:"msg"`
	Want string `json:"want"`
}

func TestCheckUserTable(t *testing.T) {
	b, err := os.ReadFile("testdata/check_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []checkCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		err := CheckUser([]byte(c.Msg))
		got := "ok"
		switch {
		case errors.Is(err, ErrReserved):
			got = "reserved"
		case errors.Is(err, ErrInvalidJSON):
			got = "invalid"
		case err != nil:
			got = err.Error()
		}
		if got != c.Want {
			t.Errorf("CheckUser(%q) = %s (%v), want %s", c.Msg, got, err, c.Want)
		}
	}
}

func TestCheckUserSyntaxOffset(t *testing.T) {
	err := CheckUser([]byte(`{"a" 1}`))
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset != 6 {
		t.Fatalf("CheckUser: %v, want a SyntaxError at offset 6", err)
	}
	if err := CheckUser([]byte(`{"cmd":"NODE_X"}`)); err == nil || err.Error() != "messages whose cmd starts with NODE_ are reserved for Node's internal use" {
		t.Fatalf("reserved: %v", err)
	}
}
