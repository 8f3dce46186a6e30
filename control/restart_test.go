package control

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// `kelpie restart` returns with the unit running: on a unit that never ran,
// and for each of 50 concurrent calls.
func TestRestartReturnsOnceTheNewRunIsUp(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sup.Shutdown(ctx)
	})
	if err := sup.Add(procs.Spec{Name: "svc", Argv: []string{"sleep", "600"}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "k.sock")
	srv, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	go srv.Serve(sup)

	restart := func() (procs.State, error) {
		var st procs.State
		err := Do(path, Request{Cmd: "restart", Name: "svc"}, func(r Response) error {
			for _, u := range r.Units {
				st = u.State
			}
			return nil
		})
		return st, err
	}
	if st, err := restart(); err != nil || st != procs.Running {
		t.Fatalf("restart of a unit that never ran: %s, %v", st, err)
	}
	var wg sync.WaitGroup
	bad := make(chan string, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := restart(); err != nil || st != procs.Running {
				bad <- string(st) + " " + errString(err)
			}
		}()
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Error("a concurrent restart returned", b)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
