package config

import (
	"strings"
	"unicode/utf8"

	"github.com/kelpie-dev/kelpie/procs"
)

// parseProcfile reads a Procfile: one "name: command" per line, with blank
// lines and # comments ignored. Commands run under the shell, as foreman and
// its kin run them, in the Procfile's directory.
func parseProcfile(rep *reporter, dir string, data []byte) []procs.Spec {
	text := strings.TrimPrefix(string(data), "\ufeff") // editors on Windows add a BOM
	var specs []procs.Spec
	first := map[string][2]int{} // name -> line, col where it was defined
	sawEntry := false
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		body := strings.TrimLeft(line, " \t")
		if body == "" || strings.HasPrefix(body, "#") {
			continue
		}
		sawEntry = true
		// Columns count characters, like the YAML parser's.
		col := utf8.RuneCountInString(line[:len(line)-len(body)]) + 1
		name, cmd, ok := strings.Cut(body, ":")
		if !ok {
			rep.at(n, col, "expected \"name: command\", got %q", body)
			continue
		}
		name = strings.TrimRight(name, " \t")
		bad := false
		if msg := checkName(name); msg != "" {
			rep.at(n, col, "%s", msg)
			bad = true
		}
		if prev, dup := first[name]; dup {
			rep.at(n, col, "duplicate process %q (first defined at %d:%d)", name, prev[0], prev[1])
			bad = true
		} else {
			first[name] = [2]int{n, col}
		}
		command := strings.TrimSpace(cmd)
		if command == "" {
			// Point just past the colon, where the command should have been.
			rep.at(n, col+utf8.RuneCountInString(body[:len(body)-len(cmd)]), "process %q has an empty command", name)
			bad = true
		}
		if !bad {
			specs = append(specs, procs.Spec{Name: name, Kind: procs.KindProcess, Shell: command, Dir: dir})
		}
	}
	if !sawEntry {
		rep.at(1, 1, "no processes defined: expected lines of \"name: command\"")
	}
	return specs
}
