package procs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// envCap bounds how much of a process's environment is read looking for the
// tag: far beyond any real environment (the kernel caps argv+env at a quarter
// of the stack limit), small enough that a hostile one cannot cost much.
const envCap = 16 << 20

// maxTagEntry bounds the bytes of one environment entry kept while looking
// for TagVar; a tag is "<12 hex>/<unit name>/<run>", far shorter.
const maxTagEntry = 4096

// groupProof identifies a unit's process group beyond its number, which the
// kernel reuses once the group is empty: the leader's start time (ticks after
// boot) and the session kelpie ran in. A group counts as the unit's only if no
// process holds the leader's pid with another start time, and a member counts
// only if it is in that session and started no earlier than the leader.
//
// A tty unit's group leads a session of its own (session is set, and sid is
// the leader's pid): then every process of that session started no earlier
// than the leader is the unit's too, whatever its group (a shell's
// background jobs).
type groupProof struct {
	start   uint64
	sid     int
	session bool
}

// killTagged kills every process (but self) whose environment carries TagVar
// with one of the values in wants, or starting with one that ends in "/". It
// first stops them all, so none can fork a replacement between scans, then
// kills them, and scans again until a scan finds none. It returns how many it
// hit. One scan serves any number of tags: a mass exit costs one pass over
// /proc, not one per unit.
func killTagged(self int, wants ...string) int {
	return killLeftovers(self, wants, nil, nil)
}

// killLeftovers is killTagged that also kills the members of groups (see
// groupProof), tagged or not: a grandchild started with `env -i` never left
// its unit's group. It returns how many distinct processes it has hit, those
// already in hit (killed by other means, maybe not dead yet) included.
func killLeftovers(self int, wants []string, groups map[int]groupProof, hit map[int]bool) int {
	if hit == nil {
		hit = make(map[int]bool) // a process killed last round may not be dead yet
	}
	if len(wants) == 0 && len(groups) == 0 {
		return len(hit)
	}
	sc := newScanner(wants)
	for round := 0; round < 20; round++ {
		pids := sc.leftovers(self, groups)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			hit[pid] = true
		}
	}
	return len(hit)
}

// scanner finds a run's processes in /proc, reusing its buffers.
type scanner struct {
	exact    map[string]bool
	prefixes []string
	buf      []byte // one read of an environ
	entry    []byte // the start of the environ entry being read
	stat     []byte
}

func newScanner(wants []string) *scanner {
	sc := &scanner{exact: make(map[string]bool, len(wants)), buf: make([]byte, 64<<10),
		entry: make([]byte, 0, maxTagEntry), stat: make([]byte, 1024)}
	for _, w := range wants {
		switch {
		case w == "":
		case w[len(w)-1] == '/':
			sc.prefixes = append(sc.prefixes, w)
		default:
			sc.exact[w] = true
		}
	}
	return sc
}

// leftovers lists the live processes (but self) that carry a wanted tag or
// are members of one of groups. Zombies are not listed: they are already
// dead (and have an empty environ).
func (sc *scanner) leftovers(self int, groups map[int]groupProof) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var stats map[int]procStat
	if len(groups) > 0 {
		stats = make(map[int]procStat, len(names))
		for _, name := range names {
			if name[0] < '0' || name[0] > '9' {
				continue
			}
			if p, ok := parseStat(readSmall("/proc/"+name+"/stat", sc.stat)); ok {
				stats[p.pid] = p
			}
		}
	}
	valid := func(pgid int) (groupProof, bool) {
		g, ok := groups[pgid]
		if !ok {
			return g, false
		}
		if leader, ok := stats[pgid]; ok && leader.start != g.start {
			return g, false // the number was reused: not our group
		}
		return g, true
	}
	var out []int
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		if p, ok := stats[pid]; ok {
			if p.state == 'Z' || p.state == 'X' {
				continue
			}
			if g, ok := valid(p.pgrp); ok && p.sid == g.sid && p.start >= g.start {
				out = append(out, pid)
				continue
			}
			if g, ok := valid(p.sid); ok && g.session && p.start >= g.start {
				out = append(out, pid)
				continue
			}
		}
		if len(sc.exact) == 0 && len(sc.prefixes) == 0 {
			continue
		}
		if val, ok := sc.envTag("/proc/" + name + "/environ"); ok {
			if sc.exact[string(val)] || hasAnyPrefix(val, sc.prefixes) {
				out = append(out, pid)
			}
		}
	}
	return out
}

