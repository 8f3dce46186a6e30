package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc (100 on every Linux
// architecture Go supports).
const clockTicks = 100

// probe names the processes whose CPU time is sampled.
type probe struct{ kelpie, tmux, self int }

// loadSample is the CPU time used so far, in clock ticks, by kelpie, the
// tmux server, this driver, and the whole machine (busy and total, all CPUs).
type loadSample struct {
	kelpie, tmux, self int64
	busy, total        int64
	at                 time.Time
}

// load is the CPU used over a span: by each process in percent of one core,
// by the machine in percent of all its cores.
type load struct{ kelpie, tmux, self, machine float64 }

// sample reads the CPU times now.
func (p probe) sample() (loadSample, error) {
	var s loadSample
	var err error
	if s.kelpie, err = procTicks(p.kelpie); err != nil {
		return s, fmt.Errorf("kelpie's CPU time: %w", err)
	}
	if s.tmux, err = procTicks(p.tmux); err != nil {
		return s, fmt.Errorf("tmux server's CPU time: %w", err)
	}
	if s.self, err = procTicks(p.self); err != nil {
		return s, fmt.Errorf("own CPU time: %w", err)
	}
	if s.busy, s.total, err = machineTicks(); err != nil {
		return s, fmt.Errorf("machine CPU time: %w", err)
	}
	s.at = time.Now()
	return s, nil
}

// since is the load between b and a.
func (a loadSample) since(b loadSample) load {
	secs := a.at.Sub(b.at).Seconds()
	if secs <= 0 {
		return load{}
	}
	core := func(ticks int64) float64 { return float64(ticks) / clockTicks / secs * 100 }
	l := load{kelpie: core(a.kelpie - b.kelpie), tmux: core(a.tmux - b.tmux), self: core(a.self - b.self)}
	if t := a.total - b.total; t > 0 {
		l.machine = float64(a.busy-b.busy) / float64(t) * 100
	}
	return l
}

// procTicks is pid's user + system CPU time, from /proc/PID/stat.
func procTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state): utime is 14, stime 15
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return sumInts(f[11:13])
}

// machineTicks is the machine's busy and total CPU time, all CPUs, from the
// first line of /proc/stat (idle and iowait count as not busy).
func machineTicks() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("malformed /proc/stat: %q", line)
	}
	// user nice system idle iowait irq softirq steal (guest time is
	// already counted in user and nice).
	f = f[1:min(len(f), 9)]
	if total, err = sumInts(f); err != nil {
		return 0, 0, err
	}
	idle, err := sumInts(f[3:5])
	if err != nil {
		return 0, 0, err
	}
	return total - idle, total, nil
}

func sumInts(fields []string) (int64, error) {
	var sum int64
	for _, v := range fields {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}
