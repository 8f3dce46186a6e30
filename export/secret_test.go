package export

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/config"
)

// Values from a dotenv file are written in clear: the files holding them
// are 0600, the others 0644, and a note (in the output and in the file)
// names the variables and the file they came from, never their values.
func TestSecretsArePrivateAndNamed(t *testing.T) {
	f, abs := loadStack(t)
	for _, tc := range []struct {
		kind            string
		build           func() (*Result, error)
		private, public string
		advice          string
	}{
		{"systemd", func() (*Result, error) { return Systemd(f, Options{}) }, "stack-web.service", "stack.target", "EnvironmentFile="},
		{"kubernetes", func() (*Result, error) { return Kubernetes(f, Options{}) }, "stack-web.deployment.yaml", "stack-api.service.yaml", "Secret"},
	} {
		res, err := tc.build()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := Write(dir, res.Files, false); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]os.FileMode{tc.private: 0o600, tc.public: 0o644} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: %s is %v, want %v", tc.kind, name, fi.Mode().Perm(), want)
			}
		}
		var note *Note
		for i, n := range res.Notes {
			if n.Unit == "web" && n.Kind == Secret {
				note = &res.Notes[i]
			}
		}
		if note == nil {
			t.Fatalf("%s: no note names web's variables from outside the config: %q", tc.kind, res.Notes)
		}
		want := "SECRET, PORT from " + filepath.Join(abs, "app.env")
		if !strings.Contains(note.Text, want) || !strings.Contains(note.Text, "FROM_DOTENV from "+filepath.Join(abs, ".env")) ||
			!strings.Contains(note.Text, tc.advice) || strings.Contains(note.Text, "s3cr") {
			t.Errorf("%s: the note %q does not name the variables and their files, or shows a value", tc.kind, note.Text)
		}
		b, _ := os.ReadFile(filepath.Join(dir, tc.private))
		if !strings.Contains(string(b), "#   - "+note.Text+"\n") {
			t.Errorf("%s: %s has not the note in its header:\n%s", tc.kind, tc.private, b)
		}
	}
}

// A value from this machine's environment expanded into the command is in
// the file too: named, and the file private; a unit with nothing from
// outside the config keeps a public file and no such note.
func TestSecretsInTheCommand(t *testing.T) {
	t.Setenv("KELPIE_TEST_CMD_TOKEN", "tok-value")
	dir := t.TempDir()
	cfg := "processes:\n  call:\n    run: /bin/echo ${KELPIE_TEST_CMD_TOKEN}\n  plain:\n    run: [/bin/true]\n"
	f, err := config.Parse(filepath.Join(dir, "kelpie.yaml"), []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Systemd(f, Options{Prefix: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range res.Files {
		if want := file.Name == "t-call.service"; file.Private != want {
			t.Errorf("%s: Private %v, want %v", file.Name, file.Private, want)
		}
	}
	want := "call: run: expands KELPIE_TEST_CMD_TOKEN from this machine's environment (${KELPIE_TEST_CMD_TOKEN}): "
	if !slices.ContainsFunc(res.Notes, func(n Note) bool { return n.Kind == Secret && strings.HasPrefix(n.String(), want) }) {
		t.Errorf("no note %q in %q", want, res.Notes)
	}
	if slices.ContainsFunc(res.Notes, func(n Note) bool { return n.Unit == "plain" || strings.Contains(n.Text, "tok-value") }) {
		t.Errorf("a note about plain, or one showing a value: %q", res.Notes)
	}
}
