package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// maxWorkers bounds a group's count: each worker is a goroutine on an OS
// thread of its own, and a typo's extra zeros must not make a million.
const maxWorkers = 4096

// maxShared bounds a group's declared counters.
const maxShared = 64

// workerKeys lists the settings a worker group may have, in the order the
// docs present them.
func workerKeys() []string {
	return []string{
		"task", "args", "count", "shared", "restart", "stop_timeout", "log_buffer",
		"min_uptime", "max_restarts", "backoff", "backoff_max", "disabled", "depends_on",
	}
}

// workers checks the workers: mapping and returns every group's members as
// specs (GROUP/0 .. GROUP/N-1), after the processes. Names are unique across
// processes and workers: first holds the processes' names.
func (c *yamlChecker) workers(key, val *yaml.Node, first map[string]*yaml.Node) []procs.Spec {
	var specs []procs.Spec
	c.section("worker", key, val, first, "workers is empty: define at least one worker group, or leave the key out",
		func(name string, nameNode, body *yaml.Node, good bool) {
			spec, count, ok := c.workerGroup(name, nameNode, body)
			if !ok || !good {
				return
			}
			for i := range count {
				m := spec
				m.Name, m.Group = procs.MemberName(name, i), name
				specs = append(specs, m)
			}
		})
	return specs
}

// workerGroup checks one group's settings.
func (c *yamlChecker) workerGroup(name string, nameNode, body *yaml.Node) (procs.Spec, int, bool) {
	spec := procs.Spec{Name: name, Kind: procs.KindWorker, Dir: c.dir}
	count := 1
	errs := len(c.rep.errs)
	b := deref(body)
	switch {
	case isNull(b):
		c.at(nameNode, "worker %q has no \"task:\" (one of %s)", name, strings.Join(procs.TaskNames(), ", "))
		return spec, 0, false
	case b.Kind != yaml.MappingNode:
		c.at(body, "worker %q must be a mapping of settings (task:, count:, ...), got %s", name, describe(b))
		return spec, 0, false
	}
	seen := map[string]*yaml.Node{}
	var lc lifecycle
	var taskNode, argsNode *yaml.Node
	var args []string
	for _, p := range c.entries(b) {
		key, ok := c.key(p.key)
		if !ok {
			continue
		}
		if prev, dup := seen[key]; dup {
			c.at(p.key, "duplicate key %q in worker %q (first at %d:%d)", key, name, prev.Line, prev.Column)
			continue
		}
		seen[key] = p.key
		v := deref(p.val)
		switch key {
		case "task":
			if s, ok := c.scalar(key, p.val, v, "a built-in task name"); ok {
				spec.TaskName, taskNode = s, p.val
			}
		case "args":
			args, argsNode = c.stringList(key, p.val, v), p.val
		case "count":
			if s, ok := c.scalar(key, p.val, v, "a whole number"); ok {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < 1 || n > maxWorkers {
					c.at(p.val, "count: want a whole number from 1 to %d, got %q", maxWorkers, s)
				} else {
					count = n
				}
			}
		case "shared":
			spec.Shared = c.stringList(key, p.val, v)
			if len(spec.Shared) > maxShared {
				c.at(p.val, "shared: at most %d counters, got %d", maxShared, len(spec.Shared))
			}
			names := map[string]bool{}
			for _, n := range spec.Shared {
				switch {
				case names[n]:
					c.at(p.val, "shared: counter %q is listed twice", n)
				case !isEnvName(n):
					c.at(p.val, "shared: invalid counter name %q (use letters, digits and '_')", n)
				}
				names[n] = true
			}
		case "tty":
			c.at(p.key, "tty: worker %q is a goroutine inside kelpie and has no terminal (tty is for processes)", name)
		default:
			if c.lifecycleKey(&spec, &lc, key, p.val, v) {
				continue
			}
			hint := didYouMean(key, workerKeys())
			if hint == "" {
				hint = " (known keys: " + strings.Join(workerKeys(), ", ") + ")"
			}
			c.at(p.key, "unknown key %q in worker %q%s", key, name, hint)
		}
	}
	switch {
	case seen["task"] == nil:
		c.at(nameNode, "worker %q has no \"task:\" (one of %s)", name, strings.Join(procs.TaskNames(), ", "))
	case taskNode != nil:
		fn, err := procs.BuiltinTask(spec.TaskName, args)
		if err != nil {
			msg := err.Error()
			if hint := suggest(spec.TaskName, procs.TaskNames()); hint != "" && !contains(procs.TaskNames(), spec.TaskName) {
				msg += fmt.Sprintf(" (did you mean %q?)", hint)
			} else if !contains(procs.TaskNames(), spec.TaskName) {
				msg += " (built-in tasks: " + strings.Join(procs.TaskNames(), ", ") + ")"
			}
			at := taskNode
			if contains(procs.TaskNames(), spec.TaskName) && argsNode != nil {
				at = argsNode
			}
			c.at(at, "task: %s", msg)
		}
		spec.Task = fn
	}
	c.checkBackoff(&spec, lc.backoff, lc.backoffMax)
	return spec, count, len(c.rep.errs) == errs
}

// stringList reads a list of strings (a single string is a list of one).
func (c *yamlChecker) stringList(key string, raw, v *yaml.Node) []string {
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		return []string{v.Value}
	case v.Kind != yaml.SequenceNode:
		c.at(raw, "%s: want a list of strings, got %s", key, describe(v))
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for i, el := range v.Content {
		e := deref(el)
		if e.Kind != yaml.ScalarNode || isNull(e) {
			c.at(el, "%s[%d]: want a string, got %s", key, i, describe(e))
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
