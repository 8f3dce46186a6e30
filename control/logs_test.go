package control

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// `kelpie logs` of every unit is one request on one connection, however many
// units there are (the connection cap must not limit it): the history merged
// in time order, each line naming its unit, then every new line of every
// unit, those added later too.
func TestLogsOfEveryUnitOnOneConnection(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(context.Background()) })
	for _, name := range []string{"a", "b"} {
		if err := sup.Add(procs.Spec{Name: name, Shell: "echo " + name + "1; exec sleep 600"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sup.StartAll(); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	var mu sync.Mutex
	seen := map[string]bool{}
	has := func(k string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return seen[k] }
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Stream(ctx, srv.Path(), Request{Cmd: "logs", N: 10, Follow: true}, func(r Response) error {
			if r.Line != nil && r.Line.Stream == procs.Stdout {
				mu.Lock()
				seen[r.Line.Unit+":"+r.Line.Text] = true
				mu.Unlock()
			}
			return nil
		}, nil)
	}()
	waitFor(t, "a's and b's lines, each naming its unit", func() bool { return has("a:a1")() && has("b:b1")() })
	if err := sup.Add(procs.Spec{Name: "c", Shell: "echo c1; exec sleep 600"}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start("c"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the line of a unit added later", has("c:c1"))
	cancel()
	<-done

	// Without --follow: the history of the units named, merged.
	var units []string
	err = Do(srv.Path(), Request{Cmd: "logs", Units: []string{"b", "c"}, N: 10}, func(r Response) error {
		if r.Line != nil && r.Line.Stream == procs.Stdout {
			units = append(units, r.Line.Unit+":"+r.Line.Text)
		}
		return nil
	})
	if err != nil || len(units) != 2 || units[0] != "b:b1" || units[1] != "c:c1" {
		t.Fatalf("logs of b and c: %v %v", units, err)
	}
	// N < 0: no history at all.
	n := 0
	if err := Do(srv.Path(), Request{Cmd: "logs", Name: "a", N: -1}, func(Response) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("logs -n 0: %d responses, %v", n, err)
	}
}

// TestLogsFollowKeepsARemovedUnitsLastLines: `kelpie logs -f` gets the
// lines a unit wrote just before it was removed, then those of a new unit
// of the same name from its first, none skipped as already seen in the
// old one's history.
func TestLogsFollowKeepsARemovedUnitsLastLines(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(context.Background()) })
	if err := sup.Add(procs.Spec{Name: "a", Shell: "true"}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Note("a", "old 1"); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	var mu sync.Mutex
	var got []string
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Stream(ctx, srv.Path(), Request{Cmd: "logs", N: 10, Follow: true}, func(r Response) error {
			if r.Line != nil {
				mu.Lock()
				got = append(got, r.Line.Unit+":"+r.Line.Text)
				mu.Unlock()
			}
			return nil
		}, nil)
	}()
	waitFor(t, "the history", func() bool { return count() == 1 })
	if err := sup.Note("a", "old 2"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add(procs.Spec{Name: "a", Shell: "true"}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Note("a", "new 1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three lines", func() bool { return count() == 3 })
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if want := "[a:old 1 a:old 2 a:new 1]"; fmt.Sprint(got) != want {
		t.Fatalf("logs -f read %v, want %s", got, want)
	}
}

// TestRemoteFollowReadsARemovedUnitsLastLines: a follower over the socket
// (attach) reads a removed unit's last lines by its id, then the removal,
// then a new unit of the same name from its first line: two histories,
// never mixed, each line once.
func TestRemoteFollowReadsARemovedUnitsLastLines(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(context.Background()) })
	srv := serve(t, sup, nil)
	cl, err := Dial(t.Context(), srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		cur, err := procs.Follow(cl, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := sup.Add(procs.Spec{Name: "a", Shell: "true"}); err != nil {
			t.Fatal(err)
		}
		for _, l := range []string{"old 1", "old 2"} {
			if err := sup.Note("a", l); err != nil {
				t.Fatal(err)
			}
		}
		if err := sup.Remove("a"); err != nil {
			t.Fatal(err)
		}
		if err := sup.Add(procs.Spec{Name: "a", Shell: "true"}); err != nil {
			t.Fatal(err)
		}
		if err := sup.Note("a", "new 1"); err != nil {
			t.Fatal(err)
		}
		want := "[a:old 1 a:old 2 -a a:new 1]"
		var got []string
		var rb procs.RawBatch
		for len(got) < 4 {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			err := cur.NextRaw(ctx, &rb)
			cancel()
			if err != nil {
				t.Fatalf("round %d: after %v: %v", round, got, err)
			}
			for _, u := range rb.Units {
				if u.Missed > 0 {
					got = append(got, fmt.Sprintf("%s:missed %d", u.Unit, u.Missed))
				}
				for _, l := range u.Lines {
					got = append(got, u.Unit+":"+string(rb.Buf[l.Off:l.Off+l.Len]))
				}
			}
			for _, r := range rb.Removed {
				got = append(got, "-"+r)
			}
		}
		if fmt.Sprint(got) != want {
			t.Fatalf("round %d: read %v, want %s", round, got, want)
		}
		cur.Close()
		if err := sup.Remove("a"); err != nil {
			t.Fatal(err)
		}
	}
}

// A follow of named units ends, saying so, once all of them are removed (a
// member scaled away), after their last lines; it does not follow nothing
// for ever.
func TestLogsFollowOfARemovedUnitEnds(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(context.Background()) })
	for _, n := range []string{"a", "b"} {
		if err := sup.Add(procs.Spec{Name: n, Shell: "true"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sup.Note("a", "first"); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	var mu sync.Mutex
	var got []string
	var removed []string
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	done := make(chan error, 1)
	go func() {
		done <- Stream(t.Context(), srv.Path(), Request{Cmd: "logs", Name: "a", N: 10, Follow: true}, func(r Response) error {
			mu.Lock()
			defer mu.Unlock()
			if r.Line != nil {
				got = append(got, r.Line.Text)
			}
			if r.Event != nil {
				removed = append(removed, r.Event.Removed...)
			}
			return nil
		}, nil)
	}()
	waitFor(t, "the history", func() bool { return count() == 1 })
	if err := sup.Note("a", "last words"); err != nil {
		t.Fatal(err)
	}
	if err := sup.Remove("b"); err != nil { // another unit: the follow goes on
		t.Fatal(err)
	}
	if err := sup.Remove("a"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the stream ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follow of a removed unit never ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[first last words]" || fmt.Sprint(removed) != "[a]" {
		t.Fatalf("lines %v, removed %v", got, removed)
	}
}
