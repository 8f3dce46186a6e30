package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// processKeys lists the settings a process may have, in the order the docs
// present them; unknown-key messages offer them as suggestions.
func processKeys() []string {
	return []string{
		"run", "cwd", "env", "restart", "stop_signal", "stop_timeout", "ipc", "ipc_max_line", "tty",
		"log_buffer", "min_uptime", "max_restarts", "backoff", "backoff_max", "disabled",
		"depends_on",
		"env_file", "max_memory", "schedule", "watch",
		"ready", "liveness", "watchdog",
	}
}

// keyAlias maps names other tools use for a setting (pm2, Docker Compose,
// supervisord) to kelpie's, because those are mistakes edit distance alone
// would not catch.
func keyAlias(key string) string {
	switch strings.ToLower(key) {
	case "cmd", "command", "exec", "script", "args", "argv":
		return "run"
	case "dir", "workdir", "working_dir", "chdir", "directory":
		return "cwd"
	case "environment", "envs", "vars":
		return "env"
	case "autorestart", "restart_policy":
		return "restart"
	case "signal", "kill_signal", "stopsignal":
		return "stop_signal"
	case "timeout", "kill_timeout", "stop_grace_period":
		return "stop_timeout"
	case "apps", "services", "procs", "programs":
		return "processes"
	case "pty", "is_tty", "interactive", "is_interactive":
		return "tty"
	}
	return ""
}

// didYouMean returns " (did you mean "X"?)" for an unknown key close to one
// of known, or "" when nothing fits.
func didYouMean(key string, known []string) string {
	m := keyAlias(key)
	found := false
	for _, k := range known {
		found = found || k == m
	}
	if !found {
		m = suggest(key, known)
	}
	if m == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", m)
}

// pair is one key/value entry of a YAML mapping.
type pair struct{ key, val *yaml.Node }

// yamlChecker walks a kelpie.yaml node tree. Walking nodes by hand, rather
// than decoding into structs, is what gives every message an exact position
// and lets one pass report every problem instead of stopping at the first.
type yamlChecker struct {
	rep      *reporter
	dir      string          // absolute directory of the config file
	clusters []procs.Cluster // what clusters: defines, in file order
	deps     []depRef        // every depends_on entry, checked once all names are known
	noDotenv bool            // top-level dotenv: false
	logs     Logs            // top-level log_dir:, log_max_size:, log_max_files:
	dotenvs  map[string]*loadedDotenv
}

// parseYAML checks a kelpie.yaml file and returns its specs and clusters,
// recording every problem in rep.
func parseYAML(rep *reporter, dir string, data []byte) ([]procs.Spec, []procs.Cluster, Logs) {
	c := &yamlChecker{rep: rep, dir: dir}
	specs := c.parse(data)
	return specs, c.clusters, c.logs
}

// parse checks the file's one document and returns its specs.
func (c *yamlChecker) parse(data []byte) []procs.Spec {
	rep := c.rep
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			rep.at(1, 1, "file is empty: expected a \"processes:\" mapping")
		} else {
			c.syntaxError(err, data)
		}
		return nil
	}
	// yaml.v3 reads one document per Decode; a second one would otherwise be
	// ignored without a word, along with every process in it.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		rep.at(extra.Line, extra.Column, "a second YAML document starts here; the config must hold exactly one")
	} else if !errors.Is(err, io.EOF) {
		c.syntaxError(err, data)
	}

	root := deref(&doc)
	if len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	switch {
	case root.Kind == yaml.DocumentNode || isNull(root):
		rep.at(1, 1, "file is empty: expected a \"processes:\" mapping")
		return nil
	case root.Kind != yaml.MappingNode:
		c.at(root, "the top level must be a mapping with a \"processes:\" key, got %s", describe(root))
		return nil
	}
	return c.top(root)
}

