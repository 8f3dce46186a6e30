package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/control"
	"github.com/kelpie-dev/kelpie/procs"
)

// kelpieRun runs the CLI in-process.
func kelpieRun(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, code := kelpieRun(args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") || !strings.Contains(out, "logs") {
			t.Errorf("kelpie %v: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
		}
	}
	// A command's own usage, whichever way it is asked for.
	viaHelp, _, code := kelpieRun("help", "logs")
	viaFlag, _, code2 := kelpieRun("logs", "--help")
	if code != 0 || code2 != 0 || viaHelp != viaFlag || !strings.Contains(viaHelp, "kelpie logs [NAME] [flags]") ||
		!strings.Contains(viaHelp, "-n, --lines N") || strings.Contains(viaHelp, "Available Commands") {
		t.Errorf("help logs (exit %d) and logs --help (exit %d) differ or are not the logs usage:\n%s\n---\n%s", code, code2, viaHelp, viaFlag)
	}
	if _, errOut, code := kelpieRun("help", "nosuch"); code != 2 || !strings.Contains(errOut, `unknown command "nosuch"`) {
		t.Errorf("help nosuch: exit %d %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if out, errOut, code := kelpieRun(args...); code != 0 || out != "kelpie "+version+"\n" || errOut != "" {
			t.Errorf("kelpie %v: exit %d %q %q", args, code, out, errOut)
		}
	}
}

func TestUsageErrorsNameTheMistake(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "--frobnicate"}, "kelpie: unknown flag: --frobnicate\nRun 'kelpie ps --help' for usage.\n"},
		{[]string{"logs", "api", "-x"}, "kelpie: unknown shorthand flag: 'x' in -x\nRun 'kelpie logs --help' for usage.\n"},
		{[]string{"--frobnicate"}, "kelpie: unknown flag: --frobnicate\nRun 'kelpie --help' for usage.\n"},
		{[]string{"frobnicate"}, "kelpie: unknown command \"frobnicate\"\nRun 'kelpie --help' for usage.\n"},
		{[]string{"sotp", "api"}, "kelpie: unknown command \"sotp\" (did you mean stop?)\nRun 'kelpie --help' for usage.\n"},
		{[]string{"stop"}, "kelpie: stop needs NAME\nRun 'kelpie stop --help' for usage.\n"},
		{[]string{"signal", "api"}, "kelpie: signal needs SIGNAL\nRun 'kelpie signal --help' for usage.\n"},
		{[]string{"ps", "api"}, "kelpie: ps takes no arguments (got \"api\")\nRun 'kelpie ps --help' for usage.\n"},
		{[]string{"logs", "a", "b"}, "kelpie: logs takes [NAME] (got 2 arguments)\nRun 'kelpie logs --help' for usage.\n"},
		{[]string{"logs", "api", "-n", "-1"}, "kelpie: invalid argument \"-1\" for \"-n, --lines\" flag: a count of lines cannot be negative\nRun 'kelpie logs --help' for usage.\n"},
		{[]string{"completion"}, "kelpie: completion needs SHELL: bash, fish, powershell, zsh\nRun 'kelpie completion --help' for usage.\n"},
		{[]string{"completion", "tcsh"}, "kelpie: unknown shell \"tcsh\" (want bash, fish, powershell, zsh)\nRun 'kelpie completion --help' for usage.\n"},
		{[]string{"up", "extra"}, "kelpie: up takes no arguments (got \"extra\")\nRun 'kelpie up --help' for usage.\n"},
		{[]string{"logs", "api", "-nx"}, "kelpie: invalid argument \"x\" for \"-n, --lines\" flag: not a whole number\nRun 'kelpie logs --help' for usage.\n"},
	} {
		out, errOut, code := kelpieRun(tc.args...)
		if code != 2 || out != "" || errOut != tc.want {
			t.Errorf("kelpie %v: exit %d, stdout %q, stderr:\n%q\nwant:\n%q", tc.args, code, out, errOut, tc.want)
		}
	}
}

