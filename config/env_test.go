package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func parseOK(t *testing.T, dir, src string) *File {
	t.Helper()
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// TestEnvFiles: the default .env, then env_file in order, then env: win in
// that order; quotes, comments and export are read; ${VAR} and
// ${VAR:-default} expand in env, cwd and run from what kelpie builds.
func TestEnvFiles(t *testing.T) {
	t.Setenv("KELPIE_TEST_HOST", "example.org")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".env"), "# defaults\nexport PORT=8000\nNAME='web ${PORT}' # literal\nSUB=sub\nWHO=dotenv\n")
	writeFile(t, filepath.Join(dir, ".env.local"), "PORT=9000\nURL=\"http://${KELPIE_TEST_HOST}:${PORT}/\"\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := parseOK(t, dir, api(
		"    run: ./web --port ${PORT} --who ${WHO:-x} --pid $$ $${PORT} ${UNSET_KELPIE} ${#arr[@]}",
		"    cwd: ${SUB}",
		"    env_file: [.env.local]",
		"    env:",
		"      WHO: unit",
		"      GREETING: hi ${WHO} on ${MISSING_KELPIE:-default}",
	))
	s := f.Specs[0]
	want := []string{"PORT=9000", "NAME=web ${PORT}", "SUB=sub", "WHO=unit", "URL=http://example.org:9000/", "GREETING=hi unit on default"}
	if !slices.Equal(s.Env, want) {
		t.Errorf("Env = %q\nwant  %q", s.Env, want)
	}
	if wantRun := "./web --port 9000 --who unit --pid $$ $${PORT} ${UNSET_KELPIE} ${#arr[@]}"; s.Shell != wantRun {
		t.Errorf("Shell = %q, want %q", s.Shell, wantRun)
	}
	if s.Dir != filepath.Join(dir, "sub") {
		t.Errorf("Dir = %q, want %q", s.Dir, filepath.Join(dir, "sub"))
	}

	// dotenv: false turns the default file off; argv expands too.
	f = parseOK(t, dir, "dotenv: false\nprocesses:\n  api:\n    run: [echo, \"${PORT:-none}\"]\n")
	if got := f.Specs[0]; len(got.Env) != 0 || got.Argv[1] != "none" {
		t.Errorf("with dotenv: false: Env %q, Argv %q", got.Env, got.Argv)
	}
}

// TestEnvFileErrors: a missing file named explicitly is an error at its
// position; a syntax error in a dotenv file names that file, line and column.
func TestEnvFileErrors(t *testing.T) {
	dir := t.TempDir()
	es := parseErrors(t, dir, api("    run: x", "    env_file:", "      - .env.nope"))
	if len(es) != 1 || es[0].Line != 5 || es[0].Col != 9 || !strings.Contains(es[0].Msg, ".env.nope does not exist") {
		t.Errorf("missing file: %v", es)
	}
	bad := filepath.Join(dir, "bad.env")
	writeFile(t, bad, "OK=1\n\n  export 9X=2\n")
	es = parseErrors(t, dir, api("    run: x", "    env_file: bad.env"))
	if len(es) != 1 || es[0].File != bad || es[0].Line != 3 || es[0].Col != 10 || !strings.Contains(es[0].Msg, "invalid variable name") {
		t.Errorf("syntax error: %v", es)
	}
	// Expansion problems are reported at the setting's position.
	es = parseErrors(t, dir, api("    run: x", "    cwd: ${KELPIE_NO_SUCH:-nowhere}", "    env: {A: \"${1x}\"}"))
	if len(es) != 2 || es[0].Line != 4 || !strings.Contains(es[0].Msg, "nowhere does not exist") ||
		es[1].Line != 5 || !strings.Contains(es[1].Msg, "env A: invalid variable reference ${1x}") {
		t.Errorf("expansion errors: %v", es)
	}
	es = parseErrors(t, dir, "dotenv: \"no\"\n"+api("    run: x"))
	if len(es) != 1 || es[0].Line != 1 || !strings.Contains(es[0].Msg, "dotenv: want true or false") {
		t.Errorf("dotenv: %v", es)
	}
	// The default .env is checked too, when it exists.
	writeFile(t, filepath.Join(dir, ".env"), "A=\"open\n")
	es = parseErrors(t, dir, api("    run: x"))
	if len(es) != 1 || es[0].File != filepath.Join(dir, ".env") || es[0].Line != 1 || !strings.Contains(es[0].Msg, "unterminated") {
		t.Errorf("default .env: %v", es)
	}
}