// syntaxError records a yaml.v3 parse error at the offending character.
// yaml.v3 puts only a line in its message, and for parser errors that is the
// line where the enclosing block began (a bad indent on line 13 comes out as
// line 2), so the position is found again by locateProblem.
func (c *yamlChecker) syntaxError(err error, data []byte) {
	msg := problemText(err)
	// Unknown anchors carry no position at all and are found by searching.
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		l, col := find(data, "*"+name)
		c.rep.at(l, col, "invalid YAML: unknown anchor %q (define it with &%s before using *%s)", name, name, name)
		return
	}
	off := locateProblem(data, msg)
	// An unclosed flow collection is noticed only after its last item; the
	// missing bracket belongs to the one opened before, so point there.
	switch msg {
	case "did not find expected ',' or ']'":
		off = opener(data, off, '[', ']')
		msg += " (a [ list opened here is not closed)"
	case "did not find expected ',' or '}'":
		off = opener(data, off, '{', '}')
		msg += " (a { mapping opened here is not closed)"
	case "did not find expected key":
		msg += " (check this line's indentation against the keys above it)"
	case "mapping values are not allowed in this context":
		msg += " (quote the value if this ':' belongs to it, or check the indentation)"
	}
	if off < len(data) {
		switch {
		case data[off] == '\t' && (strings.Contains(msg, "cannot start any token") || strings.Contains(msg, "tab character")):
			msg += " (YAML does not allow tabs for indentation; use spaces)"
		case (data[off] == '"' || data[off] == '\'') && msg == "found unexpected end of stream":
			msg += " (a quoted string opened here is not closed)"
		}
	}
	line, col := position(data, off)
	c.rep.at(line, col, "invalid YAML: %s", msg)
}

// problemText is a yaml.v3 error's message without its "yaml: " and
// "line N: " prefixes.
func problemText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if _, err := strconv.Atoi(num); err == nil {
				return text
			}
		}
	}
	return msg
}

// yamlProblem parses every document in data and returns the first error's
// problemText, or "" if data parses.
func yamlProblem(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return ""
			}
			return problemText(err)
		}
	}
}

// locateProblem returns the byte offset of the character that makes data fail
// with problem: the parser reads the file front to back, so the shortest
// prefix that fails the same way ends with that character. A binary search
// finds it in a logarithmic number of parses (the empty prefix parses; the
// whole file fails).
func locateProblem(data []byte, problem string) int {
	lo, hi := 0, len(data)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if yamlProblem(data[:mid]) == problem {
			hi = mid
		} else {
			lo = mid
		}
	}
	return max(hi-1, 0)
}