// envTag streams an environ file (NUL-separated entries) and returns TagVar's
// value. The whole file is read, up to envCap, however large: a tag behind a
// 100 KiB variable is still found.
func (sc *scanner) envTag(path string) ([]byte, bool) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	key := TagVar + "="
	entry := sc.entry[:0]
	skipping := false // the current entry is too long or not TagVar
	for total := 0; total < envCap; {
		n, err := syscall.Read(fd, sc.buf)
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			break
		}
		total += n
		chunk := sc.buf[:n]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, 0)
			piece := chunk
			if i >= 0 {
				piece = chunk[:i]
			}
			if !skipping {
				if len(entry)+len(piece) > maxTagEntry {
					skipping = true
				} else {
					entry = append(entry, piece...)
					// Give up on an entry as soon as it cannot be TagVar.
					if m := min(len(entry), len(key)); string(entry[:m]) != key[:m] {
						skipping = true
					}
				}
			}
			if i < 0 {
				break
			}
			if !skipping {
				if val, ok := bytes.CutPrefix(entry, []byte(key)); ok {
					sc.entry = entry
					return val, true
				}
			}
			entry, skipping = entry[:0], false
			chunk = chunk[i+1:]
		}
	}
	sc.entry = entry
	return nil, false
}

func hasAnyPrefix(b []byte, prefixes []string) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

// sweeper kills the leftovers of ended runs in the background, batching the
// tags that pile up while a scan is under way into the next scan.
type sweeper struct {
	self    int
	wg      *sync.WaitGroup
	mu      sync.Mutex
	pending []string
	cgroups []string
	running bool
}

// add queues tag, and the run's cgroup if it had one, for a sweep.
func (sw *sweeper) add(tag, cgroup string) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.pending = append(sw.pending, tag)
	if cgroup != "" {
		sw.cgroups = append(sw.cgroups, cgroup)
	}
	if !sw.running {
		sw.running = true
		sw.wg.Add(1)
		go sw.run()
	}
}

func (sw *sweeper) run() {
	defer sw.wg.Done()
	for {
		sw.mu.Lock()
		tags, cgroups := sw.pending, sw.cgroups
		sw.pending, sw.cgroups = nil, nil
		if len(tags) == 0 && len(cgroups) == 0 {
			sw.running = false
			sw.mu.Unlock()
			return
		}
		sw.mu.Unlock()
		for _, cg := range cgroups {
			killCgroupTree(cg, nil)
		}
		killTagged(sw.self, tags...)
	}
}

// readSmall reads up to len(buf) bytes of a /proc file into buf.
func readSmall(path string, buf []byte) []byte {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if m <= 0 || err != nil {
			break
		}
		n += m
	}
	return buf[:n]
}

// readStat reads one process's /proc/PID/stat.
func readStat(pid int) (procStat, bool) {
	return parseStat(readSmall("/proc/"+strconv.Itoa(pid)+"/stat", make([]byte, 1024)))
}

// StartGuard starts a guard that knows only the run's tag: exe with args,
// which must lead to RunGuard in the new process. Prefer Options.Guard, with
// which the supervisor starts the guard itself, tells it every unit's process
// group and cgroup, and replaces it if it dies.
//
// The guard lives in its own session, outside kelpie's process group, and
// waits on a pipe whose only writer is the returned file. When kelpie dies,
// by SIGKILL too, the kernel closes that file, the guard reads EOF and kills
// every process carrying this run's tag. Close the file at a clean exit for
// the same sweep.
func StartGuard(exe string, args []string) (*os.File, error) {
	w, _, err := startGuard(append([]string{exe}, args...))
	return w, err
}

// startGuard starts argv as a guard and returns the writer of its pipe and its pid.
func startGuard(argv []string) (*os.File, int, error) {
	r, w, err := os.Pipe() // close-on-exec: children never hold the writer open
	if err != nil {
		return nil, 0, fmt.Errorf("guard pipe: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return nil, 0, fmt.Errorf("guard: %w", err)
	}
	defer null.Close()
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Files: []*os.File{r, null, null},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		w.Close()
		return nil, 0, fmt.Errorf("start guard: %w", err)
	}
	pid := p.Pid
	_ = p.Release()
	return w, pid, nil
}

