package procs

import (
	"slices"
	"time"

	"github.com/shirou/gopsutil/v3/process"
)

// Details gathers what the Stats view shows of a unit: its snapshot, exit
// history, start time, and, while it runs, its main process's ppid, threads,
// open files and working directory (read through gopsutil, so call it off
// any UI goroutine). Every string in it is Clean (see cleanLine): a process
// sets its own argv and working directory, so they are outside text.
func (s *Supervisor) Details(name string) (Details, error) {
	var d Details
	err := s.do(name, func(u *unit) error {
		u.info.LastSeq = u.ring.Last()
		d.Info = u.info
		d.Exits = slices.Clone(u.exits)
		d.Argv = cleanAll(u.spec.Argv)
		if u.spec.Shell != "" {
			d.Argv = cleanAll([]string{"/bin/sh", "-c", u.spec.Shell})
		}
		d.Cwd = cleanLine(u.spec.Dir)
		// kelpie saw the process start; the kernel's start time, converted
		// with the boot time, drifts on VMs restored from a snapshot.
		d.StartTime = u.info.StartedAt
		d.Cleanup = s.cleanup()
		if u.run != nil {
			if note := u.run.cleanupNote(); note != "" {
				d.Cleanup = note
			}
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	if d.Info.PID == 0 {
		if d.Info.TID != 0 { // a worker: its thread in kelpie's process
			d.ThreadList = s.threadsSince(s.self, d.Info.TID, time.Now())
		}
		return d, nil
	}
	d.ThreadList = s.threadsSince(d.Info.PID, 0, time.Now())
	p, perr := process.NewProcess(int32(d.Info.PID))
	if perr != nil {
		return d, nil // it ended meanwhile: the snapshot is still right
	}
	if v, err := p.Ppid(); err == nil {
		d.PPID = int(v)
	}
	if v, err := p.NumThreads(); err == nil {
		d.Threads = int(v)
	}
	if v, err := p.NumFDs(); err == nil {
		d.OpenFiles = int(v)
	}
	if v, err := p.Cwd(); err == nil {
		d.Cwd = cleanLine(v)
	}
	if v, err := p.CmdlineSlice(); err == nil && len(v) > 0 {
		d.Argv = cleanAll(v)
	}
	return d, nil
}

// cleanAll returns a copy of ss with every string Clean, line ends shown as
// spaces (a "sh -c" script keeps its words apart).
func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = cleanLine(s)
	}
	return out
}