// opener returns the offset of the unmatched open bracket before off, or off
// if there is none (brackets inside quotes are not told apart: a best guess
// for pointing at the right place).
func opener(data []byte, off int, open, close byte) int {
	depth := 0
	for i := min(off, len(data)-1); i >= 0; i-- {
		switch data[i] {
		case close:
			depth++
		case open:
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return off
}

// position turns a byte offset into a 1-based line and column (counted in
// characters), counting line breaks as YAML does (and so as the positions of
// nodes are counted): \n, \r\n, a lone \r, NEL, LS and PS.
func position(data []byte, off int) (int, int) {
	off = min(off, len(data))
	// A prefix cut inside a character fails there: point at the character.
	for off > 0 && off < len(data) && !utf8.RuneStart(data[off]) {
		off--
	}
	line, start := 1, 0
	for i := 0; i < off; {
		r, n := utf8.DecodeRune(data[i:])
		if n == 1 && r == utf8.RuneError {
			r = 0
		}
		switch {
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
			n = 2
			fallthrough
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			// (off may fall inside a \r\n: then it is on the next line.)
			line, start = line+1, min(i+n, off)
		}
		i += n
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

// find returns the 1-based line and column of the first occurrence of s in
// data, or 0, 0 if there is none.
func find(data []byte, s string) (int, int) {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0, 0
	}
	return position(data, i)
}

// at records a problem at n's position.
func (c *yamlChecker) at(n *yaml.Node, format string, args ...any) {
	c.rep.at(n.Line, n.Column, format, args...)
}

// top checks the top-level mapping and returns the specs it defines.
func (c *yamlChecker) top(root *yaml.Node) []procs.Spec {
	var procsKey, procsVal, workersKey, workersVal, clustersKey, clustersVal *yaml.Node
	var unknown []*yaml.Node
	for _, p := range c.entries(root) {
		key, ok := c.key(p.key)
		switch {
		case !ok:
		case key == "processes":
			if procsKey != nil {
				c.at(p.key, "duplicate key \"processes\" (first at %d:%d)", procsKey.Line, procsKey.Column)
				continue
			}
			procsKey, procsVal = p.key, p.val
		case key == "workers":
			if workersKey != nil {
				c.at(p.key, "duplicate key \"workers\" (first at %d:%d)", workersKey.Line, workersKey.Column)
				continue
			}
			workersKey, workersVal = p.key, p.val
		case key == "clusters":
			if clustersKey != nil {
				c.at(p.key, "duplicate key \"clusters\" (first at %d:%d)", clustersKey.Line, clustersKey.Column)
				continue
			}
			clustersKey, clustersVal = p.key, p.val
		case key == "dotenv":
			c.dotenvSetting(p.val)
		case key == "log_dir" || key == "log_max_size" || key == "log_max_files":
			c.logSetting(key, p.val)
		case strings.HasPrefix(key, "x-"):
			// Extension keys are ignored so files have somewhere to keep
			// anchors (&defaults) shared between processes.
		default:
			unknown = append(unknown, p.key)
		}
	}
	if procsKey == nil && workersKey == nil && clustersKey == nil && looksLikeProcfile(root) {
		// Every key would be "unknown"; one message saying why helps more.
		c.at(root, "missing \"processes:\" mapping (this looks like a Procfile; name the file Procfile or NAME.procfile)")
		return nil
	}
	for _, k := range unknown {
		key := deref(k).Value
		hint := didYouMean(key, append([]string{"processes", "workers", "clusters", "dotenv"}, logKeys()...))
		if hint == "" {
			hint = " (the top level holds \"processes:\", \"workers:\", \"clusters:\", \"dotenv:\", \"log_dir:\", \"log_max_size:\", \"log_max_files:\" and x-* keys for shared anchors)"
		}
		c.at(k, "unknown top-level key %q%s", key, hint)
	}
	first := map[string]*yaml.Node{}
	if procsKey == nil && workersKey == nil && clustersKey == nil {
		c.at(root, "missing \"processes:\" mapping (or \"workers:\", \"clusters:\")")
		return nil
	}
	var specs []procs.Spec
	if procsKey != nil {
		specs = c.processes(procsKey, procsVal, first)
	}
	if workersKey != nil {
		specs = append(specs, c.workers(workersKey, workersVal, first)...)
	}
	if clustersKey != nil {
		c.clusters = c.clusterDefs(clustersKey, clustersVal, first)
	}
	c.checkDependencies(first)
	return specs
}

// processes checks the processes: mapping; first records every name, so
// that workers' and clusters' names are checked against them.
func (c *yamlChecker) processes(procsKey, procsVal *yaml.Node, first map[string]*yaml.Node) []procs.Spec {
	var specs []procs.Spec
	c.section("process", procsKey, procsVal, first, "processes is empty: define at least one process",
		func(name string, nameNode, body *yaml.Node, good bool) {
			// The body is checked even when the name is bad, so its problems
			// are reported in the same pass.
			if spec, ok := c.process(name, nameNode, body); ok && good {
				specs = append(specs, spec)
			}
		})
	return specs
}

// section walks one of the processes:, workers: and clusters: mappings. It
// reports an empty or malformed section, a name used twice (names are unique
// across the three: first holds every name seen so far) and a badly formed
// name, then calls each for every entry, saying whether its name was good.
func (c *yamlChecker) section(what string, key, val *yaml.Node, first map[string]*yaml.Node, empty string,
	each func(name string, nameNode, body *yaml.Node, good bool)) {
	v := deref(val)
	switch {
	case isNull(v):
		c.at(key, "%s", empty)
		return
	case v.Kind != yaml.MappingNode:
		c.at(val, "%s must be a mapping of name: settings, got %s", deref(key).Value, describe(v))
		return
	}
	entries := c.entries(v)
	if len(entries) == 0 {
		c.at(val, "%s", empty)
		return
	}
	for _, p := range entries {
		name, ok := c.key(p.key)
		if !ok {
			continue
		}
		good := true
		switch prev, dup := first[name]; {
		case dup && what == "process":
			c.at(p.key, "duplicate process %q (first defined at %d:%d)", name, prev.Line, prev.Column)
			good = false
		case dup:
			c.at(p.key, "duplicate name %q (first defined at %d:%d; processes, workers and clusters share one set of names)", name, prev.Line, prev.Column)
			good = false
		default:
			first[name] = p.key
		}
		if msg := checkName(name); msg != "" {
			c.at(p.key, "%s", strings.Replace(msg, "process name", what+" name", 1))
			good = false
		}
		each(name, p.key, p.val, good)
	}
}

// looksLikeProcfile reports whether every top-level value is a plain string,
// the shape a Procfile takes when read as YAML.
func looksLikeProcfile(root *yaml.Node) bool {
	for i := 1; i < len(root.Content); i += 2 {
		if v := deref(root.Content[i]); v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
			return false
		}
	}
	return len(root.Content) > 0
}

// process checks one process's settings and builds its spec. ok is false if
// anything was wrong.
func (c *yamlChecker) process(name string, nameNode, body *yaml.Node) (procs.Spec, bool) {
	return c.unitBody("process", name, nameNode, body, processKeys(), nil)
}

// unitBody checks a process's (or a cluster's) settings: what names the
// kind in messages, known lists its keys for suggestions, and extra (if
// set) reads the keys only that kind has, reporting whether it knew key.
func (c *yamlChecker) unitBody(what, name string, nameNode, body *yaml.Node, known []string,
	extra func(key string, raw, v *yaml.Node) bool) (procs.Spec, bool) {
	spec := procs.Spec{Name: name, Kind: procs.KindProcess, Dir: c.dir}
	errs := len(c.rep.errs)
	b := deref(body)
	switch {
	case isNull(b):
		c.at(nameNode, "%s %q has no \"run:\" command", what, name)
		return spec, false
	case b.Kind != yaml.MappingNode:
		c.at(body, "%s %q must be a mapping of settings (run:, restart:, ...), got %s", what, name, describe(b))
		return spec, false
	}
	seen := map[string]*yaml.Node{}
	var lc lifecycle
	var st unitEnv
	for _, p := range c.entries(b) {
		key, ok := c.key(p.key)
		if !ok {
			continue
		}
		if prev, dup := seen[key]; dup {
			c.at(p.key, "duplicate key %q in %s %q (first at %d:%d)", key, what, name, prev.Line, prev.Column)
			continue
		}
		seen[key] = p.key
		v := deref(p.val)
		switch key {
		case "run":
			c.run(&spec, p.val, v)
			st.runNode = p.val
		case "cwd":
			if s, ok := c.scalar(key, p.val, v, "a directory path"); ok {
				if strings.Contains(s, "${") {
					st.cwdNode, st.cwd = p.val, s // checked once expanded
				} else {
					c.cwd(&spec, p.val, s)
				}
			}
		case "env":
			c.env(&spec, p.val, v)
			st.envNode = p.val
		case "stop_signal":
			if s, ok := c.scalar(key, p.val, v, "a signal name or number"); ok {
				sig, msg := parseSignal(s)
				c.check(p.val, msg)
				spec.StopSignal = sig
			}
		case "ipc_max_line":
			if s, ok := c.scalar(key, p.val, v, "a size like 16MiB"); ok {
				n, msg := parseSize(key, s, minIPCLine, maxIPCLine)
				c.check(p.val, msg)
				spec.IPCMaxLine = n
			}
		case "ipc":
			spec.IPC = c.bool(key, p.val, v)
		case "tty":
			if spec.TTY = c.bool(key, p.val, v); spec.TTY && what != "process" {
				c.at(p.key, "tty: a %s's members serve connections, not a terminal (tty is for single processes)", what)
			}
		case "ready":
			if spec.Ready = c.probe(key, p.val, v); spec.Ready != nil && spec.Ready.Kind == procs.ProbeMessage {
				spec.IPC = true // the message comes on the unit's channel
			}
		case "liveness":
			spec.Liveness = c.probe(key, p.val, v)
		case "watchdog":
			c.watchdog(&spec, p.val, v)
		default:
			if c.lifecycleKey(&spec, &lc, key, p.val, v) {
				continue
			}
			if c.stackKey(&spec, &st, key, p.val, v) {
				continue
			}
			if extra != nil && extra(key, p.val, v) {
				continue
			}
			hint := didYouMean(key, known)
			if hint == "" {
				hint = " (known keys: " + strings.Join(known, ", ") + ")"
			}
			c.at(p.key, "unknown key %q in %s %q%s", key, what, name, hint)
		}
	}
	if seen["run"] == nil {
		c.at(nameNode, "%s %q has no \"run:\" command", what, name)
	}
	c.checkBackoff(&spec, lc.backoff, lc.backoffMax)
	c.finishEnv(&spec, &st)
	c.checkSchedule(&spec, seen)
	if spec.IPC {
		spec.Kind = procs.KindFork
	}
	return spec, len(c.rep.errs) == errs
}

// run reads the command: a string runs under the shell, a list is exec'd
// directly.
func (c *yamlChecker) run(spec *procs.Spec, raw, v *yaml.Node) {
	switch {
	case isNull(v):
		c.at(raw, "run: command is empty")
	case v.Kind == yaml.ScalarNode:
		if v.ShortTag() != "!!str" {
			c.at(raw, "run: want a command string or a list, got %s (quote it: %q)", describe(v), v.Value)
			return
		}
		if strings.TrimSpace(v.Value) == "" {
			c.at(raw, "run: command is empty")
			return
		}
		spec.Shell = v.Value
	case v.Kind == yaml.SequenceNode:
		if len(v.Content) == 0 {
			c.at(raw, "run: argument list is empty")
			return
		}
		argv := make([]string, 0, len(v.Content))
		for i, el := range v.Content {
			e := deref(el)
			switch {
			case e.Kind != yaml.ScalarNode || isNull(e):
				c.at(el, "run[%d]: want a string, got %s", i, describe(e))
			case e.ShortTag() != "!!str":
				c.at(el, "run[%d]: want a string, got %s (quote it: %q)", i, describe(e), e.Value)
			case i == 0 && e.Value == "":
				c.at(el, "run[0]: program name is empty")
			default:
				argv = append(argv, e.Value)
			}
		}
		spec.Argv = argv
	default:
		c.at(raw, "run: want a command string or a list of arguments, got %s", describe(v))
	}
}

// cwd resolves the working directory against the config file's directory
// and checks it now, since a missing directory would otherwise only show up
// as a start failure, without a file position.
func (c *yamlChecker) cwd(spec *procs.Spec, raw *yaml.Node, s string) {
	if s == "" {
		c.at(raw, "cwd: path is empty")
		return
	}
	dir := s
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(c.dir, dir)
	}
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.at(raw, "cwd: directory %s does not exist", dir)
	case err != nil:
		c.at(raw, "cwd: %v", err)
	case !fi.IsDir():
		c.at(raw, "cwd: %s is not a directory", dir)
	default:
		spec.Dir = dir
	}
}

