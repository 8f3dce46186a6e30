package control

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// The screen's + / - and reload key over the socket: Client.Scale and
// Client.Reload reach the engine's, and errors come back as procs' errors.
func TestClientScaleReload(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sup.Shutdown(ctx)
	})
	if err := sup.Go("w", 2, func(ctx context.Context, w procs.Worker) error { <-ctx.Done(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := sup.StartAll(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "k.sock")
	srv, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	go srv.Serve(sup)
	c, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Scale("w", 3); err != nil {
		t.Fatal(err)
	}
	if m := sup.Members("w"); len(m) != 3 {
		t.Fatalf("members after scale 3: %v", m)
	}
	if err := c.Reload("w"); err != nil {
		t.Fatal(err)
	}
	if m := sup.Members("w"); len(m) != 3 {
		t.Fatalf("members after reload: %v", m)
	}
	if err := c.Scale("nope", 2); !errors.Is(err, procs.ErrNotFound) {
		t.Fatalf("scale of no group: %v", err)
	}
}
