package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
)

// TestEmbedExample builds examples/embed (a Go program that registers its
// own workers and processes with the supervisor) and drives it through its
// control socket as kelpie's own commands do.
func TestEmbedExample(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "embed")
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/embed").CombinedOutput(); err != nil {
		t.Fatalf("build examples/embed: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "k.sock")
	cmd := exec.Command(bin, "-headless", "-socket", sock)
	out := newLockedBuffer()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	out.waitFor(t, "control socket")

	ps := func() map[string]procs.Info {
		t.Helper()
		units := map[string]procs.Info{}
		if err := control.Do(sock, control.Request{Cmd: "ps"}, func(r control.Response) error {
			for _, in := range r.Units {
				units[in.Name] = in
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return units
	}
	poll := func(what string, ok func(map[string]procs.Info) bool) map[string]procs.Info {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			u := ps()
			if ok(u) {
				return u
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: %+v", what, u)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	poll("every unit running, pages counted", func(u map[string]procs.Info) bool {
		for _, n := range []string{"crawler/0", "crawler/3", "primes/1", "clock"} {
			if u[n].State != procs.Running {
				return false
			}
		}
		return u["crawler/2"].Group == "crawler" && u["crawler/2"].Kind == procs.KindWorker && u["crawler/1"].Counters["pages"] > 0
	})
	if err := control.Do(sock, control.Request{Cmd: "send", Name: "crawler", Msg: []byte(`{"ping":42}`)}, func(control.Response) error { return nil }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var pongs []string
		if err := control.Do(sock, control.Request{Cmd: "messages", Name: "crawler"}, func(r control.Response) error {
			if r.Message != nil && r.Message.Stream == procs.IPCIn {
				pongs = append(pongs, fmt.Sprintf("%s %s", r.Message.Unit, r.Message.Msg))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(pongs) == 4 && strings.Join(pongs, ",") == `crawler/0 {"pong":42},crawler/1 {"pong":42},crawler/2 {"pong":42},crawler/3 {"pong":42}` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pongs: %q", pongs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := control.Do(sock, control.Request{Cmd: "stop", Name: "crawler"}, func(control.Response) error { return nil }); err != nil {
		t.Fatal(err)
	}
	u := ps()
	for i := range 4 {
		if in := u[procs.MemberName("crawler", i)]; in.State != procs.Stopped {
			t.Fatalf("after stop crawler: %+v", in)
		}
	}
	if u["clock"].State != procs.Running {
		t.Fatalf("stop crawler stopped the clock: %+v", u["clock"])
	}
	if err := control.Do(sock, control.Request{Cmd: "down"}, func(control.Response) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("embed exited with %v\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("embed did not exit after down")
	}
}