// The guard's feed: one line per fact, written by kelpie as things happen.
//
//	g PGID START SID   a unit's process group (see groupProof)
//	s PGID             that group leads its own session (a tty unit's)
//	u PGID             that group is gone
//	c PATH             a cgroup directory whose processes are kelpie's units'
//
// Unknown lines are ignored, so an older guard can serve a newer kelpie.
func guardGroupLine(pgid int, g groupProof) []byte {
	b := fmt.Appendf(nil, "g %d %d %d\n", pgid, g.start, g.sid)
	if g.session {
		b = fmt.Appendf(b, "s %d\n", pgid)
	}
	return b
}

func guardEndLine(pgid int) []byte { return fmt.Appendf(nil, "u %d\n", pgid) }

func guardCgroupLine(path string) []byte { return fmt.Appendf(nil, "c %s\n", path) }

// guardFeed is what a guard has been told.
type guardFeed struct {
	groups  map[int]groupProof
	cgroups []string
}

// readGuardFeed reads the feed until EOF.
func readGuardFeed(r io.Reader) guardFeed {
	f := guardFeed{groups: make(map[int]groupProof)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch {
		case fields[0] == "g" && len(fields) == 4:
			pgid, e1 := strconv.Atoi(fields[1])
			start, e2 := strconv.ParseUint(fields[2], 10, 64)
			sid, e3 := strconv.Atoi(fields[3])
			if e1 == nil && e2 == nil && e3 == nil && pgid > 1 {
				f.groups[pgid] = groupProof{start: start, sid: sid}
			}
		case fields[0] == "s":
			if pgid, err := strconv.Atoi(fields[1]); err == nil {
				if g, ok := f.groups[pgid]; ok {
					g.session = true
					f.groups[pgid] = g
				}
			}
		case fields[0] == "u":
			if pgid, err := strconv.Atoi(fields[1]); err == nil {
				delete(f.groups, pgid)
			}
		case fields[0] == "c":
			f.cgroups = append(f.cgroups, strings.TrimPrefix(sc.Text(), "c "))
		}
	}
	return f
}

// RunGuard is the guard's whole life: read what kelpie tells it on r until
// EOF (kelpie died or closed it), then kill every process tagged with tag
// (see TagVar), every member of the units' process groups, and every process
// in the units' cgroups. It returns how many it killed. Terminal hang-ups and
// interrupts are ignored: the guard must outlive the kelpie that started it.
func RunGuard(tag string, r io.Reader) int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	f := readGuardFeed(r)
	hit := make(map[int]bool)
	for _, cg := range f.cgroups {
		killCgroupTree(cg, hit)
	}
	return killLeftovers(os.Getpid(), []string{tag + "/"}, f.groups, hit)
}

// guardLink is kelpie's side of a guard: its pid and a writer that never
// blocks the owner goroutine (a stopped guard must not stall kelpie): lines
// queue here and a goroutine writes them.
type guardLink struct {
	pid  int
	w    *os.File
	mu   sync.Mutex
	buf  []byte
	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

func newGuardLink(w *os.File, pid int, initial []byte) *guardLink {
	g := &guardLink{pid: pid, w: w, buf: initial, wake: make(chan struct{}, 1), done: make(chan struct{})}
	g.wg.Add(1)
	go g.run()
	g.poke()
	return g
}

func (g *guardLink) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// send queues a line for the guard.
func (g *guardLink) send(line []byte) {
	g.mu.Lock()
	g.buf = append(g.buf, line...)
	g.mu.Unlock()
	g.poke()
}

func (g *guardLink) run() {
	defer g.wg.Done()
	var out []byte
	for {
		select {
		case <-g.wake:
		case <-g.done:
			return
		}
		g.mu.Lock()
		out, g.buf = g.buf, out[:0]
		g.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		if _, err := g.w.Write(out); err != nil {
			return // the guard is gone: the reaper will see it and kelpie replaces it
		}
	}
}

// close stops the writer and closes the pipe: the guard sweeps and exits.
// A write blocked on a stopped guard is cut short by closing the file.
func (g *guardLink) close() {
	close(g.done)
	g.w.Close()
	g.wg.Wait()
}
