package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

func TestWorkersConfig(t *testing.T) {
	dir := t.TempDir()
	src := "processes:\n  web: {run: ./server}\n" +
		"workers:\n" +
		"  primes:\n" +
		"    task: primes\n" +
		"    count: 3\n" +
		"    restart: always\n" +
		"    shared: [found, checked]\n" +
		"    stop_timeout: 2s\n" +
		"  logs:\n" +
		"    task: tail\n" +
		"    args: [/var/log/app.log]\n"
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sp := range f.Specs {
		names = append(names, sp.Name)
	}
	if got := strings.Join(names, " "); got != "web primes/0 primes/1 primes/2 logs/0" {
		t.Fatalf("specs: %s", got)
	}
	p := f.Specs[2]
	if p.Kind != procs.KindWorker || p.Group != "primes" || p.Task == nil || p.TaskName != "primes" ||
		p.Restart != procs.RestartAlways || p.StopTimeout.String() != "2s" || strings.Join(p.Shared, ",") != "found,checked" {
		t.Fatalf("primes/1: %+v", p)
	}
	if l := f.Specs[4]; l.Group != "logs" || l.TaskName != "tail" || l.Task == nil {
		t.Fatalf("logs/0: %+v", l)
	}
	// Workers alone are a whole config.
	if _, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte("workers:\n  e: {task: echo}\n")); err != nil {
		t.Fatal(err)
	}
}

func TestWorkersConfigErrors(t *testing.T) {
	dir := t.TempDir()
	w := func(lines ...string) string {
		return "processes:\n  web: {run: x}\nworkers:\n  p:\n" + strings.Join(lines, "\n") + "\n"
	}
	tests := []struct {
		name      string
		src       string
		line, col int
		want      string
	}{
		{"no task", w("    count: 2"), 4, 3, `worker "p" has no "task:" (one of primes, echo, sleep, tail)`},
		{"unknown task", w("    task: prime"), 5, 11, `task: no built-in task "prime" (did you mean "primes"?)`},
		{"bad args", w("    task: tail", "    args: []"), 6, 11, "task: tail takes one arg"},
		{"count zero", w("    task: echo", "    count: 0"), 6, 12, "count: want a whole number from 1 to 4096"},
		{"count huge", w("    task: echo", "    count: 100000"), 6, 12, "from 1 to 4096"},
		{"unknown key", w("    task: echo", "    cout: 2"), 6, 5, `unknown key "cout" in worker "p" (did you mean "count"?)`},
		{"shared twice", w("    task: echo", "    shared: [a, a]"), 6, 13, `shared: counter "a" is listed twice`},
		{"shared bad name", w("    task: echo", "    shared: [a-b]"), 6, 13, `invalid counter name "a-b"`},
		{"name clash", "processes:\n  p: {run: x}\nworkers:\n  p: {task: echo}\n", 4, 3, `duplicate name "p" (first defined at 2:3`},
		{"slash in name", "workers:\n  a/b: {task: echo}\n", 2, 3, `invalid worker name "a/b"`},
		{"workers empty", "workers:\n", 1, 1, "workers is empty"},
		{"workers list", "workers: [a]\n", 1, 10, "workers must be a mapping"},
		{"top typo", "processes:\n  web: {run: x}\nworkrs: {}\n", 3, 1, `did you mean "workers"?`},
		{"tty", w("    task: echo", "    tty: true"), 6, 5, `tty: worker "p" is a goroutine inside kelpie and has no terminal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parseErrors(t, dir, tt.src)
			e := es[0]
			if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.want) {
				t.Fatalf("got %d:%d %q, want %d:%d containing %q", e.Line, e.Col, e.Msg, tt.line, tt.col, tt.want)
			}
		})
	}
}