// env reads the extra environment as KEY=VALUE pairs in file order, so that
// the order a user sees in `kelpie ps` matches what they wrote.
func (c *yamlChecker) env(spec *procs.Spec, raw, v *yaml.Node) {
	switch {
	case isNull(v):
		return
	case v.Kind != yaml.MappingNode:
		c.at(raw, "env: want a mapping of NAME: value, got %s", describe(v))
		return
	}
	seen := map[string]*yaml.Node{}
	for _, p := range c.entries(v) {
		key, ok := c.key(p.key)
		if !ok {
			continue
		}
		if prev, dup := seen[key]; dup {
			c.at(p.key, "duplicate env var %q (first at %d:%d)", key, prev.Line, prev.Column)
			continue
		}
		seen[key] = p.key
		if !isEnvName(key) {
			c.at(p.key, "env: invalid variable name %q (use letters, digits and '_', not starting with a digit)", key)
			continue
		}
		val := deref(p.val)
		switch {
		case isNull(val):
			// An empty value sets the variable to the empty string.
			spec.Env = append(spec.Env, key+"=")
		case val.Kind != yaml.ScalarNode:
			c.at(p.val, "env %s: want a string, number or boolean, got %s", key, describe(val))
		default:
			// Value is the text as written, so 010 stays 010 and 1e3 stays 1e3.
			spec.Env = append(spec.Env, key+"="+val.Value)
		}
	}
}

