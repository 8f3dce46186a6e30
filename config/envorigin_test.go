package config

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestEnvOrigins: a variable whose value came from a dotenv file or from
// this machine's environment is named with where it came from (an export
// writes the values into files and must say which they are), and so is one
// expanded into the command; one the config file sets itself, or
// overrides, is not.
func TestEnvOrigins(t *testing.T) {
	t.Setenv("KELPIE_TEST_TOKEN", "s3cret")
	dir := t.TempDir()
	dotenv := filepath.Join(dir, ".env")
	local := filepath.Join(dir, ".env.local")
	writeFile(t, dotenv, "DB_PASSWORD=hunter2\nWHO=dotenv\n")
	writeFile(t, local, "API_KEY=k\n")
	f := parseOK(t, dir, api(
		"    run: ./web --token ${KELPIE_TEST_TOKEN} --db ${DB_PASSWORD} --who ${WHO} ${KELPIE_TEST_UNSET}",
		"    env_file: [.env.local]",
		"    env:",
		"      WHO: unit",
		"      TOKEN: Bearer ${KELPIE_TEST_TOKEN}",
		"      DSN: pg://app:${DB_PASSWORD}@db/${WHO}",
		"      DEFAULTED: ${KELPIE_TEST_UNSET:-x}",
	))
	want := []EnvOrigin{
		{Unit: "api", Var: "DB_PASSWORD", From: dotenv},
		{Unit: "api", Var: "API_KEY", From: local},
		{Unit: "api", Var: "TOKEN", From: "this machine's environment (${KELPIE_TEST_TOKEN})"},
		{Unit: "api", Var: "DSN", From: dotenv},
		{Unit: "api", Var: "KELPIE_TEST_TOKEN", From: "this machine's environment (${KELPIE_TEST_TOKEN})", InCommand: true},
		{Unit: "api", Var: "DB_PASSWORD", From: dotenv, InCommand: true},
	}
	if !slices.Equal(f.EnvOrigins, want) {
		t.Errorf("EnvOrigins = %+v\nwant        %+v", f.EnvOrigins, want)
	}
}
