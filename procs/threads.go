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
			for tid, p := range readTasks(pid, 0, buf) {
				out[key{pid, tid}] = p
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
		old, ok := before[k]
		res[k.pid] = append(res[k.pid], threadInfo(k.tid, p, old, ok, dt))
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

// threadsSince lists pid's threads (only thread only, when not 0: a
// worker's, in kelpie's process of a thousand threads) with each one's CPU %
// since the previous call for the same pid or thread (0 on the first): the
// Stats view asks for Details every second or so, and that pace is the
// measuring interval, with no waiting.
func (s *Supervisor) threadsSince(pid, only int, now time.Time) []ThreadInfo {
	cur := threadSample{at: now, ticks: readTasks(pid, only, make([]byte, 1024))}
	if cur.ticks == nil {
		return nil
	}
	if me, ok := readStat(pid); ok {
		cur.start = me.start
	}
	key := pid
	if only != 0 {
		key = only // a thread id never equals a live process's id but its own
	}
	s.threadsMu.Lock()
	prev, had := s.threadPrev[key]
	if s.threadPrev == nil || len(s.threadPrev) > 256 {
		s.threadPrev = make(map[int]threadSample) // bounded: old pids go
	}
	s.threadPrev[key] = cur
	s.threadsMu.Unlock()
	dt := now.Sub(prev.at).Seconds()
	out := make([]ThreadInfo, 0, len(cur.ticks))
	for tid, p := range cur.ticks {
		old, ok := prev.ticks[tid]
		out = append(out, threadInfo(tid, p, old, had && ok && prev.start == cur.start, dt))
	}
	slices.SortFunc(out, func(a, b ThreadInfo) int { return a.TID - b.TID })
	return out
}

// readTasks reads the stat of each of pid's threads (only thread only, when
// not 0); nil when the process is gone.
func readTasks(pid, only int, buf []byte) map[int]procStat {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	names := []string{strconv.Itoa(only)}
	if only == 0 {
		d, err := os.Open(dir)
		if err != nil {
			return nil
		}
		names, _ = d.Readdirnames(-1)
		d.Close()
	}
	out := make(map[int]procStat, len(names))
	for _, n := range names {
		tid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if p, ok := parseStat(readSmall(dir+"/"+n+"/stat", buf)); ok {
			out[tid] = p
		}
	}
	if len(out) == 0 && only != 0 {
		return nil
	}
	return out
}

// threadInfo is one thread as listed: its comm is outside text (a thread
// names itself); its CPU % is from old, a sample dt seconds before, when
// hadOld and old is the same thread (its start time).
func threadInfo(tid int, p, old procStat, hadOld bool, dt float64) ThreadInfo {
	ti := ThreadInfo{TID: tid, Name: cleanLine(string(p.comm[:p.commLen])), State: string(rune(p.state))}
	if hadOld && old.start == p.start && p.ticks >= old.ticks && dt > 0 {
		ti.CPU = float64(p.ticks-old.ticks) / clockTicks / dt * 100
	}
	return ti
}