// restart reads the restart policy.
func (c *yamlChecker) restart(spec *procs.Spec, raw *yaml.Node, s string) {
	for _, p := range restartPolicies() {
		if s == p {
			spec.Restart = procs.RestartPolicy(p)
			return
		}
	}
	hint := ""
	if m := suggest(s, restartPolicies()); m != "" {
		hint = fmt.Sprintf("; did you mean %q?", m)
	}
	c.at(raw, "restart: %q is not a restart policy (want never, on-failure or always%s)", s, hint)
}

// maxRestarts reads the crash-loop limit. Only -1 is allowed below zero so
// that a stray minus sign is caught rather than read as "never park".
func (c *yamlChecker) maxRestarts(spec *procs.Spec, raw *yaml.Node, s string) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(s), "-"):
		c.at(raw, "max_restarts: %s is too large (maximum %d; use -1 to never park)", strings.TrimSpace(s), maxMaxRestarts)
	case err != nil:
		c.at(raw, "max_restarts: want a whole number, got %q", s)
	case n < -1:
		c.at(raw, "max_restarts: want -1 (never park), 0 (default) or a positive count, got %d", n)
	case n > maxMaxRestarts:
		c.at(raw, "max_restarts: %d is too large (maximum %d; use -1 to never park)", n, maxMaxRestarts)
	default:
		spec.MaxRestarts = n
	}
}