// TestStackKeys reads max_memory, schedule and watch, and rejects bad ones
// at their positions.
func TestStackKeys(t *testing.T) {
	dir := t.TempDir()
	f := parseOK(t, dir, api(
		"    run: x",
		"    max_memory: 400MiB",
		`    schedule: "@every 30s"`,
		`    watch: { paths: ["src/**/*.go"], ignore: ["**/*_test.go"], debounce: 200ms }`,
	))
	s := f.Specs[0]
	if s.MaxMemory != 400<<20 {
		t.Errorf("MaxMemory = %d", s.MaxMemory)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Schedule == nil || s.ScheduleText != "@every 30s" || !s.Schedule.Next(at).Equal(at.Add(30*time.Second)) {
		t.Errorf("Schedule = %v %q", s.Schedule, s.ScheduleText)
	}
	if w := s.Watch; w == nil || !slices.Equal(w.Paths, []string{"src/**/*.go"}) || !slices.Equal(w.Ignore, []string{"**/*_test.go"}) || w.Debounce != 200*time.Millisecond {
		t.Errorf("Watch = %+v", s.Watch)
	}
	f = parseOK(t, dir, api("    run: x", `    schedule: "0 3 * * *"`, "    watch: [a.txt]"))
	if s := f.Specs[0]; s.Watch.Debounce != 500*time.Millisecond || !s.Schedule.Next(at).Equal(at.Add(3*time.Hour)) {
		t.Errorf("defaults: %+v next %v", s.Watch, s.Schedule.Next(at))
	}

	for _, tc := range []struct {
		line, col int
		src, want string
	}{
		{4, 17, "    max_memory: lots", "not a size"},
		{4, 15, `    schedule: "61 * * * *"`, "not a schedule"},
		{4, 21, "    watch: {paths: [\"a**\"]}", `"**" must be a whole path part`},
		{4, 12, "    watch: {ignore: [x]}", "no paths"},
		{4, 5, "    restart: always\n    schedule: \"@daily\"", "restart: always cannot go with schedule"},
		{4, 13, "    watch: {path: [x]}", `unknown key "path" in watch (did you mean "paths"?)`},
	} {
		es := parseErrors(t, dir, api("    run: x", tc.src))
		if len(es) != 1 || es[0].Line != tc.line || es[0].Col != tc.col || !strings.Contains(es[0].Msg, tc.want) {
			t.Errorf("%s: got %v, want %d:%d %s", tc.src, es, tc.line, tc.col, tc.want)
		}
	}
}

// TestProcfileDotenv: a Procfile's processes get the .env beside it.
func TestProcfileDotenv(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".env"), "PORT=5000\n")
	f, err := Parse(filepath.Join(dir, "Procfile"), []byte("web: ./web --port ${PORT}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Specs[0]; !slices.Equal(s.Env, []string{"PORT=5000"}) || s.Shell != "./web --port 5000" {
		t.Errorf("Env %q, Shell %q", s.Env, s.Shell)
	}
}

// TestExpandVars: the one ${...} expansion, in both of its modes: a command
// (run:, the shell's but for our references) and a value (dotenv, env:,
// cwd:, where $$ is a literal '$' and a malformed ${ is an error).
func TestExpandVars(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": "", "B": "b"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	const fails = "\x00" // the value mode's want: an error
	for _, tc := range []struct {
		in, shell, value string
		msg              string // the value mode's error, when it fails
	}{
		{in: "plain", shell: "plain", value: "plain"},
		{in: "$$", shell: "$$", value: "$"},
		{in: "pid $$ and $${SET}", shell: "pid $$ and $${SET}", value: "pid $ and ${SET}"},
		{in: "a bare $", shell: "a bare $", value: "a bare $"},
		{in: "$", shell: "$", value: "$"},
		{in: "$ x $1 $SET", shell: "$ x $1 $SET", value: "$ x $1 $SET"},
		{in: "${SET}/${B}", shell: "v/b", value: "v/b"},
		{in: "${UNSET}", shell: "${UNSET}", value: "${UNSET}"},
		{in: "[${UNSET:-}]", shell: "[]", value: "[]"},
		{in: "[${EMPTY}] [${EMPTY:-d}]", shell: "[] [d]", value: "[] [d]"},
		{in: "${SET:-d}", shell: "v", value: "v"},
		{in: "${UNSET:-${B}}", shell: "b", value: "b"},
		{in: "${UNSET:-${NOPE:-deep}}!", shell: "deep!", value: "deep!"},
		{in: "${SET:-${B}}", shell: "v", value: "v"},
		{in: "${UNSET:-x}}", shell: "x}", value: "x}"},
		{in: "${UNSET:-a $$ b}", shell: "a $$ b", value: "a $ b"},
		{in: "ab${SET", shell: "ab${SET", value: fails, msg: "unterminated ${ at byte 3"},
		{in: "${UNSET:-${B}", shell: "${UNSET:-${B}", value: fails, msg: "unterminated ${ at byte 1"},
		{in: "${#arr[@]} ${x%%.*}", shell: "${#arr[@]} ${x%%.*}", value: fails, msg: "invalid variable reference ${#arr[@]}"},
		{in: "${}", shell: "${}", value: fails, msg: "invalid variable reference ${}"},
		{in: "${UNSET:-${bad-x}}", shell: "${bad-x}", value: fails, msg: "invalid variable reference ${bad-x}"},
		{in: "${UNSET:-${B", shell: "${UNSET:-${B", value: fails, msg: "unterminated ${ at byte 1"},
		{in: "x${U:-ab${B", shell: "x${U:-ab${B", value: fails, msg: "unterminated ${ at byte 2"},
	} {
		if got, msg := expandVars(tc.in, lookup, true); got != tc.shell || msg != "" {
			t.Errorf("command %q = %q (%q), want %q", tc.in, got, msg, tc.shell)
		}
		got, msg := expandVars(tc.in, lookup, false)
		if tc.value == fails {
			if !strings.HasPrefix(msg, tc.msg) || got != "" {
				t.Errorf("value %q = %q, error %q; want the error %q", tc.in, got, msg, tc.msg)
			}
			continue
		}
		if got != tc.value || msg != "" {
			t.Errorf("value %q = %q (%q), want %q", tc.in, got, msg, tc.value)
		}
	}
}
