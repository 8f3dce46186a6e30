package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	check := func(want string) {
		t.Helper()
		got, err := Find(dir)
		if err != nil || got != want {
			t.Fatalf("Find = %q, %v; want %q, nil", got, err, want)
		}
	}
	check("") // nothing there: the caller runs the demo
	write(t, filepath.Join(dir, "Procfile"), "web: x\n")
	check(filepath.Join(dir, "Procfile"))
	write(t, filepath.Join(dir, "kelpie.yml"), "processes: {}\n")
	check(filepath.Join(dir, "kelpie.yml"))
	write(t, filepath.Join(dir, "kelpie.yaml"), "processes: {}\n")
	check(filepath.Join(dir, "kelpie.yaml"))
}

func TestFindErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Find(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: got %v, want a not-exist error", err)
	}
	write(t, filepath.Join(dir, "file"), "")
	if _, err := Find(filepath.Join(dir, "file")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as dir: got %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "kelpie.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "Procfile"), "web: x\n")
	if p, err := Find(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("kelpie.yaml dir: got %q, %v; want an error", p, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, data, kind string }{
		{"kelpie.yaml", "processes:\n  a: {run: x}\n", KindYAML},
		{"kelpie.yml", "processes:\n  a: {run: x}\n", KindYAML},
		{"other.conf", "processes:\n  a: {run: x}\n", KindYAML},
		{"Procfile", "a: x\n", KindProcfile},
		{"dev.procfile", "a: x\n", KindProcfile},
		{"Dev.Procfile", "a: x\n", KindProcfile},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		write(t, path, tt.data)
		f, err := Load(path)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if f.Kind != tt.kind || f.Path != path || len(f.Specs) != 1 || f.Specs[0].Shell != "x" {
			t.Errorf("%s: got %+v", tt.name, f)
		}
	}
}

func TestLoadUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kelpie.yaml")
	_, err := Load(path)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if want := path + ": cannot read config: no such file or directory"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false")
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "k.yaml", Line: 3, Col: 7, Msg: "bad"}, "k.yaml:3:7: bad"},
		{Error{File: "k.yaml", Line: 3, Msg: "bad"}, "k.yaml:3: bad"},
		{Error{File: "k.yaml", Msg: "bad"}, "k.yaml: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	es := Errors{{File: "a", Line: 1, Col: 2, Msg: "x"}, {File: "a", Line: 3, Col: 4, Msg: "y"}}
	if got, want := es.Error(), "a:1:2: x\na:3:4: y"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
