package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// parseErrors parses src as dir/kelpie.yaml and returns its problems, failing
// the test if there were none.
func parseErrors(t *testing.T, dir, src string) Errors {
	t.Helper()
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded with %d specs, want errors", len(f.Specs))
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse error is %T (%v), want Errors", err, err)
	}
	return es
}

// api wraps process settings (each already indented by four spaces) in a
// file that defines one process "api" starting on line 3.
func api(lines ...string) string {
	return "processes:\n  api:\n" + strings.Join(lines, "\n") + "\n"
}

func TestYAMLErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		src       string
		line, col int
		want      string
	}{
		// Syntax errors (more in TestYAMLSyntaxPositions).
		{"syntax flow sequence", api("    run: [x", "    restart: always"), 3, 10, "invalid YAML: did not find expected ',' or ']'"},
		{"syntax on line 1", "processes: a: b\n", 1, 13, "invalid YAML: mapping values are not allowed"},
		{"tab indent", "processes:\n\tapi: {run: x}\n", 2, 1, "tabs for indentation"},
		{"unknown anchor", api("    run: x", "    env: *nope"), 4, 10, `unknown anchor "nope"`},
		{"second document", api("    run: x") + "---\nprocesses: {}\n", 4, 1, "second YAML document"},

		// Shape of the file.
		{"empty file", "", 1, 1, "file is empty"},
		{"only comments", "# nothing here\n\n", 1, 1, "file is empty"},
		{"null document", "---\n", 1, 1, "file is empty"},
		{"top level list", "- a\n", 1, 1, "top level must be a mapping"},
		{"no processes", "x-notes: hi\n", 1, 1, `missing "processes:" mapping`},
		{"procfile as yaml", "web: ./server\nworker: ./worker\n", 1, 1, "this looks like a Procfile"},
		{"processes not a mapping", "processes: [api]\n", 1, 12, "processes must be a mapping of name: settings, got a list"},
		{"processes null", "processes:\n", 1, 1, "processes is empty"},
		{"processes empty", "processes: {}\n", 1, 12, "processes is empty"},
		{"unknown top-level key", api("    run: x") + "procesess: {}\n", 4, 1, `unknown top-level key "procesess" (did you mean "processes"?)`},
		{"unknown top-level alias", api("    run: x") + "services: {}\n", 4, 1, `unknown top-level key "services" (did you mean "processes"?)`},
		{"unknown top-level far", api("    run: x") + "version: 3\n", 4, 1, `unknown top-level key "version" (the top level holds`},
		{"duplicate processes key", api("    run: x") + "processes: {}\n", 4, 1, `duplicate key "processes" (first at 1:1)`},

		// Process names.
		{"duplicate process", api("    run: x") + "  api: {run: y}\n", 4, 3, `duplicate process "api" (first defined at 2:3)`},
		{"name with space", "processes:\n  my api: {run: x}\n", 2, 3, `invalid process name "my api": ' ' is not allowed`},
		{"name starts with dash", "processes:\n  -api: {run: x}\n", 2, 3, "must start with a letter or digit"},
		{"name non-ascii", "processes:\n  café: {run: x}\n", 2, 3, `'é' is not allowed`},
		{"name too long", "processes:\n  " + strings.Repeat("a", 65) + ": {run: x}\n", 2, 3, "longer than 64 characters"},
		{"name empty", "processes:\n  '': {run: x}\n", 2, 3, "process name is empty"},
		{"name not scalar", "processes:\n  ? [a, b]\n  : {run: x}\n", 2, 5, "keys must be plain names, got a list"},

		// Process bodies and keys.
		{"body not mapping", "processes:\n  api: ./server\n", 2, 8, `process "api" must be a mapping of settings`},
		{"missing run", api("    restart: always"), 2, 3, `process "api" has no "run:" command`},
		{"null body", "processes:\n  api:\n", 2, 3, `process "api" has no "run:" command`},
		{"unknown key typo", api("    run: x", "    restrat: always"), 4, 5, `unknown key "restrat" in process "api" (did you mean "restart"?)`},
		{"unknown key alias", api("    run: x", "    workdir: ."), 4, 5, `unknown key "workdir" in process "api" (did you mean "cwd"?)`},
		{"unknown key far", api("    run: x", "    replicas: 3"), 4, 5, "(known keys: run, cwd, env,"},
		{"duplicate key", api("    run: x", "    run: y"), 4, 5, `duplicate key "run" in process "api" (first at 3:5)`},

		// run.
		{"run empty string", api(`    run: ""`), 3, 10, "run: command is empty"},
		{"run blank string", api(`    run: "   "`), 3, 10, "run: command is empty"},
		{"run null", api("    run:"), 3, 9, "run: command is empty"},
		{"run empty list", api("    run: []"), 3, 10, "run: argument list is empty"},
		{"run number", api("    run: 42"), 3, 10, `run: want a command string or a list, got a number (quote it: "42")`},
		{"run mapping", api("    run: {a: b}"), 3, 10, "got a mapping"},
		{"run element number", api(`    run: ["sleep", 5]`), 3, 20, `run[1]: want a string, got a number (quote it: "5")`},
		{"run element list", api(`    run: ["sleep", [5]]`), 3, 20, "run[1]: want a string, got a list"},
		{"run element null", api(`    run: ["sleep", ~]`), 3, 20, "run[1]: want a string, got nothing"},
		{"run program empty", api(`    run: ["", "x"]`), 3, 11, "run[0]: program name is empty"},

		// tty.
		{"tty not a bool", api("    run: x", "    tty: yes please"), 4, 10, `tty: want true or false, got "yes please"`},
		{"tty list", api("    run: x", "    tty: [true]"), 4, 10, "tty: want true or false, got a list"},
		{"tty alias", api("    run: x", "    interactive: true"), 4, 5, `did you mean "tty"?`},

		// restart.
		{"restart bad", api("    run: x", "    restart: sometimes"), 4, 14, `restart: "sometimes" is not a restart policy (want never, on-failure or always)`},
		{"restart typo", api("    run: x", "    restart: on_failure"), 4, 14, `did you mean "on-failure"?`},
		{"restart list", api("    run: x", "    restart: [always]"), 4, 14, "restart: want never, on-failure or always, got a list"},

		// stop_signal.
		{"signal typo", api("    run: x", "    stop_signal: TREM"), 4, 18, `stop_signal: unknown signal "TREM" (did you mean "TERM"?)`},
		{"signal unknown", api("    run: x", "    stop_signal: banana"), 4, 18, `stop_signal: unknown signal "banana" (use a name like TERM`},
		{"signal number range", api("    run: x", "    stop_signal: 99"), 4, 18, `stop_signal: "99" is not a signal number (want 1 to 64)`},
		{"signal zero", api("    run: x", "    stop_signal: 0"), 4, 18, "is not a signal number"},
		{"signal negative", api("    run: x", "    stop_signal: -9"), 4, 18, `unknown signal "-9"`},

		// Durations.
		{"duration no unit", api("    run: x", "    stop_timeout: 5"), 4, 19, `stop_timeout: "5" is not a duration`},
		{"duration words", api("    run: x", "    min_uptime: soon"), 4, 17, `min_uptime: "soon" is not a duration`},
		{"duration negative", api("    run: x", "    stop_timeout: -5s"), 4, 19, "stop_timeout: must be greater than 0, got -5s"},
		{"duration zero", api("    run: x", "    backoff: 0s"), 4, 14, "backoff: must be greater than 0, got 0s"},
		{"duration list", api("    run: x", "    backoff_max: [1s]"), 4, 18, "backoff_max: want a duration like 5s, got a list"},
		{"backoff_max below backoff", api("    run: x", "    backoff: 2s", "    backoff_max: 1s"), 5, 18, "backoff_max (1s) is less than backoff (2s)"},
		{"backoff_max below default", api("    run: x", "    backoff_max: 100ms"), 4, 18, "backoff_max (100ms) is less than the default backoff (500ms)"},

		// Sizes.
		{"size too small", api("    run: x", "    log_buffer: 1KiB"), 4, 17, "log_buffer: 1KiB is too small (minimum 4KiB)"},
		{"ipc line too small", api("    run: x", "    ipc_max_line: 10"), 4, 19, "ipc_max_line: 10 is too small (minimum 1KiB)"},
		{"size fraction", api("    run: x", "    log_buffer: 1.5MiB"), 4, 17, `log_buffer: "1.5MiB" is not a size`},
		{"size bad unit", api("    run: x", "    log_buffer: 12XB"), 4, 17, `log_buffer: "12XB" is not a size`},
		{"size negative", api("    run: x", "    log_buffer: -4096"), 4, 17, `log_buffer: "-4096" is not a size`},
		{"size huge", api("    run: x", "    log_buffer: 99999999999999GiB"), 4, 17, "is too large"},
		{"log_buffer over 1GiB", api("    run: x", "    log_buffer: 1000GiB"), 4, 17, "log_buffer: 1000GiB is too large (maximum 1GiB)"},
		{"ipc line over 256MiB", api("    run: x", "    ipc_max_line: 1GiB"), 4, 19, "ipc_max_line: 1GiB is too large (maximum 256MiB)"},
		{"stop_timeout over 1h", api("    run: x", "    stop_timeout: 2h"), 4, 19, "stop_timeout: 2h is too large (maximum 1h)"},
		{"backoff over 1h", api("    run: x", "    backoff: 90m"), 4, 14, "backoff: 90m is too large (maximum 1h)"},
		{"backoff_max over 24h", api("    run: x", "    backoff_max: 25h"), 4, 18, "backoff_max: 25h is too large (maximum 24h)"},
		{"min_uptime over 24h", api("    run: x", "    min_uptime: 1000000h"), 4, 17, "min_uptime: 1000000h is too large (maximum 24h)"},
		{"duration overflow", api("    run: x", "    stop_timeout: 99999999999999h"), 4, 19, "stop_timeout: 99999999999999h is too large (maximum 1h)"},

		// max_restarts.
		{"max_restarts word", api("    run: x", "    max_restarts: ten"), 4, 19, `max_restarts: want a whole number, got "ten"`},
		{"max_restarts huge", api("    run: x", "    max_restarts: 10000000"), 4, 19, "max_restarts: 10000000 is too large (maximum 1000000; use -1 to never park)"},
		{"max_restarts overflow", api("    run: x", "    max_restarts: 99999999999999999999"), 4, 19, "max_restarts: 99999999999999999999 is too large (maximum 1000000; use -1 to never park)"},
		{"max_restarts below -1", api("    run: x", "    max_restarts: -3"), 4, 19, "max_restarts: want -1 (never park), 0 (default) or a positive count, got -3"},

		// Booleans.
		{"ipc maybe", api("    run: x", "    ipc: maybe"), 4, 10, `ipc: want true or false, got "maybe"`},
		{"ipc quoted", api("    run: x", `    ipc: "true"`), 4, 10, `ipc: want true or false, got "true"`},
		{"disabled yes", api("    run: x", "    disabled: yes"), 4, 15, `disabled: want true or false, got "yes"`},
		{"disabled mapping", api("    run: x", "    disabled: {}"), 4, 15, "disabled: want true or false, got a mapping"},

		// cwd.
		{"cwd missing", api("    run: x", "    cwd: ./nope"), 4, 10, "cwd: directory " + filepath.Join(dir, "nope") + " does not exist"},
		{"cwd a file", api("    run: x", "    cwd: afile"), 4, 10, "cwd: " + filepath.Join(dir, "afile") + " is not a directory"},
		{"cwd empty", api("    run: x", `    cwd: ""`), 4, 10, "cwd: path is empty"},
		{"cwd list", api("    run: x", "    cwd: [a]"), 4, 10, "cwd: want a directory path, got a list"},

		// env.
		{"env list", api("    run: x", "    env: [A=1]"), 4, 10, "env: want a mapping of NAME: value, got a list"},
		{"env string", api("    run: x", "    env: A=1"), 4, 10, "env: want a mapping of NAME: value, got a string"},
		{"env bad name", api("    run: x", "    env: {1A: x}"), 4, 11, `env: invalid variable name "1A"`},
		{"env name with dash", api("    run: x", "    env: {MY-VAR: x}"), 4, 11, `env: invalid variable name "MY-VAR"`},
		{"env value list", api("    run: x", "    env: {A: [1]}"), 4, 14, "env A: want a string, number or boolean, got a list"},
		{"env duplicate", api("    run: x", "    env: {A: 1, A: 2}"), 4, 17, `duplicate env var "A" (first at 4:11)`},

		// Merge keys.
		{"merge scalar", api("    run: x", "    <<: 5"), 4, 9, "merge (<<) wants a mapping or a list of mappings, got a number"},
		{"merge list of scalars", api("    run: x", "    <<: [5]"), 4, 10, "merge (<<) wants a mapping or a list of mappings, got a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parseErrors(t, dir, tt.src)
			if len(es) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(es), es)
			}
			e := es[0]
			if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("got %d:%d %q\nwant %d:%d containing %q", e.Line, e.Col, e.Msg, tt.line, tt.col, tt.want)
			}
			if wantFile := filepath.Join(dir, "kelpie.yaml"); e.File != wantFile {
				t.Errorf("File = %q, want %q", e.File, wantFile)
			}
		})
	}
}