func TestSendChecksTheMessageFirst(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock") // nothing listens: a sent message would fail with 1
	_, errOut, code := kelpieRun("send", "api", `{"cmd":"NODE_X","a":1}`, "--socket", sock)
	if code != 2 || errOut != "kelpie: messages whose cmd starts with NODE_ are reserved for Node's internal use\n" {
		t.Errorf("reserved cmd: exit %d %q", code, errOut)
	}
	if _, errOut, code := kelpieRun("send", "api", `{"cmd":`, "--socket", sock); code != 2 || !strings.Contains(errOut, "not valid JSON") {
		t.Errorf("invalid JSON: exit %d %q", code, errOut)
	}
	// What Node and the engine accept goes through (and fails only for want of a kelpie).
	for _, msg := range []string{`{"cmd":"NODE_"}`, `{"CMD":"NODE_X"}`, `{"x":{"cmd":"NODE_X"}}`, `["NODE_X"]`} {
		if _, errOut, code := kelpieRun("send", "api", msg, "--socket", sock); code != 1 || !strings.Contains(errOut, "no kelpie is running") {
			t.Errorf("send %s: exit %d %q", msg, code, errOut)
		}
	}
}

// fakeKelpie answers control requests the way handle says, recording them.
type fakeKelpie struct {
	sock string
	mu   sync.Mutex
	reqs []control.Request
}

func newFakeKelpie(t *testing.T, handle func(req control.Request, reply func(control.Response))) *fakeKelpie {
	t.Helper()
	f := &fakeKelpie{sock: filepath.Join(t.TempDir(), "k.sock")}
	ln, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadBytes('\n')
				var req control.Request
				if json.Unmarshal(line, &req) != nil {
					return
				}
				f.mu.Lock()
				f.reqs = append(f.reqs, req)
				f.mu.Unlock()
				enc := json.NewEncoder(c)
				handle(req, func(r control.Response) { _ = enc.Encode(r) })
			}()
		}
	}()
	return f
}

func (f *fakeKelpie) requests() []control.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)

func line(seq uint64, text string) *procs.Line {
	return &procs.Line{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Millisecond), Stream: procs.Stdout, Text: text}
}

func TestLogsCount(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		for i := max(1, 11-req.N); i <= 10; i++ { // a unit with 10 lines
			reply(control.Response{Line: line(uint64(i), fmt.Sprint("line ", i))})
		}
	})
	for _, tc := range []struct {
		args  []string
		wantN int
		lines int
	}{
		{[]string{"logs", "api", "-n2"}, 2, 2},
		{[]string{"logs", "api", "-n", "3"}, 3, 3},
		{[]string{"logs", "-n", "4", "api"}, 4, 4},
		{[]string{"logs", "api", "--lines=5"}, 5, 5},
		{[]string{"logs", "api", "-n", "0"}, -1, 0}, // asks (the unit must exist): none
		{[]string{"logs", "api"}, 100, 10},
	} {
		before := len(f.requests())
		out, errOut, code := kelpieRun(append(tc.args, "--socket", f.sock)...)
		got := strings.Count(out, "\n")
		reqs := f.requests()[before:]
		if code != 0 || errOut != "" || got != tc.lines || len(reqs) != 1 || reqs[0].N != tc.wantN || reqs[0].Name != "api" {
			t.Errorf("kelpie %v: exit %d, %d lines, requests %+v, stderr %q\n%s", tc.args, code, got, reqs, errOut, out)
		}
	}
	if out, _, _ := kelpieRun("logs", "api", "-n2", "--socket", f.sock); out != "03:04:05.009 line 9\n03:04:05.010 line 10\n" {
		t.Errorf("logs -n2 printed %q", out)
	}
}

func TestLogsToAPipeArePlainText(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		lines := []*procs.Line{line(1, "c1 \u009b2J"), line(2, "\x1b[31mred\x1b[0m and \x1b[1mbold never closed")}
		for _, l := range lines[len(lines)-min(req.N, len(lines)):] {
			reply(control.Response{Line: l})
		}
	})
	out, _, code := kelpieRun("logs", "api", "-n", "1", "--socket", f.sock)
	if code != 0 || out != "03:04:05.002 red and bold never closed\n" {
		t.Errorf("exit %d, %q", code, out)
	}
	out, _, _ = kelpieRun("logs", "api", "--json", "--socket", f.sock)
	if strings.Contains(out, "\u009b") || !strings.Contains(out, `c1 \u009b2J`) || !strings.Contains(out, `"unit":"api"`) {
		t.Errorf("--json must escape C1 controls: %q", out)
	}
}

