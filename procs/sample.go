package procs

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shirou/gopsutil/v3/mem"
	"github.com/shirou/gopsutil/v3/process"
)

// recheckTicks is how many ticks an unrelated process goes unread.
const recheckTicks = 30

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// fixed at 100 by the Linux ABI on every architecture Go supports.
const clockTicks = 100

// procStat is what one /proc/PID/stat line says that the sampler needs.
type procStat struct {
	pid, ppid, pgrp int
	sid             int    // session
	ticks           uint64 // utime + stime
	cticks          uint64 // cutime + cstime: its children it has reaped
	start           uint64 // start time, in ticks after boot: tells a reused pid apart
	rss             uint64 // pages
	state           byte   // R, S, T (stopped), ...
	comm            [16]byte
	commLen         uint8
}

// target is a live unit the sampler measures: a process tree, or one of
// kelpie's own threads (a worker's).
type target struct {
	name string
	run  run // which run was measured (compared, never called, off the owner goroutine)
	pid  int // also its process group id
	tid  int // a worker's thread (pid 0)
}

// sampler measures every unit once per tick from ONE scan of /proc: the
// kernel here has no /proc/PID/task/*/children, so the process tree is built
// from ppid links, shared by all units, rather than walked per unit.
type sampler struct {
	page  uint64
	prev  map[int]procStat
	last  time.Time
	buf   []byte
	stats []procStat

	// skip counts down, per pid, the ticks for which a process that belongs
	// to no unit is not read again. A process's parent only ever changes to
	// a reaper, so an unrelated process stays unrelated; the periodic recheck
	// bounds the cost of a pid being reused meanwhile.
	skip    map[int]int
	related map[int]bool

	// prevTask holds workers' threads' CPU time at the last measure;
	// nextTask is filled at this one, then the two swap (a thousand
	// workers need no new map each tick).
	prevTask, nextTask map[int]taskCPU

	// Scratch maps of one measure, cleared and reused: fresh ones sized
	// for every process on the machine were most of an idle tick's garbage.
	children map[int][]int
	groups   map[int][]int
	want     map[int]bool
	byPID    map[int]int

	self     *process.Process // kelpie itself, through gopsutil
	selfCPU  float64
	memTotal uint64
}

func newSampler() *sampler {
	sm := &sampler{page: uint64(os.Getpagesize()), prev: make(map[int]procStat), buf: make([]byte, 1024),
		skip: make(map[int]int), related: make(map[int]bool), prevTask: make(map[int]taskCPU), nextTask: make(map[int]taskCPU),
		children: make(map[int][]int), groups: make(map[int][]int), want: make(map[int]bool), byPID: make(map[int]int)}
	if p, err := process.NewProcess(int32(os.Getpid())); err == nil {
		sm.self = p
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		sm.memTotal = vm.Total
	}
	return sm
}

// sample runs the sampler until the supervisor stops.
func (s *Supervisor) sample(every time.Duration) {
	defer s.bg.Done()
	sm := newSampler()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.loopDone:
			return
		}
		var targets []target
		if s.call(func() {
			targets = make([]target, 0, len(s.order))
			for _, name := range s.order {
				if u := s.units[name]; u.alive() {
					p := u.run.probe()
					if p.pid != 0 || p.tid != 0 {
						targets = append(targets, target{name: name, run: u.run, pid: p.pid, tid: p.tid})
					}
				}
			}
		}) != nil {
			return
		}
		st, stopped := sm.measure(targets, time.Now())
		s.post(func() { s.applyStats(st, targets, stopped) })
	}
}

// applyStats stores a tick's figures in the units and tells subscribers. A
// running unit whose main process is stopped (SIGSTOP, SIGTSTP) is paused,
// and running again once it is continued.
func (s *Supervisor) applyStats(st *Stats, targets []target, stopped map[int]bool) {
	for _, t := range targets {
		u := s.units[t.name]
		if u == nil || u.run != t.run || !u.alive() {
			continue // it ended or restarted since the scan
		}
		us := st.Units[t.name]
		u.info.CPU, u.info.RSS, u.info.Procs = us.CPU, us.RSS, us.Procs
		s.checkMemory(u, us.RSS)
		if u.stopping {
			continue // restarted for its memory: nothing more to say of this run
		}
		if t.pid == 0 {
			continue // a worker: no process of its own to be paused
		}
		switch {
		case stopped[t.pid] && u.info.State == Running:
			u.info.State = Paused
			s.event(u, "paused: the process is stopped (SIGCONT resumes it)")
			s.publish(u)
		case !stopped[t.pid] && u.info.State == Paused:
			u.info.State = Running
			s.event(u, "resumed")
			s.publish(u)
		}
	}
	st.Groups = s.groupStats()
	s.broker.stats(st)
}

