package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// Bounds of the probe settings.
const (
	maxProbePeriod    = time.Hour
	maxProbeThreshold = 1000
	maxWatchdog       = time.Hour
)

// probeKinds are the keys that pick a probe's kind, in the docs' order.
var probeKinds = []string{"log", "http", "tcp", "exec", "message", "notify"}

// probeKeys lists a probe's settings for suggestions.
func probeKeys() []string {
	return append(probeKinds[:len(probeKinds):len(probeKinds)],
		"initial_delay", "period", "timeout", "success_threshold", "failure_threshold")
}

// probe reads a ready: or liveness: mapping: exactly one kind key, and the
// timing settings (Kubernetes' names). It returns nil after reporting a
// problem.
func (c *yamlChecker) probe(key string, raw, v *yaml.Node) *procs.Probe {
	if v.Kind != yaml.MappingNode {
		c.at(raw, "%s: want a mapping with one of %s, got %s", key, strings.Join(probeKinds, ", "), describe(v))
		return nil
	}
	p := &procs.Probe{}
	var kindKey *yaml.Node
	ok := true
	for _, e := range c.entries(v) {
		k, good := c.key(e.key)
		if !good {
			ok = false
			continue
		}
		val := deref(e.val)
		name := key + "." + k
		switch k {
		case "log", "http", "tcp", "exec", "message", "notify":
			if kindKey != nil {
				c.at(e.key, "%s: has both %s and %s (a probe checks one way)", key, p.Kind, k)
				ok = false
				continue
			}
			kindKey = e.key
			p.Kind = procs.ProbeKind(k)
			ok = c.probeKind(p, name, e.val, val) && ok
		case "initial_delay":
			if s, good := c.scalar(name, e.val, val, "a duration like 2s"); good {
				if strings.TrimSpace(s) != "0" {
					d, msg := parseDuration(name, s, maxProbePeriod)
					if msg != "" && !strings.Contains(msg, "greater than 0") {
						c.at(e.val, "%s", msg)
						ok = false
					}
					p.InitialDelay = d
				}
			}
		case "period":
			p.Period = c.duration(name, e.val, val, maxProbePeriod)
		case "timeout":
			p.Timeout = c.duration(name, e.val, val, maxProbePeriod)
		case "success_threshold", "failure_threshold":
			s, good := c.scalar(name, e.val, val, "a whole number")
			if !good {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 || n > maxProbeThreshold {
				c.at(e.val, "%s: want a whole number from 1 to %d, got %q", name, maxProbeThreshold, s)
				ok = false
				continue
			}
			if k == "success_threshold" {
				p.SuccessThreshold = n
			} else {
				p.FailureThreshold = n
			}
		default:
			c.at(e.key, "unknown key %q in %s%s", k, key, probeHint(k))
			ok = false
		}
	}
	switch {
	case kindKey == nil:
		c.at(raw, "%s: say how to check: one of %s", key, strings.Join(probeKinds, ", "))
		return nil
	case key == "liveness" && (p.Kind == procs.ProbeMessage || p.Kind == procs.ProbeNotify):
		c.at(kindKey, "liveness: a %s probe can only say a unit is ready (for liveness under sd_notify, set watchdog:)", p.Kind)
		return nil
	case !ok:
		return nil
	}
	return p
}

// probeHint is didYouMean for a probe key, or the list of known keys.
func probeHint(key string) string {
	known := probeKeys()
	if h := didYouMean(key, known); h != "" {
		return h
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// probeKind reads the value of a probe's kind key into p.
func (c *yamlChecker) probeKind(p *procs.Probe, name string, raw, v *yaml.Node) bool {
	errs := len(c.rep.errs)
	switch p.Kind {
	case procs.ProbeMessage, procs.ProbeNotify:
		if !c.bool(name, raw, v) {
			c.check(raw, fmt.Sprintf("%s: write %s: true to use it", name, p.Kind))
		}
	case procs.ProbeExec:
		if isNull(v) || v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) == "" ||
			v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			c.at(raw, "%s: want a command (a string for the shell, or a list)", name)
			break
		}
		// A string runs under the shell, a list is exec'd, as run: does.
		var sp procs.Spec
		c.run(&sp, raw, v)
		if sp.Shell != "" {
			p.Exec = []string{"/bin/sh", "-c", sp.Shell}
		} else {
			p.Exec = sp.Argv
		}
	case procs.ProbeLog:
		if s, ok := c.scalar(name, raw, v, "a regular expression"); ok {
			if _, err := regexp.Compile(s); err != nil {
				c.at(raw, "%s: %v", name, err)
			}
			p.Log = s
		} else if isNull(v) {
			c.at(raw, "%s: want a regular expression", name)
		}
	case procs.ProbeHTTP:
		if s, ok := c.scalar(name, raw, v, "a URL"); ok {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				c.at(raw, "%s: want an http:// or https:// URL, got %q", name, s)
			}
			p.URL = s
		} else if isNull(v) {
			c.at(raw, "%s: want a URL", name)
		}
	case procs.ProbeTCP:
		if s, ok := c.scalar(name, raw, v, "host:port"); ok {
			if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
				c.at(raw, "%s: want host:port, got %q", name, s)
			}
			p.Addr = s
		} else if isNull(v) {
			c.at(raw, "%s: want host:port", name)
		}
	}
	return len(c.rep.errs) == errs
}

// watchdog reads the sd_notify watchdog interval.
func (c *yamlChecker) watchdog(spec *procs.Spec, raw, v *yaml.Node) {
	spec.Watchdog = c.duration("watchdog", raw, v, maxWatchdog)
}