// On a terminal each line keeps its colours and ends with a reset, so an
// unclosed style never reaches the next line or the shell.
func TestColouredLinesEndWithAReset(t *testing.T) {
	var b bytes.Buffer
	p := &logPrinter{out: &b, colour: true}
	_ = p.print("api", line(1, "\x1b[1mbold never closed"))
	if want := "03:04:05.001 \x1b[1mbold never closed\x1b[0m\n"; b.String() != want {
		t.Errorf("logs on a terminal: %q, want %q", b.String(), want)
	}
	var h bytes.Buffer
	w := bufio.NewWriter(&h)
	writeText(w, []byte("\x1b[1mbold"), true)
	writeText(w, []byte(" / \x1b[1mbold"), false)
	w.Flush()
	if h.String() != "\x1b[1mbold\x1b[0m / bold" {
		t.Errorf("headless text: %q", h.String())
	}
}

func TestLogsFollowEveryUnitPrefixedUntilKelpieGoes(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		switch {
		case req.Cmd == "ps":
			reply(control.Response{OK: true, Units: []procs.Info{{Name: "api"}, {Name: "worker"}}})
		case req.Cmd == "logs" && req.Follow && req.Name == "" && len(req.Units) == 0:
			// Every unit on one connection, each line naming its unit.
			for _, u := range []string{"api", "worker"} {
				l := line(1, u+" says hi")
				l.Unit = u
				reply(control.Response{Line: l})
			}
			// then hang up, as a kelpie that exits does
		}
	})
	out, errOut, code := kelpieRun("logs", "--follow", "--socket", f.sock)
	if code != 1 || errOut != "kelpie: the running kelpie went away\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"api    | 03:04:05.001 api says hi\n", "worker | 03:04:05.001 worker says hi\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLogsFollowWithNoHistory(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		if req.N >= 0 {
			reply(control.Response{Line: line(5, "old")}) // the newest line, history
		}
		if req.Follow {
			reply(control.Response{Line: line(6, "new")})
		}
	})
	out, errOut, code := kelpieRun("logs", "api", "-F", "-n", "0", "--socket", f.sock)
	if code != 1 || out != "03:04:05.006 new\n" || !strings.Contains(errOut, "went away") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, mark := range map[string]string{"bash": "__start_kelpie", "zsh": "#compdef kelpie", "fish": "complete -c kelpie"} {
		out, errOut, code := kelpieRun("completion", shell)
		if code != 0 || errOut != "" || !strings.Contains(out, mark) || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, stderr %q, %d bytes", shell, code, errOut, len(out))
		}
	}
}

func TestCompletionOfUnitNames(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		if req.Cmd == "ps" {
			reply(control.Response{OK: true, Units: []procs.Info{{Name: "api"}, {Name: "web"}, {Name: "worker"}}})
		}
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stop", ""}, "api\nweb\nworker\n:4\n"},
		{[]string{"logs", "w"}, "web\nworker\n:4\n"},
		{[]string{"signal", "api", "US"}, "USR1\nUSR2\n:4\n"},
		{[]string{"stop", "api", ""}, ":4\n"},
	} {
		args := append([]string{"__complete", "--socket", f.sock}, tc.args...)
		// (cobra notes the directive on stderr; the shell scripts discard it)
		if out, errOut, code := kelpieRun(args...); code != 0 || out != tc.want || strings.Contains(errOut, "kelpie") {
			t.Errorf("%v: exit %d, %q, stderr %q", args, code, out, errOut)
		}
	}
	// No kelpie: no completions, no error.
	none := filepath.Join(t.TempDir(), "none.sock")
	if out, errOut, code := kelpieRun("__complete", "stop", "--socket", none, ""); code != 0 || out != ":4\n" || strings.Contains(errOut, "kelpie") {
		t.Errorf("without a kelpie: exit %d, %q, %q", code, out, errOut)
	}
}

