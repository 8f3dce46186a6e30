package config

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// depRef is one depends_on entry, kept with its position until every name
// in the file is known (a dependency may be defined after its dependent).
type depRef struct {
	from, name string
	node       *yaml.Node
}

// dependsOn reads depends_on: a mapping of names to conditions
// ({db: ready}), or a list of names (or one name) that must be started.
func (c *yamlChecker) dependsOn(spec *procs.Spec, raw, v *yaml.Node) {
	seen := map[string]*yaml.Node{}
	add := func(nameNode *yaml.Node, name string, cond procs.Condition) {
		if prev, dup := seen[name]; dup {
			c.at(nameNode, "depends_on: %q is listed twice (first at %d:%d)", name, prev.Line, prev.Column)
			return
		}
		seen[name] = nameNode
		spec.DependsOn = append(spec.DependsOn, procs.Dependency{Name: name, Condition: cond})
		c.deps = append(c.deps, depRef{from: spec.Name, name: name, node: nameNode})
	}
	switch {
	case isNull(v):
		c.at(raw, "depends_on is empty: name the units this one needs, or leave the key out")
	case v.Kind == yaml.ScalarNode:
		add(raw, v.Value, procs.CondStarted)
	case v.Kind == yaml.SequenceNode:
		for i, el := range v.Content {
			e := deref(el)
			if e.Kind != yaml.ScalarNode || isNull(e) {
				c.at(el, "depends_on[%d]: want a unit name, got %s", i, describe(e))
				continue
			}
			add(el, e.Value, procs.CondStarted)
		}
	case v.Kind == yaml.MappingNode:
		for _, p := range c.entries(v) {
			name, ok := c.key(p.key)
			if !ok {
				continue
			}
			if cond, ok := c.condition(name, p.val); ok {
				add(p.key, name, cond)
			}
		}
	default:
		c.at(raw, "depends_on: want a mapping of names to conditions ({db: ready}) or a list of names, got %s", describe(v))
	}
}

// condition reads one dependency's condition.
func (c *yamlChecker) condition(name string, raw *yaml.Node) (procs.Condition, bool) {
	want := strings.Join(procs.Conditions(), ", ")
	v := deref(raw)
	if v.Kind != yaml.ScalarNode || isNull(v) {
		c.at(raw, "depends_on %q: want a condition (%s), got %s", name, want, describe(v))
		return "", false
	}
	s := v.Value
	if slices.Contains(procs.Conditions(), s) {
		return procs.Condition(s), true
	}
	hint := ""
	if m := conditionAlias(s); m != "" {
		hint = " (did you mean \"" + m + "\"?)"
	} else if m := suggest(s, procs.Conditions()); m != "" {
		hint = " (did you mean \"" + m + "\"?)"
	}
	c.at(raw, "depends_on %q: unknown condition %q: want %s%s", name, s, want, hint)
	return "", false
}

// conditionAlias maps Docker Compose's condition names to kelpie's: people
// bring them along, and edit distance alone would not find these.
func conditionAlias(s string) string {
	switch strings.ToLower(s) {
	case "service_started", "running", "up":
		return string(procs.CondStarted)
	case "service_healthy", "healthy":
		return string(procs.CondReady)
	case "service_completed_successfully", "success", "succeeded":
		return string(procs.CondCompletedSuccessfully)
	case "exited", "done", "finished":
		return string(procs.CondCompleted)
	}
	return ""
}

// checkDependencies checks every depends_on entry once the whole file is
// read (names holds every process, worker group and cluster): unknown names,
// a unit depending on itself and dependency cycles are all reported, each
// at its entry, a cycle at the entry that starts it.
func (c *yamlChecker) checkDependencies(names map[string]*yaml.Node) {
	if len(c.deps) == 0 {
		return
	}
	known := make([]string, 0, len(names))
	for n := range names {
		known = append(known, n)
	}
	slices.Sort(known)
	graph := map[string][]depRef{}
	var froms []string
	for _, r := range c.deps {
		switch {
		case r.name == r.from:
			c.at(r.node, "depends_on: %q depends on itself", r.name)
		case names[r.name] == nil:
			hint := ""
			if m := suggest(r.name, known); m != "" {
				hint = " (did you mean \"" + m + "\"?)"
			}
			c.at(r.node, "depends_on: no process, worker or cluster is named %q%s", r.name, hint)
		default:
			if graph[r.from] == nil {
				froms = append(froms, r.from)
			}
			graph[r.from] = append(graph[r.from], r)
		}
	}
	// Depth-first search in file order; every edge back to a name on the
	// path closes a cycle, reported once.
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[string]int{}
	var path []depRef
	var visit func(n string)
	visit = func(n string) {
		mark[n] = onPath
		for _, r := range graph[n] {
			switch mark[r.name] {
			case unseen:
				path = append(path, r)
				visit(r.name)
				path = path[:len(path)-1]
			case onPath:
				i := slices.IndexFunc(path, func(p depRef) bool { return p.from == r.name })
				cycle := path[i:]
				words := make([]string, 0, len(cycle)+2)
				for _, p := range cycle {
					words = append(words, p.from)
				}
				words = append(words, n, r.name)
				c.at(cycle[0].node, "depends_on: dependency cycle %s", strings.Join(words, " -> "))
			}
		}
		mark[n] = done
	}
	for _, f := range froms {
		if mark[f] == unseen {
			visit(f)
		}
	}
}
