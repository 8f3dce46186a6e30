package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

func TestProcfileValid(t *testing.T) {
	dir := t.TempDir()
	src := "\ufeff# dev processes\r\n" +
		"web: bundle exec rails s -p $PORT\r\n" +
		"\n" +
		"  worker:   node worker.js --queue=a:b  \n" +
		"   # indented comment\n" +
		"log.tail-1:tail -f log/dev.log\n"
	f, err := Parse(filepath.Join(dir, "Procfile"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != KindProcfile {
		t.Errorf("Kind = %q, want %q", f.Kind, KindProcfile)
	}
	want := []procs.Spec{
		{Name: "web", Kind: procs.KindProcess, Dir: dir, Shell: "bundle exec rails s -p $PORT"},
		{Name: "worker", Kind: procs.KindProcess, Dir: dir, Shell: "node worker.js --queue=a:b"},
		{Name: "log.tail-1", Kind: procs.KindProcess, Dir: dir, Shell: "tail -f log/dev.log"},
	}
	if len(f.Specs) != len(want) {
		t.Fatalf("got %d specs, want %d: %+v", len(f.Specs), len(want), f.Specs)
	}
	for i := range want {
		if !specEqual(f.Specs[i], want[i]) {
			t.Errorf("spec %d:\n got %+v\nwant %+v", i, f.Specs[i], want[i])
		}
	}
}

func TestProcfileErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		want      string
	}{
		{"no colon", "web: x\nworker\n", 2, 1, `expected "name: command", got "worker"`},
		{"no colon indented", "web: x\n  just words here\n", 2, 3, `expected "name: command"`},
		{"empty command", "web: x\nworker:   \n", 2, 8, `process "worker" has an empty command`},
		{"empty command indented", "  web:\n", 1, 7, `process "web" has an empty command`},
		{"invalid name", "web: x\nmy worker: y\n", 2, 1, `invalid process name "my worker"`},
		{"empty name", ": y\n", 1, 1, "process name is empty"},
		{"duplicate", "web: x\n# c\n web: y\n", 3, 2, `duplicate process "web" (first defined at 1:1)`},
		{"empty file", "", 1, 1, "no processes defined"},
		{"only comments", "# a\n\n# b\n", 1, 1, "no processes defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dev.procfile")
			_, err := Parse(path, []byte(tt.src))
			es, ok := err.(Errors)
			if !ok || len(es) != 1 {
				t.Fatalf("got %v, want one error", err)
			}
			e := es[0]
			if e.File != path || e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("got %v\nwant %s:%d:%d: ...%s...", e, path, tt.line, tt.col, tt.want)
			}
		})
	}
}

func TestProcfileReportsAllErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Procfile")
	_, err := Parse(path, []byte("web: x\nbad\nweb: y\nok: z\nempty:\n"))
	want := strings.Join([]string{
		path + `:2:1: expected "name: command", got "bad"`,
		path + `:3:1: duplicate process "web" (first defined at 1:1)`,
		path + `:5:7: process "empty" has an empty command`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}
