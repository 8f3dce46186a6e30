package config

import (
	"net"
	"runtime"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/procs"
)

// clusterKeys lists the settings a cluster may have beyond a process's.
func clusterKeys() []string { return []string{"instances", "listen", "mode", "policy"} }

// clusterAllKeys is every key a cluster may have, for suggestions.
func clusterAllKeys() []string { return append(clusterKeys(), processKeys()...) }

// clusterDefs checks the clusters: mapping. Names are unique across
// processes, workers and clusters: first holds the names seen so far.
func (c *yamlChecker) clusterDefs(key, val *yaml.Node, first map[string]*yaml.Node) []procs.Cluster {
	var out []procs.Cluster
	c.section("cluster", key, val, first, "clusters is empty: define at least one cluster, or leave the key out",
		func(name string, nameNode, body *yaml.Node, good bool) {
			if cl, ok := c.cluster(name, nameNode, body); ok && good {
				out = append(out, cl)
			}
		})
	return out
}

// cluster checks one cluster's settings: a process's, plus instances,
// listen and mode.
func (c *yamlChecker) cluster(name string, nameNode, body *yaml.Node) (procs.Cluster, bool) {
	cl := procs.Cluster{Mode: procs.ModeFDs, Instances: 1}
	var listen, policy *yaml.Node
	errs := len(c.rep.errs)
	extra := func(key string, raw, v *yaml.Node) bool {
		switch key {
		case "instances":
			if s, ok := c.scalar(key, raw, v, `a whole number or "max"`); ok {
				cl.Instances = c.instances(raw, s)
			}
		case "listen":
			listen = raw
			if s, ok := c.scalar(key, raw, v, "an address like 127.0.0.1:8000"); ok {
				cl.Listen = c.listenAddr(raw, s)
			}
		case "mode":
			if s, ok := c.scalar(key, raw, v, strings.Join(procs.ClusterModes(), ", ")); ok {
				if !contains(procs.ClusterModes(), s) {
					hint := ""
					if m := suggest(s, procs.ClusterModes()); m != "" {
						hint = " (did you mean \"" + m + "\"?)"
					}
					c.at(raw, "mode: %q is not a cluster mode: want %s%s", s, strings.Join(procs.ClusterModes(), ", "), hint)
				}
				cl.Mode = procs.ClusterMode(s)
			}
		case "policy":
			policy = raw
			if s, ok := c.scalar(key, raw, v, "rr or none"); ok {
				if s != "rr" && s != "none" {
					c.at(raw, "policy: %q is not a Node scheduling policy (want rr or none)", s)
				}
				cl.Policy = s
			}
		default:
			return false
		}
		return true
	}
	spec, _ := c.unitBody("cluster", name, nameNode, body, clusterAllKeys(), extra)
	if spec.Schedule != nil {
		c.at(nameNode, "cluster %q: schedule is for one-shot processes; a cluster serves until stopped", name)
	}
	if b := deref(body); b.Kind == yaml.MappingNode && listen == nil {
		c.at(nameNode, "cluster %q has no \"listen:\" address (e.g. listen: 127.0.0.1:8000)", name)
	}
	if policy != nil && cl.Mode != procs.ModeNode {
		c.at(policy, "policy: only a node-mode cluster has a scheduling policy (mode: node)")
	}
	if spec.Disabled {
		c.at(nameNode, "cluster %q: disabled is not supported for a cluster (scale it instead)", name)
	}
	if cl.Mode == procs.ModeRoundRobin && !spec.IPC {
		// A connection is handed over on the channel: there must be one.
		spec.IPC = true
	}
	if spec.IPC {
		spec.Kind = procs.KindFork
	}
	cl.Spec = spec
	return cl, len(c.rep.errs) == errs
}

// instances reads a cluster's size: a whole number, or "max" for one per CPU.
func (c *yamlChecker) instances(raw *yaml.Node, s string) int {
	s = strings.TrimSpace(s)
	if s == "max" {
		return runtime.NumCPU()
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > procs.MaxInstances {
		c.at(raw, `instances: want a whole number from 1 to %d, or "max" (one per CPU), got %q`, procs.MaxInstances, s)
		return 1
	}
	return n
}

// listenAddr checks a host:port address; the port may be 0 (a free one).
// It is bound only when kelpie starts (see procs.ListenCluster).
func (c *yamlChecker) listenAddr(raw *yaml.Node, s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		c.at(raw, "listen: want host:port (e.g. 127.0.0.1:8000 or :8000), got %q", s)
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		c.at(raw, "listen: port %q is not a number from 0 to 65535", port)
		return ""
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		c.at(raw, "listen: %q is not a host name or IP address", host)
		return ""
	}
	return s
}