// goneTicks is, per live process, what was last counted for the processes
// that have ended since the last scan below it (their own time and their
// reaped children's): a parent's cutime grows by their whole time when it
// reaps them, and only the rest is new. An ended process's time goes to
// its nearest ancestor still alive, which reaped it or its parent.
func (sm *sampler) goneTicks(byPID map[int]int) map[int]uint64 {
	var gone map[int]uint64
	for pid, old := range sm.prev {
		if i, ok := byPID[pid]; ok && sm.stats[i].start == old.start {
			continue
		}
		up := old.ppid
		for range 64 { // bounded: a chain of ended parents
			o, ok := sm.prev[up]
			if !ok {
				break
			}
			if i, live := byPID[up]; live && sm.stats[i].start == o.start {
				break
			}
			up = o.ppid
		}
		if gone == nil {
			gone = make(map[int]uint64)
		}
		gone[up] += old.ticks + old.cticks
	}
	return gone
}

// measure scans /proc once and returns every target's use since the last
// call, and the targets found stopped (state T: the unit shows as paused;
// nil when none is, as nearly always).
func (sm *sampler) measure(targets []target, now time.Time) (st *Stats, stopped map[int]bool) {
	sm.scan()
	return sm.account(targets, now)
}

// account is measure after its scan: every target's use from sm.stats
// against the last scan's (sm.prev).
func (sm *sampler) account(targets []target, now time.Time) (st *Stats, stopped map[int]bool) {
	dt := now.Sub(sm.last).Seconds()
	first := sm.last.IsZero()
	sm.last = now

	children, groups, want, byPID := sm.children, sm.groups, sm.want, sm.byPID
	clear(children)
	clear(groups)
	clear(want)
	clear(byPID)
	tasks := 0
	for _, t := range targets {
		if t.pid == 0 {
			tasks++
			continue
		}
		want[t.pid] = true
	}
	for i, p := range sm.stats {
		children[p.ppid] = append(children[p.ppid], i)
		if want[p.pgrp] {
			groups[p.pgrp] = append(groups[p.pgrp], i)
		}
	}
	for i, p := range sm.stats {
		byPID[p.pid] = i
		if p.state == 'T' && want[p.pid] {
			if stopped == nil {
				stopped = make(map[int]bool)
			}
			stopped[p.pid] = true
		}
	}

	gone := sm.goneTicks(byPID)
	st = &Stats{Time: now, Units: make(map[string]UnitStats, len(targets)), MemTotal: sm.memTotal}
	seen := make(map[int]bool)
	clear(sm.related)
	type item struct{ i, depth int }
	var stack []item
	for _, t := range targets {
		if t.pid == 0 {
			continue // a worker's thread: see measureTasks
		}
		clear(seen)
		stack = stack[:0]
		// Group members that were reparented (to kelpie as subreaper) are
		// still this unit's: walk from them too, after the main process.
		g := groups[t.pid]
		for j := len(g) - 1; j >= 0; j-- {
			stack = append(stack, item{g[j], 1})
		}
		if i, ok := byPID[t.pid]; ok {
			stack = append(stack, item{i, 0})
		}
		var us UnitStats
		var ticks uint64
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			p := sm.stats[it.i]
			if seen[p.pid] {
				continue
			}
			seen[p.pid] = true
			sm.related[p.pid] = true
			var d, reaped uint64
			if old, ok := sm.prev[p.pid]; ok && old.start == p.start {
				if p.ticks > old.ticks {
					d = p.ticks - old.ticks
				}
				// Children it reaped since the last scan: their time in
				// its cutime, less what was counted while they lived.
				if grown := p.cticks - min(p.cticks, old.cticks); grown > gone[p.pid] {
					reaped = grown - gone[p.pid]
				}
			} else if !first {
				d, reaped = p.ticks, p.cticks // born since the last scan
			}
			ticks += d + reaped
			// A process names itself (prctl, /proc/self/comm): its comm is
			// outside text, cleaned here so every consumer gets it clean.
			ps := ProcSample{PID: p.pid, PPID: p.ppid, Name: cleanLine(string(p.comm[:p.commLen])), Depth: it.depth, RSS: p.rss * sm.page}
			if dt > 0 && !first {
				ps.CPU = float64(d) / clockTicks / dt * 100
			}
			us.Tree = append(us.Tree, ps)
			us.Procs++
			us.RSS += ps.RSS
			kids := children[p.pid]
			for j := len(kids) - 1; j >= 0; j-- {
				stack = append(stack, item{kids[j], it.depth + 1})
			}
		}
		if dt > 0 && !first {
			us.CPU = float64(ticks) / clockTicks / dt * 100
		}
		st.Units[t.name] = us
	}
	clear(sm.prev)
	for _, p := range sm.stats {
		sm.prev[p.pid] = p
		if !sm.related[p.pid] {
			sm.skip[p.pid] = recheckTicks
		}
	}
	if tasks > 0 || len(sm.prevTask) > 0 {
		sm.measureTasks(targets, st, dt, first)
	}
	st.Self = sm.measureSelf(dt, first)
	return st, stopped
}