// lifecycle holds what a unit's lifecycle keys leave for checks made once
// all its keys are read.
type lifecycle struct{ backoff, backoffMax *yaml.Node }

// lifecycleKey reads one of the keys every kind of unit takes (restart,
// stops, backoff, log buffer, dependencies) and reports whether key was one.
func (c *yamlChecker) lifecycleKey(spec *procs.Spec, lc *lifecycle, key string, raw, v *yaml.Node) bool {
	switch key {
	case "restart":
		if s, ok := c.scalar(key, raw, v, "never, on-failure or always"); ok {
			c.restart(spec, raw, s)
		}
	case "stop_timeout":
		spec.StopTimeout = c.duration(key, raw, v, maxStopTimeout)
	case "min_uptime":
		spec.MinUptime = c.duration(key, raw, v, maxMinUptime)
	case "backoff":
		spec.BackoffInitial = c.duration(key, raw, v, maxBackoff)
		lc.backoff = raw
	case "backoff_max":
		spec.BackoffMax = c.duration(key, raw, v, maxBackoffMax)
		lc.backoffMax = raw
	case "log_buffer":
		if s, ok := c.scalar(key, raw, v, "a size like 1MiB"); ok {
			n, msg := parseSize(key, s, minLogBuffer, maxLogBuffer)
			c.check(raw, msg)
			spec.LogBuffer = n
		}
	case "max_restarts":
		if s, ok := c.scalar(key, raw, v, "a whole number"); ok {
			c.maxRestarts(spec, raw, s)
		}
	case "disabled":
		spec.Disabled = c.bool(key, raw, v)
	case "depends_on":
		c.dependsOn(spec, raw, v)
	default:
		return false
	}
	return true
}

// checkBackoff makes sure the restart delay cap is not below the first delay,
// counting a setting left out at its default.
func (c *yamlChecker) checkBackoff(spec *procs.Spec, backoff, backoffMax *yaml.Node) {
	if backoffMax == nil || spec.BackoffMax == 0 {
		return
	}
	switch {
	case backoff != nil && spec.BackoffInitial > 0 && spec.BackoffMax < spec.BackoffInitial:
		c.at(backoffMax, "backoff_max (%s) is less than backoff (%s)", spec.BackoffMax, spec.BackoffInitial)
	case backoff == nil && spec.BackoffMax < procs.DefaultBackoffInitial:
		c.at(backoffMax, "backoff_max (%s) is less than the default backoff (%s)", spec.BackoffMax, procs.DefaultBackoffInitial)
	}
}

// duration reads a positive duration up to maximum; it returns 0 (the
// default) if the value is left empty or wrong.
func (c *yamlChecker) duration(key string, raw, v *yaml.Node, maximum time.Duration) time.Duration {
	s, ok := c.scalar(key, raw, v, "a duration like 5s")
	if !ok {
		return 0
	}
	d, msg := parseDuration(key, s, maximum)
	c.check(raw, msg)
	return d
}