func TestConfigFoundInADirectoryAbove(t *testing.T) {
	top := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", top)
	t.Setenv(control.EnvSocket, "")
	cfg := filepath.Join(top, "kelpie.yaml")
	if err := os.WriteFile(cfg, []byte("processes:\n  a:\n    run: [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(top, "src", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(top)
	_, atTop, _ := kelpieRun("ps")
	t.Chdir(sub)
	if out, _, code := kelpieRun("validate"); code != 0 || out != cfg+": 1 processes, OK\n" {
		t.Errorf("validate in a subdirectory: exit %d %q", code, out)
	}
	// The client looks for the same kelpie from anywhere below the config.
	_, below, code := kelpieRun("ps")
	if code != 1 || below != atTop || !strings.Contains(below, "no kelpie is running") {
		t.Errorf("ps below the config: exit %d %q, at the top %q", code, below, atTop)
	}
	want, _ := control.DefaultPath(cfg)
	if !strings.Contains(below, want) {
		t.Errorf("ps looked for %q, want the config's socket %s", below, want)
	}
}

// openPTY opens a pseudo-terminal pair with golang.org/x/sys/unix.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// A client command on a terminal where nothing answers (script, some remote
// terminals) must not ask it anything: the terminal libraries' background
// colour query used to print two sequences and wait 5 s for an answer.
func TestClientCommandsNeverQueryTheTerminal(t *testing.T) {
	for _, args := range [][]string{
		{"logs", "api", "--socket", filepath.Join(t.TempDir(), "none.sock")},
		{"ps", "--socket", filepath.Join(t.TempDir(), "none.sock")},
		{"--help"},
	} {
		master, slave := openPTY(t)
		cmd := exec.Command(kelpieBin, args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		// The foreground process of its own terminal, as in a shell: the
		// only case where the libraries would ask.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		env := []string{"TERM=xterm-256color"}
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); k != "TERM" && k != "CI" && k != "NO_COLOR" && k != "COLORFGBG" {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		slave.Close()
		read := make(chan []byte)
		go func() { b, _ := io.ReadAll(master); read <- b }() // ends with EIO once the child is gone
		var out []byte
		select {
		case out = <-read:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("kelpie %v never finished", args)
		}
		_ = cmd.Wait()
		if bytes.Contains(out, []byte("\x1b]11;?")) || bytes.Contains(out, []byte("\x1b[6n")) {
			t.Errorf("kelpie %v queried the terminal: %q", args, out)
		}
		if len(out) == 0 {
			t.Errorf("kelpie %v printed nothing", args)
		}
	}
}

func TestColourFromTheEnvironment(t *testing.T) {
	_, slave := openPTY(t)
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("NO_COLOR", "")
	if !wantColour(slave) {
		t.Error("no colour on a terminal")
	}
	if wantColour(&bytes.Buffer{}) || wantColour(devNull(t)) {
		t.Error("colour to something that is not a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if wantColour(slave) {
		t.Error("colour despite NO_COLOR")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if wantColour(slave) {
		t.Error("colour on a dumb terminal")
	}
}

// devNull opens /dev/null for the test. It returns the *os.File itself: a
// second os.NewFile on the same descriptor once closed that number again from
// its finalizer, at whatever GC time, by then another test's pipe (a client's
// stdout read end: the client died of SIGPIPE, or the test waited for ever).
func devNull(t *testing.T) *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// `kelpie up --headless | head -3` used to kill kelpie with SIGPIPE: its
// units got SIGKILL from the guard and its socket and lock stayed behind.
func TestHeadlessStopsGracefullyWhenItsOutputCloses(t *testing.T) {
	for _, tc := range []struct{ name, run string }{
		// A unit that keeps writing: the next write fails.
		{"chatty", `i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.02; done`},
		// A quiet unit: nothing is written, kelpie must notice all the same.
		{"quiet", `echo ready; while true; do sleep 0.02; done`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := fmt.Sprintf("processes:\n  u:\n    run: \"trap 'echo bye > stopped; exit 0' TERM; %s\"\n", tc.run)
			if err := os.WriteFile(filepath.Join(dir, "kelpie.yaml"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "k.sock")
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(kelpieBin, "up", "--headless", "--socket", sock)
			cmd.Dir, cmd.Stdout = dir, w
			errOut := newLockedBuffer()
			cmd.Stderr = errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			exited, gone := make(chan error, 1), make(chan struct{})
			go func() { exited <- cmd.Wait(); close(gone) }()
			defer func() {
				select {
				case <-gone:
				default:
					_ = cmd.Process.Kill()
				}
			}()
			// Read up to "ready" or 3 lines, like head would, then close.
			timer := time.AfterFunc(20*time.Second, func() { r.Close() })
			br := bufio.NewReader(r)
			for n := 0; n < 3; n++ {
				l, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("headless output ended: %v (%q)\n%s", err, l, errOut.String())
				}
				if strings.Contains(l, "ready") {
					break
				}
			}
			timer.Stop()
			r.Close()
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("kelpie exited with %v after its output closed:\n%s", err, errOut.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("kelpie still running 30 s after its output closed:\n%s", errOut.String())
			}
			if b, err := os.ReadFile(filepath.Join(dir, "stopped")); err != nil || string(b) != "bye\n" {
				t.Errorf("the unit never got its stop signal: %v", err)
			}
			for _, p := range []string{sock, sock + ".lock"} {
				if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s left behind: %v", p, err)
				}
			}
			if !strings.Contains(errOut.String(), "the output was closed") {
				t.Errorf("stderr does not say why kelpie stopped: %q", errOut.String())
			}
		})
	}
}

func TestMessagesCommand(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		if req.Cmd != "messages" || req.Name != "worker" {
			reply(control.Response{Error: "unexpected request"})
			return
		}
		reply(control.Response{Message: &procs.Message{Seq: 1, Time: t0, Stream: procs.IPCOut, Msg: []byte(`{"cmd":"go"}`), Size: 12}})
		reply(control.Response{Message: &procs.Message{Seq: 2, Time: t0, Stream: procs.IPCIn, Msg: []byte(`"\u009d0;pwn"`), Size: 900000, Truncated: true}})
	})
	out, errOut, code := kelpieRun("messages", "worker", "--socket", f.sock)
	if code != 0 || errOut != "" || !strings.Contains(out, `→ {"cmd":"go"}`) || !strings.Contains(out, "← 0;pwn") ||
		!strings.Contains(out, "truncated") || strings.Contains(out, "\u009d") {
		t.Errorf("exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	out, _, code = kelpieRun("messages", "worker", "--json", "--socket", f.sock)
	if code != 0 || !strings.Contains(out, `"truncated":true`) || strings.Contains(out, "\u009d") || strings.Count(out, "\n") != 2 {
		t.Errorf("--json: exit %d, %q", code, out)
	}
}

// `kelpie logs GROUP` covers several units: the server names each line's
// member, and each is printed with its name (cleaned), as for every unit.
func TestLogsOfAGroupNameEachMember(t *testing.T) {
	f := newFakeKelpie(t, func(req control.Request, reply func(control.Response)) {
		a, b := line(1, "from zero"), line(2, "from one")
		a.Unit, b.Unit = "primes/0", "primes/1\x1b]0;t\x07"
		reply(control.Response{Line: a})
		reply(control.Response{Line: b})
	})
	out, _, code := kelpieRun("logs", "primes", "--socket", f.sock)
	if code != 0 || !strings.Contains(out, "primes/0 | 03:04:05.001 from zero") || !strings.Contains(out, "| 03:04:05.002 from one") ||
		strings.Contains(out, "\x1b]") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// Only /dev/null itself is taken for /dev/null: a file, a pipe and a
// terminal-less other device are printed to.
func TestIsDevNull(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	zero, err := os.OpenFile("/dev/zero", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	if !isDevNull(null) {
		t.Error("/dev/null not recognised")
	}
	for _, w := range []io.Writer{file, zero, &bytes.Buffer{}} {
		if isDevNull(w) {
			t.Errorf("%v taken for /dev/null", w)
		}
	}
}
