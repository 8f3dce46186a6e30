package config

import (
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	env := map[string]string{"HOME": "/home/k", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	data := strings.Join([]string{
		"# a comment",
		"",
		"PLAIN=value   # comment after a space",
		"export EXPORTED = spaced ",
		"SINGLE='literal ${HOME} $$ \\n'",
		`DOUBLE="a\nb \"q\" ${HOME}/x \$HOME"`,
		`MULTI="line one`,
		`line two"`,
		"REF=${PLAIN}-${UNSET:-dflt}-${EMPTY:-was empty}-${EMPTY}",
		"SHELL_VAR=for f in *; do echo ${f} $f; done",
		"DOLLARS=price $$5",
		"HASH=a#b",
		"CRLF=x\r",
	}, "\n")
	vars, errs := parseDotenv([]byte(data), lookup)
	if len(errs) != 0 {
		t.Fatalf("errors: %+v", errs)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.key] = v.val
	}
	want := map[string]string{
		"PLAIN":     "value",
		"EXPORTED":  "spaced",
		"SINGLE":    `literal ${HOME} $$ \n`,
		"DOUBLE":    "a\nb \"q\" /home/k/x $HOME",
		"MULTI":     "line one\nline two",
		"REF":       "value-dflt-was empty-",
		"SHELL_VAR": "for f in *; do echo ${f} $f; done",
		"DOLLARS":   "price $5",
		"HASH":      "a#b",
		"CRLF":      "x",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if len(vars) != len(want) {
		t.Errorf("%d vars, want %d: %+v", len(vars), len(want), vars)
	}
}

// Every problem of a dotenv file is reported, each at its line and column.
func TestParseDotenvErrors(t *testing.T) {
	data := strings.Join([]string{
		"OK=1",
		"no equals sign",
		"1BAD=x",
		"  Q='never closed",
		`R=${broken`,
		`S="x" trailing`,
		`T=${a-b}`,
		`U="never closed`,
		`more`,
	}, "\n")
	_, errs := parseDotenv([]byte(data), func(string) (string, bool) { return "", false })
	type at struct{ line, col int }
	want := map[at]string{
		{2, 1}: "expected KEY=VALUE",
		{3, 1}: "invalid variable name \"1BAD\"",
		{4, 5}: "unterminated single-quoted",
		{5, 3}: "unterminated ${",
		{6, 3}: "after the closing quote",
		{7, 3}: "invalid variable reference ${a-b}",
		{8, 3}: "unterminated double-quoted",
	}
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d: %+v", len(errs), len(want), errs)
	}
	for _, e := range errs {
		w, ok := want[at{e.line, e.col}]
		if !ok || !strings.Contains(e.msg, w) {
			t.Errorf("%d:%d %s (want %q there)", e.line, e.col, e.msg, w)
		}
	}
}
