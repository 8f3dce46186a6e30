package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// TestGroupAddressing drives a group of workers by its name through the
// socket: every command applies to each member, resolved server-side.
func TestGroupAddressing(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sup.Shutdown(ctx)
	})
	echo, err := procs.BuiltinTask("echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.AddGroup(procs.Spec{Name: "echoes", Kind: procs.KindWorker, Task: echo, TaskName: "echo"}, 3); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add(procs.Spec{Name: "solo", Kind: procs.KindWorker, Task: echo}); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	path := srv.Path()
	do := func(req Request) Response {
		t.Helper()
		var last Response
		if err := Do(path, req, func(r Response) error { last = r; return nil }); err != nil {
			t.Fatalf("%s %s: %v", req.Cmd, req.Name, err)
		}
		return last
	}
	states := func(r Response) string {
		var out []string
		for _, in := range r.Units {
			out = append(out, in.Name+"="+string(in.State))
		}
		return strings.Join(out, " ")
	}
	r := do(Request{Cmd: "start", Name: "echoes"})
	if len(r.Units) != 3 || strings.Count(states(r), "=running") != 3 {
		t.Fatalf("start echoes: %s", states(r))
	}
	if in, _ := sup.Get("solo"); in.State != procs.Stopped {
		t.Fatalf("a unit outside the group was started: %+v", in)
	}
	do(Request{Cmd: "send", Name: "echoes", Msg: []byte(`{"hi":1}`)})
	waitFor(t, "every member's answer", func() bool {
		for i := range 3 {
			msgs, _, _ := sup.Messages(procs.MemberName("echoes", i), 0, 10)
			if len(msgs) != 2 {
				return false
			}
		}
		return true
	})
	var got []string
	if err := Do(path, Request{Cmd: "messages", Name: "echoes"}, func(r Response) error {
		got = append(got, fmt.Sprintf("%s %s %s", r.Message.Unit, r.Message.Stream, r.Message.Msg))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || got[0] != `echoes/0 ipc-out {"hi":1}` || got[5] != `echoes/2 ipc-in {"echo":{"hi":1}}` {
		t.Fatalf("messages echoes: %q", got)
	}
	units := map[string]bool{}
	if err := Do(path, Request{Cmd: "logs", Name: "echoes", N: 50}, func(r Response) error {
		if r.Line != nil {
			units[r.Line.Unit] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 || !units["echoes/1"] {
		t.Fatalf("logs echoes covered %v", units)
	}
	err = Do(path, Request{Cmd: "signal", Name: "echoes", Signal: "TERM"}, func(Response) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "echoes/2: ") || !strings.Contains(err.Error(), "takes no signals") {
		t.Fatalf("signal echoes: %v", err)
	}
	if r := do(Request{Cmd: "restart", Name: "echoes"}); strings.Count(states(r), "=running") != 3 {
		t.Fatalf("restart echoes: %s", states(r))
	}
	if r := do(Request{Cmd: "stop", Name: "echoes"}); strings.Count(states(r), "=stopped") != 3 {
		t.Fatalf("stop echoes: %s", states(r))
	}
	// A member is addressed on its own too.
	if r := do(Request{Cmd: "start", Name: "echoes/1"}); states(r) != "echoes/1=running" {
		t.Fatalf("start echoes/1: %s", states(r))
	}
}

// A worker refuses SIGKILL with procs.ErrUnkillable over the socket too, so
// a front end tells the refusal by errors.Is, not by its text.
func TestUnkillableOverTheSocket(t *testing.T) {
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(context.Background()) })
	sleep, err := procs.BuiltinTask("sleep", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Add(procs.Spec{Name: "w", Kind: procs.KindWorker, Task: sleep}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start("w"); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, sup, nil)
	c, err := Dial(t.Context(), srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Signal("w", syscall.SIGKILL); !errors.Is(err, procs.ErrUnkillable) {
		t.Fatalf("kill of a worker over the socket: %v", err)
	}
}
