package procs

import (
	"os"
	"slices"
	"strconv"
	"time"
)

// DefaultThreadInterval is how long SampleThreads measures threads' CPU.
const DefaultThreadInterval = 250 * time.Millisecond

// SampleThreads lists the OS threads of each process in pids, with each
// thread's CPU % measured over interval (two reads of
// /proc/PID/task/TID/stat). It is read on demand (`kelpie ps --threads`, the
// Stats view), never by the sampler: a process may have hundreds of threads.
// Names are Clean (a thread names itself). A process that is gone is left
// out.
func SampleThreads(pids []int, interval time.Duration) map[int][]ThreadInfo {
	type key struct{ pid, tid int }
	buf := make([]byte, 1024)
	read := func() map[key]procStat {
		out := make(map[key]procStat)
		for _, pid := range pids {
			dir := "/proc/" + strconv.Itoa(pid) + "/task"
			d, err := os.Open(dir)
			if err != nil {
				continue
			}
			names, _ := d.Readdirnames(-1)
			d.Close()
			for _, n := range names {
				tid, err := strconv.Atoi(n)
				if err != nil {
					continue
				}
				if p, ok := parseStat(readSmall(dir+"/"+n+"/stat", buf)); ok {
					out[key{pid, tid}] = p
				}
			}
		}
		return out
	}
	before := read()
	start := time.Now()
	if interval > 0 {
		time.Sleep(interval) // the measuring interval itself, not synchronisation
	}
	after := read()
	dt := time.Since(start).Seconds()
	res := make(map[int][]ThreadInfo)
	for k, p := range after {
		ti := ThreadInfo{TID: k.tid, Name: cleanLine(string(p.comm[:p.commLen])), State: string(rune(p.state))}
		if old, ok := before[k]; ok && old.start == p.start && p.ticks >= old.ticks && dt > 0 {
			ti.CPU = float64(p.ticks-old.ticks) / clockTicks / dt * 100
		}
		res[k.pid] = append(res[k.pid], ti)
	}
	for pid := range res {
		slices.SortFunc(res[pid], func(a, b ThreadInfo) int { return a.TID - b.TID })
	}
	return res
}

// WithThreads fills in each live unit's Threads: a process's threads, and
// for a worker its own thread (in kelpie's process), measured over interval.
func WithThreads(units []Info, interval time.Duration) []Info {
	self := os.Getpid()
	var pids []int
	hasWorker := false
	for _, in := range units {
		switch {
		case in.PID > 0:
			pids = append(pids, in.PID)
		case in.TID > 0:
			hasWorker = true
		}
	}
	if hasWorker {
		pids = append(pids, self)
	}
	if len(pids) == 0 {
		return units
	}
	th := SampleThreads(pids, interval)
	for i := range units {
		in := &units[i]
		switch {
		case in.PID > 0:
			in.Threads = th[in.PID]
		case in.TID > 0:
			for _, t := range th[self] {
				if t.TID == in.TID {
					in.Threads = []ThreadInfo{t}
				}
			}
		}
	}
	return units
}

// threadSample is the last read of one process's threads, for the next
// Details call's CPU figures.
type threadSample struct {
	at    time.Time
	start uint64 // the process's start time: a reused pid starts over
	ticks map[int]procStat
}

// threadsSince lists pid's threads with each one's CPU % since the previous
// call for pid (0 on the first): the Stats view asks for Details every
// second or so, and that pace is the measuring interval, with no waiting.
func (s *Supervisor) threadsSince(pid int, now time.Time) []ThreadInfo {
	buf := make([]byte, 1024)
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	cur := threadSample{at: now, ticks: make(map[int]procStat, len(names))}
	if me, ok := readStat(pid); ok {
		cur.start = me.start
	}
	for _, n := range names {
		tid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if p, ok := parseStat(readSmall(dir+"/"+n+"/stat", buf)); ok {
			cur.ticks[tid] = p
		}
	}
	s.threadsMu.Lock()
	prev, had := s.threadPrev[pid]
	if s.threadPrev == nil || len(s.threadPrev) > 256 {
		s.threadPrev = make(map[int]threadSample) // bounded: old pids go
	}
	s.threadPrev[pid] = cur
	s.threadsMu.Unlock()
	dt := now.Sub(prev.at).Seconds()
	out := make([]ThreadInfo, 0, len(cur.ticks))
	for tid, p := range cur.ticks {
		ti := ThreadInfo{TID: tid, Name: cleanLine(string(p.comm[:p.commLen])), State: string(rune(p.state))}
		if old, ok := prev.ticks[tid]; had && ok && prev.start == cur.start && old.start == p.start && p.ticks >= old.ticks && dt > 0 {
			ti.CPU = float64(p.ticks-old.ticks) / clockTicks / dt * 100
		}
		out = append(out, ti)
	}
	slices.SortFunc(out, func(a, b ThreadInfo) int { return a.TID - b.TID })
	return out
}
