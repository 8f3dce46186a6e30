package config

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

func TestClustersConfig(t *testing.T) {
	dir := t.TempDir()
	src := "processes:\n  db: {run: ./db}\n" +
		"clusters:\n" +
		"  web:\n" +
		"    run: [\"python3\", \"server.py\"]\n" +
		"    instances: 4\n" +
		"    listen: \"127.0.0.1:8000\"\n" +
		"    mode: fds\n" +
		"    restart: always\n" +
		"    env: {A: b}\n" +
		"    ipc: true\n" +
		"    stop_timeout: 3s\n" +
		"  api:\n" +
		"    run: node app.js\n" +
		"    instances: max\n" +
		"    listen: :0\n" +
		"    mode: node\n"
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Specs) != 1 || len(f.Clusters) != 2 {
		t.Fatalf("specs %d, clusters %d", len(f.Specs), len(f.Clusters))
	}
	web := f.Clusters[0]
	if web.Spec.Name != "web" || web.Instances != 4 || web.Listen != "127.0.0.1:8000" || web.Mode != procs.ModeFDs ||
		web.Spec.Restart != procs.RestartAlways || strings.Join(web.Spec.Argv, " ") != "python3 server.py" ||
		!web.Spec.IPC || web.Spec.Kind != procs.KindFork || web.Spec.StopTimeout.String() != "3s" || web.Spec.Env[0] != "A=b" {
		t.Fatalf("web: %+v", web)
	}
	api := f.Clusters[1]
	if api.Instances != runtime.NumCPU() || api.Mode != procs.ModeNode || api.Spec.Shell != "node app.js" {
		t.Fatalf("api: %+v", api)
	}
	// Clusters alone are a whole config.
	if _, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte("clusters:\n  w: {run: x, listen: ':0'}\n")); err != nil {
		t.Fatal(err)
	}
}

func TestClustersConfigErrors(t *testing.T) {
	dir := t.TempDir()
	c := func(lines ...string) string {
		return "processes:\n  db: {run: x}\nclusters:\n  web:\n" + strings.Join(lines, "\n") + "\n"
	}
	tests := []struct {
		name      string
		src       string
		line, col int
		want      string
	}{
		{"no listen", c("    run: x"), 4, 3, `cluster "web" has no "listen:" address`},
		{"no run", c("    listen: :80"), 4, 3, `cluster "web" has no "run:" command`},
		{"bad listen", c("    run: x", "    listen: 8000"), 6, 13, "listen: want host:port"},
		{"bad port", c("    run: x", "    listen: :99999"), 6, 13, `listen: port "99999" is not a number from 0 to 65535`},
		{"bad mode", c("    run: x", "    listen: :0", "    mode: fd"), 7, 11, `mode: "fd" is not a cluster mode: want fds, round-robin, node (did you mean "fds"?)`},
		{"instances zero", c("    run: x", "    listen: :0", "    instances: 0"), 7, 16, `instances: want a whole number from 1 to 1024, or "max"`},
		{"instances word", c("    run: x", "    listen: :0", "    instances: all"), 7, 16, `or "max"`},
		{"unknown key", c("    run: x", "    listen: :0", "    instance: 2"), 7, 5, `unknown key "instance" in cluster "web" (did you mean "instances"?)`},
		{"name clash with process", "processes:\n  web: {run: x}\nclusters:\n  web: {run: x, listen: ':0'}\n", 4, 3, `duplicate name "web" (first defined at 2:3; processes, workers and clusters share one set of names)`},
		{"name clash with worker", "workers:\n  web: {task: echo}\nclusters:\n  web: {run: x, listen: ':0'}\n", 4, 3, `duplicate name "web"`},
		{"slash in name", "clusters:\n  a/b: {run: x, listen: ':0'}\n", 2, 3, `invalid cluster name "a/b"`},
		{"clusters empty", "clusters:\n", 1, 1, "clusters is empty"},
		{"clusters list", "clusters: [a]\n", 1, 11, "clusters must be a mapping"},
		{"bad policy", c("    run: x", "    listen: :0", "    mode: node", "    policy: fair"), 8, 13, `policy: "fair" is not a Node scheduling policy`},
		{"policy without node", c("    run: x", "    listen: :0", "    policy: rr"), 7, 13, "only a node-mode cluster"},
		{"top typo", "processes:\n  web: {run: x}\nclusteres: {}\n", 3, 1, `did you mean "clusters"?`},
		{"tty", c("    run: x", "    listen: :0", "    tty: true"), 7, 5, "tty: a cluster's members serve connections, not a terminal"},
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

// A cluster takes a process's stack keys too (its members are processes),
// except a schedule.
func TestClusterStackKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.env"), []byte("PORT_NAME=web\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte("clusters:\n  api:\n    run: x\n    listen: ':0'\n    env_file: api.env\n    max_memory: 400MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sp := f.Clusters[0].Spec; sp.MaxMemory != 400<<20 || !slices.Contains(sp.Env, "PORT_NAME=web") {
		t.Errorf("cluster spec: %+v", sp)
	}
	_, err = Parse(filepath.Join(dir, "kelpie.yaml"), []byte("clusters:\n  api:\n    run: x\n    listen: ':0'\n    schedule: '@every 1m'\n"))
	if err == nil || !strings.Contains(err.Error(), "schedule is for one-shot processes") {
		t.Errorf("a scheduled cluster: %v", err)
	}
}
