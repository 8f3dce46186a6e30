package procs

import (
	"testing"
	"time"
)

// A shell loop of short children: the time of a child that ended between
// two scans reaches the unit through its parent's cutime, without the part
// already counted while the child lived, and a grandchild ended with its
// parent goes to the nearest living ancestor.
func TestSamplerCountsReapedChildrenOnce(t *testing.T) {
	sm := newSampler()
	t0 := time.Unix(1000, 0)
	sh := procStat{pid: 100, ppid: 1, pgrp: 100, ticks: 10, start: 5}
	kid := procStat{pid: 101, ppid: 100, pgrp: 100, ticks: 50, start: 6}
	grand := procStat{pid: 102, ppid: 101, pgrp: 100, ticks: 20, start: 7}
	sm.stats = []procStat{sh, kid, grand}
	targets := []target{{name: "loop", pid: 100}}
	sm.account(targets, t0) // the first scan counts nothing

	// One second (100 ticks) later: kid and grand have ended and been
	// reaped (kid reaped grand: its total then was 50+30 own + 25 of
	// grand; sh reaped kid); sh itself used 2 ticks, and a new child was
	// born and used 40 ticks of which 15 in children it reaped already.
	sh.ticks, sh.cticks = 12, 80+25
	born := procStat{pid: 103, ppid: 100, pgrp: 100, ticks: 40, cticks: 15, start: 90}
	sm.stats = []procStat{sh, born}
	st, _ := sm.account(targets, t0.Add(time.Second))
	// New time: sh 2, kid 30 more, grand 5 more, born 40+15.
	want := float64(2+30+5+40+15) / clockTicks * 100
	if got := st.Units["loop"].CPU; got < want-0.01 || got > want+0.01 {
		t.Fatalf("unit CPU %.2f %%, want %.2f %% (each tick once)", got, want)
	}
}
