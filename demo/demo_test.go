package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

// TestCommandsReadWell: under `go run` kelpie lives in a temporary build
// directory; the demo's commands name it by its bare name, and the PATH
// they get finds that very file first.
func TestCommandsReadWell(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "kelpie")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sp := range Specs(exe) {
		if sp.Shell != "" || sp.Kind == procs.KindWorker {
			continue
		}
		want := "kelpie " + RoleArg + " " + sp.Name
		if got := sp.Command(); got != want {
			t.Errorf("%s: command %q, want %q", sp.Name, got, want)
		}
		var path string
		for _, kv := range sp.Env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				path = v
			}
		}
		t.Setenv("PATH", path)
		if got, err := exec.LookPath(sp.Argv[0]); err != nil || got != exe {
			t.Errorf("%s: %q resolves to %q (%v), want %q", sp.Name, sp.Argv[0], got, err, exe)
		}
	}
}

// TestPrimesGroup: the demo has a group of four primes workers sharing
// their counters.
func TestPrimesGroup(t *testing.T) {
	var members []procs.Spec
	for _, sp := range Specs("/bin/kelpie") {
		if sp.Group == "primes" {
			members = append(members, sp)
		}
	}
	if len(members) != 4 || members[3].Name != "primes/3" || members[0].Task == nil || len(members[0].Shared) != 2 {
		t.Fatalf("primes group: %+v", members)
	}
}

// TestStack: db and api become ready by log probes that match the lines
// their roles print, and api waits for db to be ready.
func TestStack(t *testing.T) {
	specs := map[string]procs.Spec{}
	for _, sp := range Specs("/bin/kelpie") {
		specs[sp.Name] = sp
	}
	db, api := specs["db"], specs["api"]
	if db.Ready == nil || db.Ready.Kind != procs.ProbeLog || !regexp.MustCompile(db.Ready.Log).MatchString(dbReadyLine) {
		t.Fatalf("db's readiness probe %+v does not match %q", db.Ready, dbReadyLine)
	}
	if len(api.DependsOn) != 1 || api.DependsOn[0] != (procs.Dependency{Name: "db", Condition: procs.CondReady}) {
		t.Fatalf("api depends on %+v, want db ready", api.DependsOn)
	}
	if api.Ready == nil || !regexp.MustCompile(api.Ready.Log).MatchString(apiReadyLine) {
		t.Fatalf("api's readiness probe %+v does not match %q", api.Ready, apiReadyLine)
	}
}
