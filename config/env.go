package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// defaultDotenv is the dotenv file read beside the config unless the
// top-level "dotenv: false" turns it off.
const defaultDotenv = ".env"

// unitEnv is what a unit's body says about its environment, kept until the
// whole body is read: env_file may come after env, run or cwd, and those
// expand ${VAR} from everything the files and env set.
type unitEnv struct {
	files   []envFileRef // env_file:, in order
	runNode *yaml.Node   // run:, for expansion problems
	envNode *yaml.Node   // env:, for expansion problems
	cwdNode *yaml.Node   // a cwd: holding ${, checked once expanded
	cwd     string
}

// envFileRef is one file named by env_file:, with where it was named.
type envFileRef struct {
	path string // absolute
	node *yaml.Node
}

// loadedDotenv is one dotenv file read from disk (each is read once per
// config, however many units name it).
type loadedDotenv struct {
	data    []byte
	missing bool
	err     error // a read error other than "does not exist"
}

// envFiles reads env_file: a path or a list of paths, relative to the
// config file's directory.
func (c *yamlChecker) envFiles(st *unitEnv, raw, v *yaml.Node) {
	add := func(n *yaml.Node, i int) {
		d := deref(n)
		where := "env_file"
		if i >= 0 {
			where = fmt.Sprintf("env_file[%d]", i)
		}
		if d.Kind != yaml.ScalarNode || isNull(d) || d.Value == "" {
			c.at(n, "%s: want a file path, got %s", where, describe(d))
			return
		}
		p := d.Value
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.dir, p)
		}
		st.files = append(st.files, envFileRef{path: filepath.Clean(p), node: n})
	}
	switch {
	case isNull(v):
	case v.Kind == yaml.SequenceNode:
		for i, el := range v.Content {
			add(el, i)
		}
	default:
		add(raw, -1)
	}
}

// readDotenv returns path's content, read once per config.
func (c *yamlChecker) readDotenv(path string) *loadedDotenv {
	if f, ok := c.dotenvs[path]; ok {
		return f
	}
	f := &loadedDotenv{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.missing = true
	case err != nil:
		f.err = err
	default:
		f.data = data
	}
	if c.dotenvs == nil {
		c.dotenvs = map[string]*loadedDotenv{}
	}
	c.dotenvs[path] = f
	return f
}

// dotenvProblem records a problem found in a dotenv file, at its own file,
// line and column.
func (c *yamlChecker) dotenvProblem(path string, line, col int, msg string) {
	c.rep.errs = append(c.rep.errs, &Error{File: path, Line: line, Col: col, Msg: msg})
}

// finishEnv builds the unit's environment once its body is read: the
// default .env (unless turned off), then each env_file in order, then the
// unit's env, later ones winning; ${VAR} and ${VAR:-default} in env values,
// cwd and run expand from kelpie's own environment overlaid with those.
func (c *yamlChecker) finishEnv(spec *procs.Spec, st *unitEnv) {
	set := map[string]string{}
	from := map[string]string{} // where a value from outside the config came from
	var order []string
	put := func(k, v, origin string) {
		if _, ok := set[k]; !ok {
			order = append(order, k)
		}
		set[k] = v
		from[k] = origin
	}
	// What the expansion in progress read from outside the config.
	type read struct{ name, from string }
	var used []read
	lookup := func(k string) (string, bool) {
		if v, ok := set[k]; ok {
			if from[k] != "" {
				used = append(used, read{k, from[k]})
			}
			return v, true
		}
		v, ok := os.LookupEnv(k)
		if ok {
			used = append(used, read{k, "this machine's environment (${" + k + "})"})
		}
		return v, ok
	}
	files := st.files
	if !c.noDotenv {
		def := filepath.Join(c.dir, defaultDotenv)
		if f := c.readDotenv(def); !f.missing {
			files = append([]envFileRef{{path: def}}, files...)
		}
	}
	for _, ref := range files {
		f := c.readDotenv(ref.path)
		switch {
		case f.missing:
			c.at(ref.node, "env_file: %s does not exist", ref.path)
			continue
		case f.err != nil:
			msg := f.err.Error()
			if pe, ok := errors.AsType[*fs.PathError](f.err); ok {
				msg = pe.Err.Error()
			}
			if ref.node != nil {
				c.at(ref.node, "env_file: cannot read %s: %s", ref.path, msg)
			} else {
				c.dotenvProblem(ref.path, 0, 0, "cannot read: "+msg)
			}
			continue
		}
		vars, errs := parseDotenv(f.data, lookup)
		for _, e := range errs {
			c.dotenvProblem(ref.path, e.line, e.col, e.msg)
		}
		for _, v := range vars {
			put(v.key, v.val, ref.path)
		}
	}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		used = used[:0]
		x, msg := expandVars(v, lookup, false)
		if msg != "" {
			c.at(st.envNode, "env %s: %s", k, msg)
			continue
		}
		var froms []string
		for _, r := range used {
			if !slices.Contains(froms, r.from) {
				froms = append(froms, r.from)
			}
		}
		put(k, x, strings.Join(froms, ", "))
	}
	if len(order) > 0 {
		env := make([]string, 0, len(order))
		for _, k := range order {
			env = append(env, k+"="+set[k])
			if from[k] != "" {
				c.rep.origins = append(c.rep.origins, EnvOrigin{Unit: spec.Name, Var: k, From: from[k]})
			}
		}
		spec.Env = env
	}
	if st.cwdNode != nil {
		if dir, msg := expandVars(st.cwd, lookup, false); msg != "" {
			c.at(st.cwdNode, "cwd: %s", msg)
		} else {
			c.cwd(spec, st.cwdNode, dir)
		}
	}
	// A command is the shell's but for our ${NAME}: it never fails.
	used = used[:0]
	spec.Shell, _ = expandVars(spec.Shell, lookup, true)
	for i, a := range spec.Argv {
		spec.Argv[i], _ = expandVars(a, lookup, true)
	}
	var seen []string
	for _, r := range used {
		if !slices.Contains(seen, r.name) {
			seen = append(seen, r.name)
			c.rep.origins = append(c.rep.origins, EnvOrigin{Unit: spec.Name, Var: r.name, From: r.from, InCommand: true})
		}
	}
}

// procfileDotenv gives a Procfile's processes the .env beside it, as foreman
// and overmind do (a Procfile has no env_file: or dotenv: key).
func procfileDotenv(rep *reporter, dir string, specs []procs.Spec) {
	c := &yamlChecker{rep: rep, dir: dir}
	for i := range specs {
		c.finishEnv(&specs[i], &unitEnv{})
	}
}
