package procs

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// A job in another process group of a tty run's session is found by one
// scan and stopped with the session: kill(-pgid) would miss it.
func TestSessionLiveReachesOtherGroups(t *testing.T) {
	leader, job := ttySession(t)
	if st, _ := readStat(job); st.pgrp == leader {
		t.Fatalf("job %d is in the leader's group: the test proves nothing", job)
	}
	live := sessionLive(leader)
	if !slices.Contains(live, leader) || !slices.Contains(live, job) {
		t.Fatalf("live members %v lack leader %d or job %d", live, leader, job)
	}
	if n := signalSession(leader, syscall.SIGKILL); n < 2 {
		t.Fatalf("signalSession reached %d processes", n)
	}
	for deadline := time.Now().Add(10 * time.Second); !sessionGone(leader); {
		if time.Now().After(deadline) {
			t.Fatalf("session %d still has %v", leader, sessionLive(leader))
		}
		time.Sleep(time.Millisecond) // the kernel's time to end them; polled with a deadline
	}
	if len(sessionLive(1)) != 0 {
		t.Fatal("init's session scanned")
	}
}
