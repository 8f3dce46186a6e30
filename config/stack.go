package config

import (
	"math"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// Bounds of the stack settings.
const (
	minMaxMemory    = 1 << 20 // below this nothing real runs: surely a missing unit
	maxWatchDelay   = time.Minute
	maxWatchGlobs   = 256
	defaultDebounce = procs.DefaultWatchDebounce
)

// stackKey reads the keys a process has for running in a stack: env_file,
// max_memory, schedule and watch. It reports whether it knew key.
func (c *yamlChecker) stackKey(spec *procs.Spec, st *unitEnv, key string, raw, v *yaml.Node) bool {
	switch key {
	case "env_file":
		c.envFiles(st, raw, v)
	case "max_memory":
		if s, ok := c.scalar(key, raw, v, "a size like 400MiB"); ok {
			n, msg := parseSize(key, s, minMaxMemory, math.MaxInt64)
			c.check(raw, msg)
			spec.MaxMemory = uint64(n)
		}
	case "schedule":
		if s, ok := c.scalar(key, raw, v, `a cron expression like "0 3 * * *" or "@every 30s"`); ok {
			c.schedule(spec, raw, s)
		}
	case "watch":
		c.watch(spec, raw, v)
	default:
		return false
	}
	return true
}

// schedule reads a cron expression: five fields (minute hour day-of-month
// month day-of-week), a @daily-style name, or @every DURATION.
func (c *yamlChecker) schedule(spec *procs.Spec, raw *yaml.Node, s string) {
	s = strings.TrimSpace(s)
	sched, err := cron.ParseStandard(s)
	if err != nil {
		c.at(raw, "schedule: %q is not a schedule: %v (write 5 cron fields like \"0 3 * * *\", or \"@every 30s\")", s, err)
		return
	}
	spec.Schedule, spec.ScheduleText = sched, s
}

// watch reads watch: { paths: [...], ignore: [...], debounce: 500ms }; a
// plain list is taken as its paths.
func (c *yamlChecker) watch(spec *procs.Spec, raw, v *yaml.Node) {
	w := &procs.Watch{Debounce: defaultDebounce}
	errs := len(c.rep.errs)
	switch {
	case isNull(v):
		return
	case v.Kind == yaml.SequenceNode || v.Kind == yaml.ScalarNode:
		w.Paths = c.globs("watch", raw, v)
	case v.Kind == yaml.MappingNode:
		seen := map[string]bool{}
		for _, p := range c.entries(v) {
			key, ok := c.key(p.key)
			if !ok {
				continue
			}
			if seen[key] {
				c.at(p.key, "duplicate key %q in watch", key)
				continue
			}
			seen[key] = true
			pv := deref(p.val)
			switch key {
			case "paths":
				w.Paths = c.globs("watch paths", p.val, pv)
			case "ignore":
				w.Ignore = c.globs("watch ignore", p.val, pv)
			case "debounce":
				if d := c.duration("watch debounce", p.val, pv, maxWatchDelay); d > 0 {
					w.Debounce = d
				}
			default:
				c.at(p.key, "unknown key %q in watch%s", key, didYouMean(key, []string{"paths", "ignore", "debounce"}))
			}
		}
	default:
		c.at(raw, "watch: want a mapping (paths:, ignore:, debounce:), got %s", describe(v))
		return
	}
	if len(w.Paths) == 0 {
		if len(c.rep.errs) > errs {
			return // the paths were wrong: said already
		}
		c.at(raw, "watch: no paths to watch (paths: [\"src/**/*.go\"])")
		return
	}
	spec.Watch = w
}

// globs reads one glob or a list of them, checking each is well formed.
func (c *yamlChecker) globs(what string, raw, v *yaml.Node) []string {
	var nodes []*yaml.Node
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		nodes = []*yaml.Node{raw}
	case v.Kind == yaml.SequenceNode:
		nodes = v.Content
	default:
		c.at(raw, "%s: want a glob or a list of globs, got %s", what, describe(v))
		return nil
	}
	if len(nodes) > maxWatchGlobs {
		c.at(raw, "%s: %d globs is too many (maximum %d)", what, len(nodes), maxWatchGlobs)
		return nil
	}
	var out []string
	for _, n := range nodes {
		d := deref(n)
		if d.Kind != yaml.ScalarNode || isNull(d) || d.Value == "" {
			c.at(n, "%s: want a glob, got %s", what, describe(d))
			continue
		}
		if msg := procs.CheckGlob(d.Value); msg != "" {
			c.at(n, "%s: %q: %s", what, d.Value, msg)
			continue
		}
		out = append(out, d.Value)
	}
	return out
}

// dotenvSetting reads the top-level dotenv: key (true by default: a .env
// beside the config is read).
func (c *yamlChecker) dotenvSetting(raw *yaml.Node) {
	v := deref(raw)
	if isNull(v) {
		return
	}
	c.noDotenv = !c.bool("dotenv", raw, v)
}

// checkSchedule refuses restart: always on a scheduled process: its runs
// would never end, so every scheduled time would be skipped.
func (c *yamlChecker) checkSchedule(spec *procs.Spec, seen map[string]*yaml.Node) {
	if spec.Schedule != nil && spec.Restart == procs.RestartAlways {
		c.at(seen["restart"], "restart: always cannot go with schedule: a scheduled process runs once per time (use never, the default, or on-failure to retry a failed run)")
	}
}
