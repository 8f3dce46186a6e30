package control

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

// msgEngine serves messages; the rest of Engine is never called here.
type msgEngine struct {
	Engine
	msgs []procs.Message
}

// List has no units (a name that is not found is looked up as a group).
func (e msgEngine) List() []procs.Info { return nil }

func (e msgEngine) TailMessages(name string, n int) ([]procs.Message, error) {
	if name != "echo" {
		return nil, fmt.Errorf("%w: %q", procs.ErrNotFound, name)
	}
	return e.msgs[max(len(e.msgs)-n, 0):], nil
}

func TestServeMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.sock")
	srv, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	head, _ := json.Marshal(`{"blob":"aaaa`)
	go srv.Serve(msgEngine{msgs: []procs.Message{
		{Seq: 1, Stream: procs.IPCOut, Msg: json.RawMessage(`{"cmd":"ping"}`), Size: 14},
		{Seq: 2, Stream: procs.IPCIn, Msg: head, Size: 700 << 10, Truncated: true},
	}})
	var got []procs.Message
	if err := Do(path, Request{Cmd: "messages", Name: "echo", N: 5}, func(r Response) error {
		if r.Message == nil {
			return fmt.Errorf("a response without a message: %+v", r)
		}
		got = append(got, *r.Message)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Msg) != `{"cmd":"ping"}` || !got[1].Truncated || got[1].Size != 700<<10 {
		t.Fatalf("got %+v", got)
	}
	b, _ := json.Marshal(Response{Message: &got[1]})
	if !json.Valid(b) || !strings.Contains(string(b), `"truncated":true`) {
		t.Fatalf("served form: %s", b)
	}
	err = Do(path, Request{Cmd: "messages", Name: "nope"}, func(Response) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown unit: %v", err)
	}
}

// The supervisor is a MessageSource, so a real kelpie serves "messages".
var _ MessageSource = (*procs.Supervisor)(nil)
