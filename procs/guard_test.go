package procs

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startCmd starts c and reaps it when the test ends (killing it if needed).
func startCmd(t *testing.T, c *exec.Cmd) int {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	return c.Process.Pid
}

// A tagged process whose environment holds 100 KiB before the tag is found.
func TestTagFoundBehindALargeEnvironment(t *testing.T) {
	tag := NewTag()
	c := exec.Command("sleep", "600")
	c.Env = []string{"BIG=" + strings.Repeat("x", 100<<10), TagVar + "=" + tag + "/big/1"}
	pid := startCmd(t, c)
	if got := newScanner([]string{tag + "/"}).leftovers(os.Getpid(), nil); len(got) != 1 || got[0] != pid {
		t.Fatalf("tagged: %v, want [%d]", got, pid)
	}
	if n := killTagged(os.Getpid(), tag+"/"); n != 1 {
		t.Fatalf("killed %d, want 1", n)
	}
	waitGone(t, []int{pid})
}

// guardedSupervisor runs a supervisor with a guard (the test binary) and a
// unit whose whole process group is untagged (`env -i`), as a grandchild
// started with `env -i` is: only the group says it is the unit's.
func guardedSupervisor(t *testing.T) (*Supervisor, *watcher, int) {
	t.Helper()
	self, _ := os.Executable()
	tag := NewTag()
	s := newTestSupervisor(t, Options{Tag: tag, Guard: []string{self, guardTestArg, tag}})
	spec := Spec{Name: "app", Shell: `exec env -i /bin/sh -c 'sleep 600 & echo child $!; wait'`, Restart: RestartNever}
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("app")
	line := w.waitLine(s, "app", "child ")
	child, _ := strconv.Atoi(strings.TrimPrefix(line.Text, "child "))
	if !alive(child) {
		t.Fatalf("child %d not running", child)
	}
	return s, w, child
}

// closeGuardPipe does to the guard what kelpie's death does: its pipe closes.
func closeGuardPipe(t *testing.T, s *Supervisor) {
	var g *guardLink
	_ = s.call(func() { g = s.guard })
	if g == nil {
		t.Fatal("no guard")
	}
	g.mu.Lock()
	pending := len(g.buf)
	g.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for pending > 0 && time.Now().Before(deadline) { // let the feed reach the guard
		time.Sleep(5 * time.Millisecond)
		g.mu.Lock()
		pending = len(g.buf)
		g.mu.Unlock()
	}
	g.w.Close()
}

// After kelpie's side of the guard goes, the guard kills the unit's group,
// though no process in it carries the tag. Nothing else sends SIGKILL here.
func TestGuardKillsTheUntaggedGroup(t *testing.T) {
	s, w, child := guardedSupervisor(t)
	closeGuardPipe(t, s)
	in := w.until("app", "killed", func(in Info) bool { return !in.State.Live() })
	if in.Signal != "SIGKILL" {
		t.Fatalf("the unit ended with %q %v, want SIGKILL from the guard", in.Signal, in.ExitCode)
	}
	waitGone(t, []int{child})
}

// A guard killed on its own is replaced, and the new one is told the live
// units' groups.
func TestDeadGuardIsReplaced(t *testing.T) {
	s, w, child := guardedSupervisor(t)
	old := s.GuardPID()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.GuardPID() == old || s.GuardPID() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dead guard was not replaced")
		}
		time.Sleep(5 * time.Millisecond)
	}
	closeGuardPipe(t, s)
	in := w.until("app", "killed", func(in Info) bool { return !in.State.Live() })
	if in.Signal != "SIGKILL" {
		t.Fatalf("the unit ended with %q, want SIGKILL from the new guard", in.Signal)
	}
	waitGone(t, []int{child})
}

// A previous run's leftovers are found by its tag and by its groups; a
// process whose group number is in the record but whose leader is another
// process (the number was reused) is spared.
func TestReapLeftovers(t *testing.T) {
	tag := NewTag()
	tc := exec.Command("sleep", "600")
	tc.Env = []string{TagVar + "=" + tag + "/web/1"}
	taggedPID := startCmd(t, tc)

	gc := exec.Command("/bin/sh", "-c", "sleep 600 & echo $!; wait")
	gc.Env = []string{"PATH=" + os.Getenv("PATH")} // no tag: only the group is ours
	gc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := gc.StdoutPipe()
	leader := startCmd(t, gc)
	var buf [32]byte
	n, _ := out.Read(buf[:])
	member, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))

	uc := exec.Command("sleep", "600")
	uc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	unrelated := startCmd(t, uc)

	st := func(pid int) uint64 {
		p, ok := readStat(pid)
		if !ok {
			t.Fatalf("no stat for %d", pid)
		}
		return p.start
	}
	dead := exec.Command("true")
	_ = dead.Run()
	sid, _ := unix.Getsid(0)
	rec := runRecord{Tag: tag, PID: dead.Process.Pid, Start: 1, Boot: bootID(), SID: sid,
		Groups: map[int]uint64{leader: st(leader), unrelated: st(unrelated) + 1}}
	b, _ := json.Marshal(rec)
	file := filepath.Join(t.TempDir(), "k.sock.run")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReapLeftovers(file)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3 {
		t.Fatalf("killed %d, want 3 (the tagged one, the group's leader and member)", got)
	}
	waitGone(t, []int{taggedPID, leader, member})
	if !alive(unrelated) {
		t.Fatal("the unrelated process with a recorded group number was killed")
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("state file left: %v", err)
	}
	if n, err := ReapLeftovers(file); n != 0 || err != nil {
		t.Fatalf("second reap: %d, %v", n, err)
	}
}

