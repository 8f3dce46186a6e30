package vterm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// SessionMembers lists the processes of session sid (a tty unit's child
// pid), read from /proc/PID/stat: the leader, its jobs in other process
// groups (a shell's background jobs), and anything that did not call
// setsid itself. Stopping a tty unit signals these, not just its group.
func SessionMembers(sid int) ([]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("session members: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("session members: %w", err)
	}
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if s, ok := statSession(b); ok && s == sid {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// statSession reads the session id, the fourth field after the command
// name. The name is in parentheses and may hold spaces and parentheses of
// its own, so fields are counted from the last ')'.
func statSession(b []byte) (int, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	// state ppid pgrp session
	if len(f) < 4 {
		return 0, false
	}
	sid, err := strconv.Atoi(string(f[3]))
	return sid, err == nil
}

// SignalSession sends sig to every process of session sid and reports how
// many it reached. A process that exits meanwhile is not an error. The
// caller repeats it (SIGKILL after its stop timeout) until it reaches none,
// since a member can fork while it runs.
func SignalSession(sid int, sig syscall.Signal) (int, error) {
	if sid <= 1 {
		return 0, fmt.Errorf("signal session %d: not a unit's session", sid)
	}
	pids, err := SessionMembers(sid)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err == nil {
			n++
		} else if !errors.Is(err, syscall.ESRCH) {
			return n, fmt.Errorf("signal %d in session %d: %w", pid, sid, err)
		}
	}
	return n, nil
}
