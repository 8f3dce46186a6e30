package control

import (
	"context"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/internal/enginetest"
	"github.com/kelpie-dev/kelpie/procs"
)

// A Client over the socket keeps the same engine contract as the
// supervisor it serves.
func TestClientKeepsTheEngineContract(t *testing.T) {
	enginetest.Run(t, func(t *testing.T, specs []procs.Spec) procs.Engine {
		s, err := procs.New(procs.Options{Tick: -1})
		if err != nil {
			t.Fatal(err)
		}
		shutdown := func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		}
		t.Cleanup(shutdown)
		for _, sp := range specs {
			if err := s.Add(sp); err != nil {
				t.Fatal(err)
			}
		}
		srv := serve(t, s, nil)
		// As kelpie up does: down stops everything, then the socket closes.
		srv.Down = func() { shutdown(); srv.Close() }
		c, err := Dial(t.Context(), srv.Path())
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func TestDialRefusesAnOlderProtocol(t *testing.T) {
	srv := serve(t, newFake(t), nil)
	var resp Response
	err := Do(srv.Path(), Request{V: ProtocolVersion + 1, Cmd: "hello"}, func(r Response) error { resp = r; return nil })
	if err == nil || resp.OK {
		t.Fatal("a request of a newer protocol was served")
	}
}