// taskCPU is a worker thread's CPU time at a measure.
type taskCPU struct {
	run run // the worker's run: a tid reused by a later run starts over
	ns  int64
}

// measureTasks reads each worker's thread's CPU clock: its CPU is that
// thread's. One clock_gettime per worker, in nanoseconds, where reading
// /proc/self/task/TID/stat would cost three syscalls and the kernel's
// formatting of fifty fields (1,000 idle workers: 1 % of a core). Memory is
// the process's, not any one thread's, so a worker has none of its own
// (Self has kelpie's).
func (sm *sampler) measureTasks(targets []target, st *Stats, dt float64, first bool) {
	seen := sm.nextTask
	clear(seen)
	for _, t := range targets {
		if t.tid == 0 {
			continue
		}
		ns, ok := threadCPU(t.tid)
		if !ok {
			continue // the thread ended since
		}
		seen[t.tid] = taskCPU{run: t.run, ns: ns}
		var us UnitStats
		old, had := sm.prevTask[t.tid]
		if had && old.run == t.run && ns >= old.ns && dt > 0 && !first {
			us.CPU = float64(ns-old.ns) / 1e9 / dt * 100
		}
		st.Units[t.name] = us
	}
	sm.prevTask, sm.nextTask = seen, sm.prevTask
}

// threadCPU reads the CPU time of thread tid of this process, through its
// CPU-time clock (what pthread_getcpuclockid returns: the tid inverted,
// shifted, with CPUCLOCK_PERTHREAD and CPUCLOCK_SCHED set).
func threadCPU(tid int) (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(int32(^uint32(tid)<<3|6), &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}

// measureSelf reports kelpie's own cost, through gopsutil.
func (sm *sampler) measureSelf(dt float64, first bool) UnitStats {
	var us UnitStats
	if sm.self == nil {
		return us
	}
	us.Procs = 1
	if t, err := sm.self.Times(); err == nil {
		cpu := t.User + t.System
		if !first && dt > 0 {
			us.CPU = max(0, (cpu-sm.selfCPU)/dt*100)
		}
		sm.selfCPU = cpu
	}
	if m, err := sm.self.MemoryInfo(); err == nil {
		us.RSS = m.RSS
	}
	return us
}

// scan reads /proc/*/stat into sm.stats, reusing its buffers.
func (sm *sampler) scan() {
	sm.stats = sm.stats[:0]
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	path := make([]byte, 0, 32)
	skip := make(map[int]int, len(sm.skip))
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(name); err == nil {
			if n := sm.skip[pid]; n > 0 {
				skip[pid] = n - 1
				continue
			}
		}
		path = append(append(append(path[:0], "/proc/"...), name...), "/stat"...)
		b := readSmall(string(path), sm.buf)
		if p, ok := parseStat(b); ok {
			sm.stats = append(sm.stats, p)
		}
	}
	sm.skip = skip // pids gone from /proc drop out
}

// parseStat parses a /proc/PID/stat line. The command name may hold spaces
// and parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, bool) {
	var p procStat
	open := -1
	for i, c := range b {
		if c == '(' {
			open = i
			break
		}
	}
	closeAt := -1
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			closeAt = i
			break
		}
	}
	if open < 1 || closeAt < open || closeAt+2 >= len(b) {
		return p, false
	}
	pid, err := strconv.Atoi(string(b[:open-1]))
	if err != nil {
		return p, false
	}
	p.pid = pid
	p.commLen = uint8(copy(p.comm[:], b[open+1:closeAt]))
	p.state = b[closeAt+2]
	// Fields after ")": 0 state, 1 ppid, 2 pgrp, 11 utime, 12 stime, 13 cutime,
	// 14 cstime, 19 starttime, 21 rss.
	field, val, inNum := 0, uint64(0), false
	for _, c := range b[closeAt+2:] {
		if c == ' ' || c == '\n' {
			switch field {
			case 1:
				p.ppid = int(val)
			case 2:
				p.pgrp = int(val)
			case 3:
				p.sid = int(val)
			case 11, 12:
				p.ticks += val
			case 13, 14:
				p.cticks += val
			case 19:
				p.start = val
			case 21:
				p.rss = val
				return p, true
			}
			field++
			val, inNum = 0, false
			continue
		}
		if c >= '0' && c <= '9' {
			val = val*10 + uint64(c-'0')
			inNum = true
		} else if c == '-' && !inNum {
			continue // negative fields are not among those read
		}
	}
	return p, field > 12
}
