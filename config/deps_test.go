package config

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

func TestDependsOnForms(t *testing.T) {
	dir := t.TempDir()
	src := `processes:
  web:
    run: ./web
    depends_on: { db: ready, migrate: completed_successfully, pool: started, api: ready }
  db:
    run: ./db
  migrate:
    run: ./migrate
    depends_on: [db]
  tail:
    run: ./tail
    depends_on: web
workers:
  pool:
    task: primes
    depends_on: {db: completed}
clusters:
  api:
    run: ./api
    listen: 127.0.0.1:0
    depends_on: [db]
`
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]procs.Dependency{}
	for _, s := range f.Specs {
		got[s.Name] = s.DependsOn
	}
	d := func(n string, c procs.Condition) procs.Dependency { return procs.Dependency{Name: n, Condition: c} }
	want := map[string][]procs.Dependency{
		"web":     {d("db", procs.CondReady), d("migrate", procs.CondCompletedSuccessfully), d("pool", procs.CondStarted), d("api", procs.CondReady)},
		"migrate": {d("db", procs.CondStarted)},
		"tail":    {d("web", procs.CondStarted)},
		"pool/0":  {d("db", procs.CondCompleted)},
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s depends_on = %v, want %v", name, got[name], w)
		}
	}
	if len(f.Clusters) != 1 || !slices.Equal(f.Clusters[0].Spec.DependsOn, []procs.Dependency{d("db", procs.CondStarted)}) {
		t.Errorf("cluster api depends_on = %v", f.Clusters[0].Spec.DependsOn)
	}
}

func TestDependsOnErrorsAllAtOnce(t *testing.T) {
	src := `processes:
  web:
    run: ./web
    depends_on: { api: ready, dbb: ready }
  api:
    run: ./api
    depends_on: [web]
  db:
    run: ./db
    depends_on: { db: started }
  q:
    run: ./q
    depends_on: { db: healthy, web: soon, api: [x] }
  r:
    run: ./r
    depends_on: [db, db]
  a:
    run: ./a
    depends_on: [b]
  b:
    run: ./b
    depends_on: [c]
  c:
    run: ./c
    depends_on: {a: ready}
`
	es := parseErrors(t, t.TempDir(), src)
	want := []struct {
		line, col int
		msg       string
	}{
		{4, 19, `depends_on: dependency cycle web -> api -> web`},
		{4, 31, `depends_on: no process, worker or cluster is named "dbb" (did you mean "db"?)`},
		{10, 19, `depends_on: "db" depends on itself`},
		{13, 23, `depends_on "db": unknown condition "healthy": want started, ready, completed, completed_successfully (did you mean "ready"?)`},
		{13, 37, `depends_on "web": unknown condition "soon"`},
		{13, 48, `depends_on "api": want a condition`},
		{16, 22, `depends_on: "db" is listed twice (first at 16:18)`},
		{19, 18, `depends_on: dependency cycle a -> b -> c -> a`},
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.Line != w.line || e.Col != w.col || !startsWith(e.Msg, w.msg) {
			t.Errorf("error %d = %d:%d %q, want %d:%d %q", i, e.Line, e.Col, e.Msg, w.line, w.col, w.msg)
		}
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