// A run with a state file records its groups and removes the file at a
// clean shutdown; ReapLeftovers refuses while the recording kelpie lives.
func TestStateFileRecordsTheRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.sock.run")
	s := newTestSupervisor(t, Options{StateFile: file})
	_ = s.Add(roleSpec("svc", "sleep", ""))
	w := watch(t, s)
	_ = s.Start("svc")
	in := w.state("svc", Running)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var rec runRecord
		b, _ := os.ReadFile(file)
		if json.Unmarshal(b, &rec) == nil && rec.Groups[in.PID] != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state file %s lacks group %d", b, in.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := ReapLeftovers(file); err == nil {
		t.Fatal("ReapLeftovers acted on a live kelpie's run")
	}
}

// cgroupSupervisor is a supervisor with a guard whose unit starts a child
// that is both untagged and outside the unit's process group: only the
// run's cgroup holds it. It skips where the cgroup tree is not writable.
func cgroupSupervisor(t *testing.T) (*Supervisor, *watcher, int) {
	t.Helper()
	self, _ := os.Executable()
	tag := NewTag()
	s := newTestSupervisor(t, Options{Tag: tag, Guard: []string{self, guardTestArg, tag}})
	if c := s.Cleanup(); !strings.HasPrefix(c, "cgroup ") {
		t.Skip("no writable cgroup v2 tree here: " + c)
	}
	_ = s.Add(Spec{Name: "app", Shell: `env -i setsid sleep 600 & echo child $!; exec sleep 600`, Restart: RestartNever})
	w := watch(t, s)
	_ = s.Start("app")
	line := w.waitLine(s, "app", "child ")
	child, _ := strconv.Atoi(strings.TrimPrefix(line.Text, "child "))
	deadline := time.Now().Add(5 * time.Second)
	for { // setsid may not have run yet
		if p, ok := readStat(child); ok && p.sid == child {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never left the group", child)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d, _ := s.Details("app"); !strings.Contains(d.Cleanup, "cgroup ") {
		t.Fatalf("details say %q", d.Cleanup)
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	return s, w, child
}

// The end of a run kills what it left in its cgroup: an `env -i setsid`
// escapee has neither the tag nor the group.
func TestCgroupCatchesEscapeesAtRunEnd(t *testing.T) {
	s, w, child := cgroupSupervisor(t)
	_ = s.Kill("app")
	w.until("app", "ended", func(in Info) bool { return !in.State.Live() })
	waitGone(t, []int{child})
}

// The guard kills the run's cgroup after kelpie's death.
func TestGuardKillsTheCgroup(t *testing.T) {
	s, _, child := cgroupSupervisor(t)
	closeGuardPipe(t, s)
	waitGone(t, []int{child})
}

// ReapLeftovers kills what is left in the previous run's cgroup, however it
// left the tag and the group, and counts each process once.
func TestReapLeftoversInTheCgroup(t *testing.T) {
	tag := NewTag()
	cg, why := setupCgroups(tag)
	if cg == nil {
		t.Skip("no writable cgroup v2 tree here: " + why)
	}
	t.Cleanup(func() { killCgroupTree(cg.base, nil) })
	_, fd, err := cg.newRun("web", 1)
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("setsid", "sleep", "600")
	c.Env = []string{TagVar + "=" + tag + "/web/1"} // in the cgroup and tagged: one process, counted once
	c.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	pid := startCmd(t, c)
	syscall.Close(fd)
	e := exec.Command("env", "-i", "sleep", "600") // in no group of the record, untagged
	e.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	e.Env = []string{}
	_, fd2, _ := cg.newRun("web", 2)
	e.SysProcAttr.UseCgroupFD, e.SysProcAttr.CgroupFD = true, fd2
	pid2 := startCmd(t, e)
	syscall.Close(fd2)

	sid, _ := unix.Getsid(0)
	rec := runRecord{Tag: tag, PID: 1 << 30, Boot: bootID(), SID: sid, Groups: map[int]uint64{}, Cgroup: cg.base}
	b, _ := json.Marshal(rec)
	file := filepath.Join(t.TempDir(), "k.sock.run")
	_ = os.WriteFile(file, b, 0o600)
	n, err := ReapLeftovers(file)
	if err != nil || n != 2 {
		t.Fatalf("reaped %d, %v; want 2", n, err)
	}
	waitGone(t, []int{pid, pid2})
	if _, err := os.Stat(cg.base); !os.IsNotExist(err) {
		t.Fatalf("the old cgroup is still there: %v", err)
	}
}
