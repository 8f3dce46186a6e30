package export

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/config"
)

// A bare program name is resolved with the unit's PATH, as kelpie finds
// it, and said; one not found is kept and said; a shell command's program
// that systemd's PATH would not find is said.
func TestSystemdResolvesBareProgramNames(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(bin, "kelpie-test-prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "processes:\n" +
		"  app:\n    run: [kelpie-test-prog, app.py]\n    env:\n      PATH: " + bin + "\n" +
		"  gone:\n    run: [kelpie-test-missing]\n    env:\n      PATH: " + bin + "\n" +
		"  sh:\n    run: kelpie-test-prog --serve\n    env:\n      PATH: " + bin + "\n"
	f, err := config.Parse(filepath.Join(dir, "kelpie.yaml"), []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Systemd(f, Options{Prefix: "t"})
	if err != nil {
		t.Fatal(err)
	}
	unit := func(name string) string {
		i := slices.IndexFunc(res.Files, func(f File) bool { return f.Name == name })
		if i < 0 {
			t.Fatalf("no %s", name)
		}
		return string(res.Files[i].Data)
	}
	if u := unit("t-app.service"); !strings.Contains(u, "\nExecStart="+prog+" app.py\n") {
		t.Errorf("a bare name found in the unit's PATH is not resolved:\n%s", u)
	}
	if u := unit("t-gone.service"); !strings.Contains(u, "\nExecStart=kelpie-test-missing\n") {
		t.Errorf("a bare name not found is not kept:\n%s", u)
	}
	for _, want := range []string{
		"app: run: kelpie-test-prog resolved to " + prog,
		"gone: run: kelpie-test-missing is not in the unit's PATH",
		"sh: run: kelpie-test-prog is " + prog + " with the unit's PATH",
	} {
		if !slices.ContainsFunc(res.Notes, func(n Note) bool { return n.Kind == Info && strings.HasPrefix(n.String(), want) }) {
			t.Errorf("no note %q in %q", want, res.Notes)
		}
	}
}

// A probe's loopback host is dropped for the pod's IP, and that is said:
// a server bound to loopback only fails the kubelet's probe.
func TestKubernetesNotesLoopbackProbes(t *testing.T) {
	f, _ := loadStack(t)
	res, err := Kubernetes(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"web: ready: the probe goes to the pod's IP, not 127.0.0.1",
		"web: liveness: the probe goes to the pod's IP, not localhost",
		"cache: ready: the probe goes to the pod's IP, not 127.0.0.1",
	} {
		if !slices.ContainsFunc(res.Notes, func(n Note) bool { return strings.HasPrefix(n.String(), want) }) {
			t.Errorf("no note %q", want)
		}
	}
	// cache's liveness probe is exec: nothing to say.
	if slices.ContainsFunc(res.Notes, func(n Note) bool { return strings.HasPrefix(n.String(), "cache: liveness: the probe") }) {
		t.Error("an exec probe got a loopback note")
	}
}
