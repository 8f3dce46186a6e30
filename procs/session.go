package procs

import (
	"os"
	"syscall"
)

// sessionLive returns the live processes of session sid (a tty run's
// session: its leader, its jobs in other process groups, and whatever did
// not call setsid itself) from one scan of /proc. Zombies are left out:
// kelpie, as subreaper, reaps them, and a zombie holds no terminal.
func sessionLive(sid int) []int {
	if sid <= 1 {
		return nil // never init's session, nor a run without one
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	buf := make([]byte, 1024) // as readStat: a whole stat line
	path := make([]byte, 0, 32)
	var pids []int
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		path = append(append(append(path[:0], "/proc/"...), name...), "/stat"...)
		p, ok := parseStat(readSmall(string(path), buf))
		if !ok || p.sid != sid || p.state == 'Z' || p.state == 'X' {
			continue // gone meanwhile, another session's, or ended
		}
		pids = append(pids, p.pid)
	}
	return pids
}

// signalSession sends each of sigs in turn to every live process of
// session sid, in one scan, and reports how many processes it found. A
// process that exits meanwhile is not an error.
func signalSession(sid int, sigs ...syscall.Signal) int {
	pids := sessionLive(sid)
	for _, pid := range pids {
		for _, sig := range sigs {
			_ = syscall.Kill(pid, sig)
		}
	}
	return len(pids)
}

// killSession sends SIGKILL to every process of the session, again while a
// round finds one that is not a zombie yet (a member may fork meanwhile).
func killSession(sid int) {
	for range 5 {
		if signalSession(sid, syscall.SIGKILL) == 0 {
			return
		}
	}
}

// sessionGone reports whether no live process is left in session sid.
func sessionGone(sid int) bool { return len(sessionLive(sid)) == 0 }
