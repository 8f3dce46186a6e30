package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// log_dir keeps every unit's lines on disk as they come, to the last event
// of the shutdown, and `kelpie logs` reads them back once kelpie has gone.
func TestLogDirAndLogsAfterKelpieHasGone(t *testing.T) {
	in := startKelpie(t, `log_dir: logs
processes:
  web:
    run: "echo hello from web; exec sleep 424262"
workers:
  echoes:
    task: echo
`)
	in.out.waitFor(t, "hello from web")
	web := filepath.Join(in.dir, "logs", "web.log")
	deadline := time.Now().Add(20 * time.Second)
	for b, _ := os.ReadFile(web); !strings.Contains(string(b), " stdout hello from web\n"); b, _ = os.ReadFile(web) {
		if time.Now().After(deadline) {
			t.Fatalf("web.log never got the line: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, code := in.kelpie("down"); code != 0 {
		t.Fatalf("down: exit %d", code)
	}
	select {
	case <-in.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("kelpie still running after down")
	}
	// The shutdown's last event is on disk: kelpie waited for it.
	if b, _ := os.ReadFile(web); !strings.HasSuffix(string(b), " event stopped\n") {
		t.Errorf("web.log does not end with the stop:\n%s", b)
	}
	out, errOut, code := in.kelpie("logs", "web", "-n", "50")
	if code != 0 || !strings.Contains(out, "hello from web") || !strings.Contains(errOut, "from the log files in") {
		t.Fatalf("logs web after kelpie has gone: exit %d\n%s\n%s", code, out, errOut)
	}
	// Every unit, a worker group's member by its name, merged.
	out, _, code = in.kelpie("logs", "-n", "50")
	if code != 0 || !strings.Contains(out, "echoes/0 | ") || !strings.Contains(out, "web") {
		t.Fatalf("logs of every unit from the files: exit %d\n%s", code, out)
	}
}

// A member removed by `kelpie scale` down has its last lines in its file
// under log_dir: the file ends with "stopped", written just before the
// removal, each time.
func TestLogDirKeepsAScaledDownMembersLastLine(t *testing.T) {
	in := startKelpie(t, `log_dir: logs
workers:
  echoes:
    task: echo
`)
	files := []string{filepath.Join(in.dir, "logs", "echoes", "1.log"), filepath.Join(in.dir, "logs", "echoes", "2.log")}
	waitFile := func(path, what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for b, _ := os.ReadFile(path); !ok(string(b)); b, _ = os.ReadFile(path) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s never came:\n%s", path, what, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for round := 1; round <= 2; round++ {
		if _, errOut, code := in.kelpie("scale", "echoes", "3"); code != 0 {
			t.Fatalf("scale up: exit %d %s", code, errOut)
		}
		for _, f := range files {
			waitFile(f, "the member's start", func(s string) bool { return strings.Count(s, " event started") == round })
		}
		if _, errOut, code := in.kelpie("scale", "echoes", "1"); code != 0 {
			t.Fatalf("scale down: exit %d %s", code, errOut)
		}
		for _, f := range files {
			waitFile(f, "the member's last line", func(s string) bool { return strings.HasSuffix(s, " event stopped\n") })
		}
	}
}

// `kelpie logs -F` of a member that is scaled away prints its last lines,
// says it was removed and ends with status 0 (it followed nothing for ever).
func TestLogsFollowEndsWhenItsUnitIsRemoved(t *testing.T) {
	in := startKelpie(t, "workers:\n  echoes:\n    task: echo\n    count: 2\n")
	var out, errOut bytes.Buffer
	cmd := exec.Command(kelpieBin, "logs", "-F", "--socket", in.sock, "echoes/1")
	cmd.Dir, cmd.Stdout, cmd.Stderr = in.dir, &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The follow is on once the member's start is printed (its history).
	deadline := time.Now().Add(20 * time.Second)
	for {
		if o, _, _ := in.kelpie("logs", "echoes/1"); strings.Contains(o, "started") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echoes/1 never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, e, code := in.kelpie("scale", "echoes", "1"); code != 0 {
		t.Fatalf("scale down: exit %d %s", code, e)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("logs -F: %v\n%s", err, errOut.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("logs -F of a removed member never ended")
	}
	if !strings.Contains(errOut.String(), "kelpie: echoes/1 was removed") || !strings.Contains(out.String(), "stopped") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
}
