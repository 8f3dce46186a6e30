package control

import (
	"errors"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/vterm"
)

// The terminal requests refuse what they must: no unit named, too many
// keys in one request, a unit without a terminal (not_tty, for errors.Is),
// an engine that has no terminals at all.
func TestTerminalRequestsRefused(t *testing.T) {
	srv := serve(t, newFake(t), nil)
	ask := func(srv *Server, req Request) error {
		req.V = ProtocolVersion
		return Do(srv.Path(), req, func(Response) error { return nil })
	}
	if err := ask(srv, Request{Cmd: "screen"}); err == nil || !strings.Contains(err.Error(), "no unit named") {
		t.Errorf("screen of nothing: %v", err)
	}
	if err := ask(srv, Request{Cmd: "keys", Name: "web", Keys: make([]vterm.Key, maxKeys+1)}); err == nil || !strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("too many keys: %v", err)
	}
	for _, cmd := range []string{"screen", "scrollback", "keys", "paste", "resize"} {
		if err := ask(srv, Request{Cmd: cmd, Name: "web", Cols: 80, Rows: 24}); !errors.Is(err, procs.ErrNotTTY) {
			t.Errorf("%s of a unit without a terminal: %v, want ErrNotTTY", cmd, err)
		}
	}
	bare := serve(t, struct{ procs.Engine }{newFake(t)}, nil)
	if err := ask(bare, Request{Cmd: "screen", Name: "web"}); err == nil || !strings.Contains(err.Error(), "no terminals") {
		t.Errorf("screen from an engine without terminals: %v", err)
	}
}
