package main

import (
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
)

// send-keys types into a tty unit of a running kelpie: the child reads the
// line (echoed on its terminal), what it prints scrolls into its log, and
// the screen request shows the rest. A unit without a terminal is refused
// (exit 1), a missing KEY is a usage error (exit 2).
func TestSendKeys(t *testing.T) {
	in := startKelpie(t, `processes:
  term:
    run: "stty size; while read l; do echo \"got:$l\"; seq 1 30; done"
    tty: true
  pipe:
    run: ["sleep", "424263"]
`)
	screen := func() string {
		var rows []string
		_ = control.Do(in.sock, control.Request{V: control.ProtocolVersion, Cmd: "screen", Name: "term"}, func(r control.Response) error {
			if r.Screen != nil {
				rows = r.Screen.Lines
			}
			return nil
		})
		return strings.Join(rows, "\n")
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(screen(), "24 80") {
		if time.Now().After(deadline) {
			t.Fatalf("the tty unit never showed its size; screen:\n%s\noutput:\n%s", screen(), in.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, errOut, code := in.kelpie("send-keys", "term", "hello world", "Enter"); code != 0 {
		t.Fatalf("send-keys: exit %d %q %q", code, out, errOut)
	}
	// The echoed line and the child's answer scrolled off: they are log lines.
	in.out.waitFor(t, "term | got:hello world")
	if out, _, code := in.kelpie("logs", "term"); code != 0 || !strings.Contains(out, "hello world\n") || !strings.Contains(out, "got:hello world\n") {
		t.Fatalf("logs term: exit %d\n%s", code, out)
	}
	if _, errOut, code := in.kelpie("send-keys", "pipe", "x"); code != 1 || !strings.Contains(errOut, "pipe has no terminal to type into") {
		t.Fatalf("send-keys to a unit without a terminal: exit %d %q", code, errOut)
	}
	if _, errOut, code := in.kelpie("send-keys", "nope", "x"); code != 1 || !strings.Contains(errOut, "no such unit") {
		t.Fatalf("send-keys to no unit: exit %d %q", code, errOut)
	}
	if _, errOut, code := in.kelpie("send-keys", "term"); code != 2 || !strings.Contains(errOut, "send-keys needs KEY") {
		t.Fatalf("send-keys without a key: exit %d %q", code, errOut)
	}
}

// send-keys completes the unit, then key names.
func TestSendKeysCompletion(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		if req.Cmd == "ps" {
			reply(control.Response{OK: true, Units: []procs.Info{{Name: "shell", TTY: true}}})
		}
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"send-keys", "s"}, "shell\n:4\n"},
		{[]string{"send-keys", "shell", "E"}, "Enter\nEsc\nEnd\n:4\n"},
		{[]string{"send-keys", "shell", "ls", "C-"}, "C-c\nC-d\nC-z\nC-l\nC-a\n:4\n"},
	} {
		args := append([]string{"__complete", "--socket", f.sock}, tc.args...)
		if out, errOut, code := kelpieRun(args...); code != 0 || out != tc.want {
			t.Errorf("%v: exit %d, %q, stderr %q", args, code, out, errOut)
		}
	}
}
