package procs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startTask adds and starts one unit per spec and waits for them to run.
func startTask(t *testing.T, s *Supervisor, w *watcher, sp Spec, count int) {
	t.Helper()
	if count > 0 {
		if err := s.AddGroup(sp, count); err != nil {
			t.Fatal(err)
		}
		for _, m := range s.Members(sp.Name) {
			if err := s.Start(m); err != nil {
				t.Fatal(err)
			}
			w.state(m, Running)
		}
		return
	}
	if err := s.Add(sp); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(sp.Name); err != nil {
		t.Fatal(err)
	}
	w.state(sp.Name, Running)
}

func builtin(t *testing.T, name string, args ...string) WorkerFunc {
	t.Helper()
	fn, err := BuiltinTask(name, args)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

func TestTaskPrimes(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	startTask(t, s, w, Spec{Name: "primes", Kind: KindWorker, Task: builtin(t, "primes", "10000"), Shared: []string{"found", "checked"}}, 3)
	// 1229 primes up to 10,000; every number from 2 checked once between
	// the three members.
	waitFor(t, "all primes counted", func() bool {
		in, _ := s.Get("primes/1")
		return in.Counters["found"] == 1229 && in.Counters["checked"] == 9999
	})
	waitFor(t, "progress messages", func() bool {
		n := 0
		for _, m := range s.Members("primes") {
			msgs, _, _ := s.Messages(m, 0, 100)
			for _, msg := range msgs {
				if msg.Stream == IPCIn && strings.Contains(string(msg.Msg), `"found"`) {
					n++
					break
				}
			}
		}
		return n == 3
	})
	// Done, a member idles and still answers.
	if err := s.Send("primes/0", []byte(`{"ping":7}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pong", func() bool { return hasLine(s, "primes/0", IPCIn, `{"pong":7}`) })
	for _, bad := range [][]string{{"1"}, {"x"}, {"10", "fast"}, {"1", "2", "3"}} {
		if _, err := BuiltinTask("primes", bad); err == nil {
			t.Errorf("primes %q accepted", bad)
		}
	}
}

func TestTaskEchoAndSleep(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	startTask(t, s, w, Spec{Name: "echo", Task: builtin(t, "echo")}, 0)
	startTask(t, s, w, Spec{Name: "sleep", Task: builtin(t, "sleep")}, 0)
	if err := s.Send("echo", []byte(`[1, "a"]`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Send("sleep", []byte(`{"ping": "x"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Send("sleep", []byte(`"ignored"`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "echo", func() bool { return hasLine(s, "echo", IPCIn, `{"echo":[1,"a"]}`) })
	waitFor(t, "pong", func() bool { return hasLine(s, "sleep", IPCIn, `{"pong":"x"}`) })
	if msgs, _, _ := s.Messages("sleep", 0, 10); len(msgs) != 3 {
		t.Fatalf("sleep answered something besides the ping: %+v", msgs)
	}
	for _, n := range []string{"echo", "sleep"} {
		if err := s.Stop(n); err != nil {
			t.Fatal(err)
		}
		w.state(n, Stopped) // both return on their context's end
	}
	if _, err := BuiltinTask("nope", nil); err == nil {
		t.Fatal("an unknown task was accepted")
	}
}

func TestTaskTailTruncateRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	appendTo := func(p, text string) {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	appendTo(path, "old news\n")
	s := newTestSupervisor(t, Options{})
	w := watch(t, s)
	fn := func(ctx context.Context, w Worker) error { return tailFile(ctx, w, path, 2*time.Millisecond) }
	startTask(t, s, w, Spec{Name: "tail", Task: fn}, 0)
	waitFor(t, "the file opened", func() bool { return hasLine(s, "tail", Stdout, "tail: following") })
	appendTo(path, "one\ntw")
	appendTo(path, "o\n")
	waitFor(t, "appended lines", func() bool { return hasLine(s, "tail", Stdout, "two") })
	if hasLine(s, "tail", Stdout, "old news") {
		t.Fatal("tail printed what was there before it started")
	}
	if hasLine(s, "tail", Stdout, "tw") && !hasLine(s, "tail", Stdout, "two") {
		t.Fatal("a line was split")
	}
	// Truncation: the file starts over.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "truncation noticed", func() bool { return hasLine(s, "tail", Stdout, "was truncated") })
	appendTo(path, "three\n")
	waitFor(t, "after truncation", func() bool { return hasLine(s, "tail", Stdout, "three") })
	// Rotation by rename: the old file's last lines, then the new file's.
	appendTo(path, "four\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(path, "six\n")
	waitFor(t, "after rotation", func() bool { return hasLine(s, "tail", Stdout, "six") })
	if !hasLine(s, "tail", Stdout, "four") {
		t.Error("the old file's last line was lost in the rotation")
	}
}
