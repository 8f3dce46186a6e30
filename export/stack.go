package export

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/procs"
	"golang.org/x/sys/unix"
)

// stack is a config sorted the way both exports walk it: its processes,
// its clusters and its worker groups (which only kelpie can run).
type stack struct {
	path     string
	prefix   string
	procs    []procs.Spec
	clusters []procs.Cluster
	groups   []group
	kinds    map[string]string // name -> "process", "cluster" or "worker"
	byName   map[string]*procs.Spec
	// run is each unit's spec as procs runs it, its defaults filled in
	// (by procs, once): what to export. byName keeps what the config said,
	// for the notes about settings that do not carry over.
	run     map[string]procs.Spec
	notes   []Note
	origins map[string][]config.EnvOrigin // unit -> its variables from outside the config
}

// group is a worker group: kelpie runs its members as goroutines.
type group struct {
	name  string
	count int
	task  string
}

// newStack sorts f's units and checks the prefix.
func newStack(f *config.File, opt Options) (*stack, error) {
	prefix, err := prefixFor(f, opt)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(f.Path)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	st := &stack{path: path, prefix: prefix, kinds: map[string]string{}, byName: map[string]*procs.Spec{},
		run: map[string]procs.Spec{}, origins: map[string][]config.EnvOrigin{}}
	for _, o := range f.EnvOrigins {
		st.origins[o.Unit] = append(st.origins[o.Unit], o)
	}
	for _, s := range f.Specs {
		if s.Kind == procs.KindWorker {
			if n := len(st.groups); n > 0 && st.groups[n-1].name == s.Group {
				st.groups[n-1].count++
				continue
			}
			st.groups = append(st.groups, group{name: s.Group, count: 1, task: s.TaskName})
			st.kinds[s.Group] = "worker"
			continue
		}
		st.procs = append(st.procs, s)
		st.kinds[s.Name] = "process"
	}
	for i := range st.procs {
		st.byName[st.procs[i].Name] = &st.procs[i]
	}
	st.clusters = f.Clusters
	for i := range st.clusters {
		st.kinds[st.clusters[i].Spec.Name] = "cluster"
		st.byName[st.clusters[i].Spec.Name] = &st.clusters[i].Spec
	}
	for name, s := range st.byName {
		st.run[name] = s.WithDefaults()
	}
	for _, g := range st.groups {
		st.note("", "worker group %s (%d × task %s): not exported: a worker is a goroutine inside kelpie, with no program another engine could run", g.name, g.count, g.task)
	}
	if f.Logs.Dir != "" {
		st.note("", "log_dir %s: not exported: the engine keeps the output (journalctl -u UNIT, kubectl logs)", f.Logs.Dir)
	}
	return st, nil
}

// note records a stack-wide note.
func (st *stack) note(unit, format string, a ...any) {
	st.notes = append(st.notes, Note{Unit: unit, Text: fmt.Sprintf(format, a...)})
}

// unitNotes gathers one unit's notes, for its file and for the output.
type unitNotes struct {
	unit  string
	notes []Note
}

// add records a note about the unit: something that did not carry over.
func (u *unitNotes) add(format string, a ...any) {
	u.addKind(Lost, format, a...)
}

// addKind records a note of the kind given about the unit.
func (u *unitNotes) addKind(kind NoteKind, format string, a ...any) {
	u.notes = append(u.notes, Note{Unit: u.unit, Text: fmt.Sprintf(format, a...), Kind: kind})
}

// secrets notes the unit's environment variables whose values came from
// outside the config (a dotenv file, this machine's environment): the
// export writes them in clear, so the note names them and where they came
// from (never their values) and what to do instead (advice, for the
// engine), where being the file they are in. It reports whether there were
// any: that file is then private.
func (st *stack) secrets(un *unitNotes, where, advice string) bool {
	all := st.origins[un.unit]
	if len(all) == 0 {
		return false
	}
	// listed is "A, B from FILE; C from this machine's environment (${C})".
	listed := func(vars []config.EnvOrigin) string {
		var parts []string
		for i := 0; i < len(vars); {
			j := i
			var names []string
			for ; j < len(vars) && vars[j].From == vars[i].From; j++ {
				names = append(names, vars[j].Var)
			}
			parts = append(parts, strings.Join(names, ", ")+" from "+vars[i].From)
			i = j
		}
		return strings.Join(parts, "; ")
	}
	var env, cmd []config.EnvOrigin
	for _, o := range all {
		if o.InCommand {
			cmd = append(cmd, o)
		} else {
			env = append(env, o)
		}
	}
	var what []string
	if len(env) > 0 {
		what = append(what, "environment "+listed(env))
	}
	if len(cmd) > 0 {
		what = append(what, "run: expands "+listed(cmd))
	}
	un.notes = append(un.notes, Note{Unit: un.unit, Kind: Secret,
		Text: strings.Join(what, "; and ") + ": the values are in clear in " + where + ", so it is written 0600 (owner only); " + advice})
	return true
}

// wholeSeconds rounds d up to whole seconds (what Kubernetes takes) and
// says whether that changed it.
func wholeSeconds(d time.Duration) (int64, bool) {
	s := int64(math.Ceil(d.Seconds()))
	return s, time.Duration(s)*time.Second != d
}

// seconds writes d for a command line (coreutils' timeout, sleep): a
// decimal number of seconds.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// signalName is a signal's name as systemd and the docs write it: x/sys
// names the classic ones, and systemd spells a real-time one SIGRTMIN+N.
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	if sig >= 34 && sig <= 64 {
		return "SIGRTMIN+" + strconv.Itoa(int(sig)-34)
	}
	return strconv.Itoa(int(sig))
}
