package procs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostile is what a process can name itself: an OSC title, a clear screen, C1
// CSI as UTF-8 and as a raw byte, a bidi override.
const hostile = "\x1b]0;pwn\x07\x1b[2J\u009b2J\x9b\u202e"

// TestProcStringsAreClean starts a unit whose argv, working directory, own
// comm and a descendant's comm hold escape sequences and C1 controls, and
// checks that Details and the tree rows carry them clean (and still carry
// their printable part, so the right strings were read).
func TestProcStringsAreClean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d"+hostile)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The shell names itself, then a subshell names itself and waits on a
	// sleep; "named" tells the test both are done.
	script := `printf 'main\033]0;pwn\007\302\233' > /proc/self/comm
( printf 'kid\033[2J\302\235' > /proc/self/comm; echo named; sleep 60 & wait )`
	s := newTestSupervisor(t, Options{Tick: 20 * time.Millisecond})
	_ = s.Add(Spec{Name: "h", Argv: []string{"/bin/sh", "-c", script, "sh", "arg" + hostile}, Dir: dir})
	w := watch(t, s)
	_ = s.Start("h")
	w.waitLine(s, "h", "named")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var tree []ProcSample
	for !hasNames(tree, "main", "kid") {
		b, err := w.sub.Next(ctx)
		if err != nil {
			t.Fatalf("no tick with both names: %+v", tree)
		}
		w.absorb(b)
		if b.Stats != nil {
			tree = b.Stats.Units["h"].Tree
		}
	}
	for _, p := range tree {
		if e := displayError([]byte(p.Name)); e != "" {
			t.Errorf("tree name %q: %s", p.Name, e)
		}
	}
	d, err := s.Details("h")
	if err != nil {
		t.Fatal(err)
	}
	// What is left of hostile: "2J" (after C1 CSI), U+FFFD (the raw 0x9b).
	if len(d.Argv) != 5 || d.Argv[4] != "arg2J\uFFFD" || !strings.HasSuffix(d.Cwd, "/d2J\uFFFD") ||
		!strings.Contains(d.Argv[2], "/proc/self/comm ( printf") {
		t.Fatalf("details did not read the process: argv %q cwd %q", d.Argv, d.Cwd)
	}
	for _, a := range append(d.Argv, d.Cwd) {
		if e := displayError([]byte(a)); e != "" {
			t.Errorf("details string %q: %s", a, e)
		}
	}
}

func hasNames(tree []ProcSample, prefixes ...string) bool {
	for _, pre := range prefixes {
		found := false
		for _, p := range tree {
			found = found || strings.HasPrefix(p.Name, pre)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestStartFailureReasonIsClean: the error of a failed start quotes the path,
// which is outside text, in the Reason and the event line.
func TestStartFailureReasonIsClean(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(Spec{Name: "m", Argv: []string{"/nonexistent/x" + hostile}, Restart: RestartNever})
	w := watch(t, s)
	_ = s.Start("m")
	in := w.state("m", Crashed)
	if !strings.Contains(in.Reason, "failed to start") {
		t.Fatalf("reason %q", in.Reason)
	}
	if e := displayError([]byte(in.Reason)); e != "" {
		t.Errorf("reason %q: %s", in.Reason, e)
	}
	if e := displayError([]byte(in.Command)); e != "" {
		t.Errorf("command %q: %s", in.Command, e)
	}
	l := w.waitLine(s, "m", "failed to start")
	if e := displayError([]byte(l.Text)); e != "" {
		t.Errorf("event %q: %s", l.Text, e)
	}
}

// TestCommandIsClean: a unit's command, shown in the table, is config text,
// which may come from anywhere.
func TestCommandIsClean(t *testing.T) {
	argv := (&Spec{Argv: []string{"prog", "\x9b2J", "a\u202eb", "\x1b]0;x\x07"}}).Command()
	if want := `prog "\x9b2J" "a\u202eb" "\x1b]0;x\a"`; argv != want {
		t.Errorf("argv command %q, want %q", argv, want)
	}
	shell := (&Spec{Shell: "a\nb\r\nc\x1b]0;x\x07"}).Command()
	if want := "a b  c"; shell != want {
		t.Errorf("shell command %q, want %q", shell, want)
	}
}