// bool reads true or false. Only YAML's own booleans are accepted: a quoted
// "true" or a yes/no is more likely a mistake than a choice.
func (c *yamlChecker) bool(key string, raw, v *yaml.Node) bool {
	switch {
	case isNull(v):
		return false
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool":
		return strings.EqualFold(v.Value, "true")
	case v.Kind == yaml.ScalarNode:
		c.at(raw, "%s: want true or false, got %q", key, v.Value)
	default:
		c.at(raw, "%s: want true or false, got %s", key, describe(v))
	}
	return false
}

// scalar returns a scalar setting's text. ok is false if the value is empty
// (meaning "use the default") or not a scalar (which is reported).
func (c *yamlChecker) scalar(key string, raw, v *yaml.Node, want string) (string, bool) {
	switch {
	case isNull(v):
		return "", false
	case v.Kind != yaml.ScalarNode:
		c.at(raw, "%s: want %s, got %s", key, want, describe(v))
		return "", false
	}
	return v.Value, true
}

// check records msg at n unless it is empty, for helpers that return a
// message instead of reporting.
func (c *yamlChecker) check(n *yaml.Node, msg string) {
	if msg != "" {
		c.at(n, "%s", msg)
	}
}

// key returns a mapping key's text; a key that is not a plain scalar (YAML
// allows lists as keys) is reported and ok is false.
func (c *yamlChecker) key(n *yaml.Node) (string, bool) {
	k := deref(n)
	if k.Kind != yaml.ScalarNode {
		c.at(n, "keys must be plain names, got %s", describe(k))
		return "", false
	}
	return k.Value, true
}

// entries returns m's key/value pairs in file order with YAML merge keys
// (<<: *anchor) expanded in place. Following YAML's merge rules, keys written
// in a mapping win over merged ones, and earlier merge sources win over later
// ones. Every merge source is expanded at most once, which both drops
// repeats and keeps a self-referencing anchor from looping forever.
func (c *yamlChecker) entries(m *yaml.Node) []pair {
	var out []pair
	taken := map[string]bool{}
	expanded := map[*yaml.Node]bool{m: true}
	var walk func(m *yaml.Node, shadow map[string]bool, top bool)
	walk = func(m *yaml.Node, shadow map[string]bool, top bool) {
		// Keys written in this mapping hide same-named keys in its merges,
		// as do those of the mappings that merged it.
		own := make(map[string]bool, len(shadow)+len(m.Content)/2)
		for k := range shadow {
			own[k] = true
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := deref(m.Content[i]); !isMerge(k) && k.Kind == yaml.ScalarNode {
				own[k.Value] = true
			}
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if !isMerge(deref(k)) {
				kd := deref(k)
				// The top mapping keeps repeated keys so callers can report
				// them; merged mappings just contribute their first.
				if top || kd.Kind != yaml.ScalarNode || (!taken[kd.Value] && !shadow[kd.Value]) {
					out = append(out, pair{k, v})
					if kd.Kind == yaml.ScalarNode {
						taken[kd.Value] = true
					}
				}
				continue
			}
			srcs := []*yaml.Node{v}
			if dv := deref(v); dv.Kind == yaml.SequenceNode {
				srcs = dv.Content
			}
			for _, src := range srcs {
				s := deref(src)
				if s.Kind != yaml.MappingNode {
					c.at(src, "merge (<<) wants a mapping or a list of mappings, got %s", describe(s))
					continue
				}
				if expanded[s] {
					continue
				}
				expanded[s] = true
				walk(s, own, false)
			}
		}
	}
	walk(m, nil, true)
	return out
}

// isMerge reports whether n is the YAML merge key <<.
func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!merge"
}

// deref follows aliases to the node they name. yaml.v3 resolves each alias
// to its anchor while parsing; the bound only guards against a malformed
// tree.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty value (nothing, ~ or null).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's type for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing"
		default:
			return "a " + strings.TrimPrefix(n.ShortTag(), "!!")
		}
	}
	return "an unexpected value"
}
