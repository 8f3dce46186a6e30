package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runInProcess runs kelpie's command line in this process: export needs no
// child, so the built binary is not needed.
func runInProcess(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// `kelpie export`: a bad kind is a usage error; a good one writes the
// files (listed on stdout) and what did not carry over (on stderr); a second
// export replaces its own files; a file kelpie did not write stops it
// (exit 1, the file named) unless --force.
func TestExportCommand(t *testing.T) {
	t.Setenv("KELPIE_TEST_EXPORT_TOKEN", "tok-value")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kelpie.yaml")
	if err := os.WriteFile(cfg, []byte(`processes:
  web:
    run: ["/bin/sleep", "infinity"]
    ipc: true
    env:
      TOKEN: ${KELPIE_TEST_EXPORT_TOKEN}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")

	_, errOut, code := runInProcess("export", "upstart", out, "-f", cfg)
	if code != 2 || !strings.Contains(errOut, `unknown export kind "upstart"`) {
		t.Fatalf("bad kind: exit %d, %q", code, errOut)
	}
	if _, errOut, code = runInProcess("export", "systemd", "-f", cfg); code != 2 || !strings.Contains(errOut, "needs DIR") {
		t.Fatalf("no DIR: exit %d, %q", code, errOut)
	}
	if _, errOut, code = runInProcess("export", "systemd", out, "-f", cfg, "--prefix", "Bad_Prefix"); code != 2 {
		t.Fatalf("bad prefix: exit %d, %q", code, errOut)
	}

	stdout, errOut, code := runInProcess("export", "systemd", out, "-f", cfg, "--prefix", "shop")
	if code != 0 {
		t.Fatalf("export systemd: exit %d\n%s", code, errOut)
	}
	unit := filepath.Join(out, "shop-web.service")
	if !strings.Contains(stdout, unit) || !strings.Contains(stdout, filepath.Join(out, "shop.target")) {
		t.Fatalf("stdout does not list the files:\n%s", stdout)
	}
	if !strings.Contains(errOut, "not carried over: web: ipc:") {
		t.Fatalf("stderr does not say ipc is lost:\n%s", errOut)
	}
	// A value from this machine's environment is named, not shown, and
	// its file is the owner's alone.
	if !strings.Contains(errOut, "written in clear: web: environment TOKEN from this machine's environment (${KELPIE_TEST_EXPORT_TOKEN})") ||
		strings.Contains(errOut, "tok-value") {
		t.Fatalf("stderr does not name TOKEN and where it came from, or shows its value:\n%s", errOut)
	}
	if fi, err := os.Stat(unit); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s holds TOKEN's value: mode %v, want 0600", unit, fi.Mode().Perm())
	}
	if b, err := os.ReadFile(unit); err != nil || !strings.Contains(string(b), "ExecStart=/bin/sleep infinity") {
		t.Fatalf("%s: %v\n%s", unit, err, b)
	}
	if _, errOut, code = runInProcess("export", "systemd", out, "-f", cfg, "--prefix", "shop"); code != 0 {
		t.Fatalf("export again over kelpie's own files: exit %d\n%s", code, errOut)
	}

	if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/hand-written\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = runInProcess("export", "systemd", out, "-f", cfg, "--prefix", "shop"); code != 1 || !strings.Contains(errOut, unit) {
		t.Fatalf("over a hand-written file: exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(unit); !strings.Contains(string(b), "hand-written") {
		t.Fatal("the hand-written file was replaced without --force")
	}
	if _, errOut, code = runInProcess("export", "systemd", out, "-f", cfg, "--prefix", "shop", "--force"); code != 0 {
		t.Fatalf("--force: exit %d\n%s", code, errOut)
	}

	k8s := filepath.Join(dir, "k8s")
	stdout, errOut, code = runInProcess("export", "kubernetes", k8s, "-f", cfg, "--image", "ghcr.io/me/shop:1")
	if code != 0 || !strings.Contains(stdout, "web.deployment.yaml") {
		t.Fatalf("export kubernetes: exit %d\n%s\n%s", code, stdout, errOut)
	}
	entries, _ := os.ReadDir(k8s)
	if len(entries) != 1 {
		t.Fatalf("kubernetes: want one file, got %v", entries)
	}
	b, _ := os.ReadFile(filepath.Join(k8s, entries[0].Name()))
	if !strings.Contains(string(b), "image: ghcr.io/me/shop:1") {
		t.Fatalf("--image not used:\n%s", b)
	}
}

// validate and export load the config the same way (loadConfig): where
// there is none, both say so in one line and exit with the usage code.
func TestNoConfigIsAUsageErrorForValidateAndExport(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"validate"}, {"export", "systemd", filepath.Join(dir, "out")}} {
		_, errOut, code := kelpieWith(t, dir, nil, args...)
		if code != exitUsage || !strings.Contains(errOut, "kelpie: no "+configNames+" here or above (use -f FILE)") {
			t.Errorf("kelpie %v: exit %d, stderr:\n%s\nwant exit %d and the no-config line", args, code, errOut, exitUsage)
		}
	}
}