// TestYAMLSyntaxPositions checks that a syntax error points at the offending
// character, not at the start of the block around it (yaml.v3's own line).
func TestYAMLSyntaxPositions(t *testing.T) {
	dir := t.TempDir()
	// Twelve good lines, so that errors land deep in the file.
	head := `# kelpie.yaml
processes:
  web:
    run: ./web --port 8080
    restart: always
    env:
      PORT: "8080"
      MODE: dev
  worker:
    run: [./worker, --queue, jobs]
    stop_timeout: 5s
  api:
`
	tests := []struct {
		name, src, want string
	}{
		{"bad indent deep", head + "    run: ./api\n   restart: always\n",
			"14:4: invalid YAML: did not find expected key (check this line's indentation against the keys above it)"},
		{"bad indent in env", head + "    run: ./api\n    env:\n      A: 1\n     B: 2\n",
			"16:6: invalid YAML: did not find expected key (check this line's indentation against the keys above it)"},
		{"too deep", head + "    run: ./api\n      restart: always\n",
			"14:14: invalid YAML: mapping values are not allowed in this context (quote the value if this ':' belongs to it, or check the indentation)"},
		{"list item at key indent", head + "    run: ./api\n  - extra\n",
			"14:3: invalid YAML: did not find expected key (check this line's indentation against the keys above it)"},
		{"tab indentation", head + "\trun: ./api\n",
			"13:1: invalid YAML: found character that cannot start any token (YAML does not allow tabs for indentation; use spaces)"},
		{"tab after spaces", head + "    run: ./api\n  \trestart: always\n",
			"14:3: invalid YAML: found a tab character that violates indentation (YAML does not allow tabs for indentation; use spaces)"},
		{"unclosed double quote", head + "    run: \"./api --name x\n    restart: always\n",
			"13:10: invalid YAML: found unexpected end of stream (a quoted string opened here is not closed)"},
		{"unclosed single quote", head + "    run: './api\n",
			"13:10: invalid YAML: found unexpected end of stream (a quoted string opened here is not closed)"},
		{"unclosed flow sequence", head + "    run: [./api, --port, 9000\n    restart: always\n",
			"13:10: invalid YAML: did not find expected ',' or ']' (a [ list opened here is not closed)"},
		{"unclosed flow mapping", head + "    run: ./api\n    env: {A: 1, B: 2\n    restart: always\n",
			"14:10: invalid YAML: did not find expected ',' or '}' (a { mapping opened here is not closed)"},
		{"crlf line ends", strings.ReplaceAll(head+"    run: ./api\n   restart: always\n", "\n", "\r\n"),
			"14:4: invalid YAML: did not find expected key (check this line's indentation against the keys above it)"},
		{"multibyte before", head + "    run: ./api # café ☕\n   restart: always\n",
			"14:4: invalid YAML: did not find expected key (check this line's indentation against the keys above it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parseErrors(t, dir, tt.src)
			if len(es) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(es), es)
			}
			if got, want := es[0].Error(), filepath.Join(dir, "kelpie.yaml")+":"+tt.want; got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestYAMLReportsAllErrors(t *testing.T) {
	dir := t.TempDir()
	src := `processes:
  web:
    run: ./web
    restrat: always
  worker:
    stop_timeout: soon
  web:
    run: ./other
    ipc: maybe
  ok:
    run: ./ok
`
	es := parseErrors(t, dir, src)
	file := filepath.Join(dir, "kelpie.yaml")
	want := strings.Join([]string{
		file + `:4:5: unknown key "restrat" in process "web" (did you mean "restart"?)`,
		file + `:5:3: process "worker" has no "run:" command`,
		file + `:6:19: stop_timeout: "soon" is not a duration (write e.g. 500ms, 5s, 1m30s)`,
		file + `:7:3: duplicate process "web" (first defined at 2:3)`,
		file + `:9:10: ipc: want true or false, got "maybe"`,
	}, "\n")
	if got := es.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Each problem must also be reachable on its own.
	var one *Error
	if !errors.As(error(es), &one) || one.Line != 4 {
		t.Errorf("errors.As found %v, want the first problem", one)
	}
}

// A bad value behind an anchor is reported once, not once per alias.
func TestYAMLAnchorErrorReportedOnce(t *testing.T) {
	src := `x-env: &env {1BAD: x}
processes:
  a: {run: x, env: *env}
  b: {run: y, env: *env}
`
	es := parseErrors(t, t.TempDir(), src)
	if len(es) != 1 || es[0].Line != 1 || es[0].Col != 14 {
		t.Fatalf("got %v, want one error at 1:14", es)
	}
}

func TestYAMLValid(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	abs := t.TempDir()
	src := `# kelpie.yaml
x-defaults: &defaults
  restart: always
  stop_timeout: 10s
  env: {SHARED: "1"}

processes:
  api:
    run: ["./server", "--port", "8080"]
    env:
      PORT: 8080
      LOG_LEVEL: debug
      DEBUG: true
      EMPTY:
      A_1: "x=y"
  ticker:
    <<: *defaults
    run: "while true; do date; sleep 1; done"
    cwd: ./sub
    stop_timeout: 3s
    stop_signal: sigint
    ipc: true
    log_buffer: 64KiB
    min_uptime: 1m
    max_restarts: -1
    backoff: 250ms
    backoff_max: 1m
    disabled: false
  3rd.party_svc-x:
    run: [node, app.js]
    cwd: ` + abs + `
    stop_signal: 15
    restart: never
    log_buffer: 1 MB
    max_restarts: 0
    disabled: true
  hup:
    run: x
    stop_signal: SIGHUP
    log_buffer: 4096
    backoff_max: 2s
`
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != KindYAML || f.Path != filepath.Join(dir, "kelpie.yaml") {
		t.Errorf("File = %q %q", f.Kind, f.Path)
	}
	want := []procs.Spec{
		{
			Name: "api", Kind: procs.KindProcess, Dir: dir,
			Argv: []string{"./server", "--port", "8080"},
			Env:  []string{"PORT=8080", "LOG_LEVEL=debug", "DEBUG=true", "EMPTY=", "A_1=x=y"},
		},
		{
			Name: "ticker", Kind: procs.KindFork, Dir: filepath.Join(dir, "sub"),
			Shell:       "while true; do date; sleep 1; done",
			Env:         []string{"SHARED=1"},
			Restart:     procs.RestartAlways,
			StopSignal:  syscall.SIGINT,
			StopTimeout: 3 * time.Second, // written in the process, so it beats the merged 10s
			LogBuffer:   64 << 10, MinUptime: time.Minute, MaxRestarts: -1,
			BackoffInitial: 250 * time.Millisecond, BackoffMax: time.Minute,
			IPC: true,
		},
		{
			Name: "3rd.party_svc-x", Kind: procs.KindProcess, Dir: abs,
			Argv:    []string{"node", "app.js"},
			Restart: procs.RestartNever, StopSignal: syscall.SIGTERM,
			LogBuffer: 1000 * 1000, Disabled: true,
		},
		{
			Name: "hup", Kind: procs.KindProcess, Dir: dir, Shell: "x",
			StopSignal: syscall.SIGHUP, LogBuffer: 4096, BackoffMax: 2 * time.Second,
		},
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

// A relative config path still yields absolute directories.
func TestYAMLRelativePath(t *testing.T) {
	f, err := Parse("kelpie.yaml", []byte("processes:\n  a: {run: x}\n"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if f.Specs[0].Dir != wd {
		t.Errorf("Dir = %q, want %q", f.Specs[0].Dir, wd)
	}
}

// A merge that refers to itself must not loop.
func TestYAMLSelfMerge(t *testing.T) {
	src := "processes:\n  a: &a\n    run: x\n    <<: *a\n"
	f, err := Parse(filepath.Join(t.TempDir(), "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Specs) != 1 || f.Specs[0].Shell != "x" {
		t.Errorf("got %+v", f.Specs)
	}
}

func specEqual(a, b procs.Spec) bool {
	return a.Name == b.Name && a.Kind == b.Kind && slices.Equal(a.Argv, b.Argv) &&
		a.Shell == b.Shell && a.Dir == b.Dir && slices.Equal(a.Env, b.Env) &&
		a.Restart == b.Restart && a.StopSignal == b.StopSignal && a.StopTimeout == b.StopTimeout &&
		a.LogBuffer == b.LogBuffer && a.MinUptime == b.MinUptime && a.MaxRestarts == b.MaxRestarts &&
		a.BackoffInitial == b.BackoffInitial && a.BackoffMax == b.BackoffMax &&
		a.IPC == b.IPC && a.Disabled == b.Disabled
}

func TestIPCMaxLine(t *testing.T) {
	f, err := Parse("k.yaml", []byte("processes:\n  a:\n    run: x\n    ipc: true\n    ipc_max_line: 2MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sp := f.Specs[0]; !sp.IPC || sp.IPCMaxLine != 2<<20 {
		t.Fatalf("spec %+v", sp)
	}
}

// tty: true on a process sets Spec.TTY; false or absent leaves it off.
func TestTTYKey(t *testing.T) {
	f, err := Parse("k.yaml", []byte("processes:\n  a:\n    run: sh\n    tty: true\n  b:\n    run: x\n    tty: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Specs[0].TTY || f.Specs[1].TTY {
		t.Fatalf("tty: a %v, b %v; want true, false", f.Specs[0].TTY, f.Specs[1].TTY)
	}
}
