package export

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/config"
)

// update rewrites the golden files: go test ./export/ -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files from the output")

// stackConfig is the config that uses every feature an export maps or
// refuses to map.
const stackConfig = "testdata/stack/kelpie.yaml"

// loadStack loads stackConfig and returns it with its absolute directory,
// which the golden files write as /STACK so they hold on any checkout.
func loadStack(t *testing.T) (*config.File, string) {
	t.Helper()
	f, err := config.Load(stackConfig)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Dir(stackConfig))
	if err != nil {
		t.Fatal(err)
	}
	return f, abs
}

// checkGolden compares res with testdata/golden/KIND: the same file names,
// each file's bytes, and the notes (notes.txt).
func checkGolden(t *testing.T, kind string, res *Result, abs string) {
	t.Helper()
	dir := filepath.Join("testdata", "golden", kind)
	fix := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(abs), []byte("/STACK")) }
	var notes bytes.Buffer
	for _, n := range res.Notes {
		notes.WriteString(n.String() + "\n")
	}
	got := map[string][]byte{"notes.txt": fix(notes.Bytes())}
	for _, f := range res.Files {
		got[f.Name] = fix(f.Data)
	}
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		want = append(want, e.Name())
	}
	var names []string
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("files: got %v, want %v (go test ./export/ -run Golden -update, then review the diff)", names, want)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, filepath.Join(dir, name), got[name], data)
		}
	}
}

func TestSystemdGolden(t *testing.T) {
	f, abs := loadStack(t)
	res, err := Systemd(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "systemd", res, abs)
}

func TestKubernetesGolden(t *testing.T) {
	f, abs := loadStack(t)
	res, err := Kubernetes(f, Options{Image: "ghcr.io/example/stack:1.0"})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "kubernetes", res, abs)
}

// Every lost feature of the stack config is said, both in the output and
// at the top of the file it concerns.
func TestNotesInFiles(t *testing.T) {
	f, _ := loadStack(t)
	for _, kind := range []string{"systemd", "kubernetes"} {
		build := Systemd
		if kind == "kubernetes" {
			build = Kubernetes
		}
		res, err := build(f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"crunch", "ipc", "watch", "ready (log)"} {
			if !slices.ContainsFunc(res.Notes, func(n Note) bool { return strings.Contains(n.String(), want) }) {
				t.Errorf("%s: no note mentions %q", kind, want)
			}
		}
		for _, n := range res.Notes {
			if n.Unit == "" {
				continue
			}
			// A unit that gets no file at all (an interval a CronJob cannot
			// say) is said so in the output alone.
			found, files := false, 0
			for _, file := range res.Files {
				if strings.Contains(file.Name, "-"+n.Unit+".") || strings.Contains(file.Name, "-"+n.Unit+"@") {
					files++
					found = found || bytes.Contains(file.Data, []byte("#   - "+n.Text+"\n"))
				}
			}
			if !found && (files > 0 || !strings.Contains(n.Text, "not exported")) {
				t.Errorf("%s: note %q is in no file of %s", kind, n, n.Unit)
			}
		}
	}
}

// systemd-analyze verify takes the units with exit status 0 and nothing on
// stderr (it only warns on most mistakes, so both are checked); the
// ExecStart programs of the stack config exist on any Debian-like system
// or in testdata. A unit with a planted mistake shows verify really reads
// the directory.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the systemd units are not verified")
	}
	f, _ := loadStack(t)
	res, err := Systemd(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, res.Files, false); err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, file := range res.Files {
		args = append(args, filepath.Join(dir, file.Name))
	}
	// The template's instances, as the target pulls them in.
	args = append(args, filepath.Join(dir, "stack-api@0.service"), filepath.Join(dir, "stack-nodeapp@1.service"))
	verify := func(args []string) (string, error) {
		cmd := exec.Command(analyze, append([]string{"verify"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		err := cmd.Run()
		return stderr.String(), err
	}
	if out, err := verify(args); err != nil || out != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "stack-planted.service")
	if err := os.WriteFile(bad, []byte("[Service]\nExecStart=/bin/true\nKillSignal=SIGNOPE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := verify([]string{bad}); !strings.Contains(out, "SIGNOPE") {
		t.Fatalf("systemd-analyze verify did not report a planted mistake: %q", out)
	}
}
