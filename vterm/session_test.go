package vterm

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatSession(t *testing.T) {
	s, ok := statSession([]byte("42 (a) b) (c) S 1 40 41 34816 42 4194560"))
	if !ok || s != 41 {
		t.Fatalf("statSession = %d, %v", s, ok)
	}
	if _, ok := statSession([]byte("garbage")); ok {
		t.Fatal("garbage parsed")
	}
}

// A job in another process group of the unit's session is found and
// stopped with the session: kill(-pgid) would miss it.
func TestSignalSessionReachesOtherGroups(t *testing.T) {
	s := startSession(t, []string{"sh", "-c", "set -m; sleep 300 & echo BG=$!; wait"}, nil, 80, 24)
	var bg int
	s.waitScreen(t, "background pid", func(scr string) bool {
		_, after, ok := strings.Cut(scr, "BG=")
		if !ok {
			return false
		}
		f := strings.Fields(after)
		if len(f) == 0 {
			return false
		}
		bg, _ = strconv.Atoi(f[0])
		return bg > 0
	})
	leader := s.proc.Pid
	if pg, _ := unix.Getpgid(bg); pg == leader {
		t.Fatalf("job %d is in the leader's group: the test proves nothing", bg)
	}
	members, err := SessionMembers(leader)
	if err != nil {
		t.Fatal(err)
	}
	found := map[int]bool{}
	for _, p := range members {
		found[p] = true
	}
	if !found[leader] || !found[bg] {
		t.Fatalf("members %v lack leader %d or job %d", members, leader, bg)
	}
	if n, err := SignalSession(leader, syscall.SIGKILL); err != nil || n < 2 {
		t.Fatalf("SignalSession = %d, %v", n, err)
	}
	s.waitExit(t)
	waitFor(t, "job gone", func() bool {
		// The job's parent (the shell) is dead; init reaps it. Until then
		// it is a zombie, which stat shows as Z.
		b, err := readStat(bg)
		return err != nil || strings.Contains(b, ") Z ")
	})
	if _, err := SignalSession(1, syscall.SIGKILL); err == nil {
		t.Fatal("session 1 accepted")
	}
}

func readStat(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return string(b), err
}
