package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogSettings(t *testing.T) {
	f, err := Parse("/srv/app/kelpie.yaml", []byte("log_dir: ./logs\nlog_max_size: 2MiB\nlog_max_files: 3\nprocesses:\n  a:\n    run: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Logs != (Logs{Dir: filepath.Join("/srv/app", "logs"), MaxSize: 2 << 20, MaxFiles: 3}) {
		t.Errorf("logs: %+v", f.Logs)
	}
	_, err = Parse("/srv/app/kelpie.yaml", []byte("log_dir: \"\"\nlog_max_size: 10\nlog_max_files: 0\nlog_dri: x\nprocesses:\n  a:\n    run: x\n"))
	if err == nil {
		t.Fatal("bad log settings accepted")
	}
	for _, want := range []string{
		"1:10: log_dir: empty",
		"2:15: log_max_size: 10 is too small",
		"3:16: log_max_files: \"0\" is not a count",
		"4:1: unknown top-level key \"log_dri\" (did you mean \"log_dir\"?)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

// Problems in a dotenv file are listed after the config's own, by file,
// not mixed with them by line number.
func TestErrorsOfOtherFilesComeAfter(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("no equals\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte("processes:\n  a:\n    run: x\n    restart: sometimes\n"))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	yamlAt, envAt := strings.Index(msg, "kelpie.yaml:4:"), strings.Index(msg, ".env:1:")
	if yamlAt < 0 || envAt < 0 || envAt < yamlAt {
		t.Errorf("want the config's problem first, then the dotenv file's:\n%s", msg)
	}
}
