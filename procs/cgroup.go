package procs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// cgroupRoot is where cgroup v2 trees are mounted; kelpie only ever touches
// directories under it.
const cgroupRoot = "/sys/fs/cgroup/"

// killCgroupTree kills every process in the cgroup dir and its descendants
// (cgroup.kill where the kernel has it, else SIGKILL to each pid listed, after
// freezing them with SIGSTOP so none forks meanwhile) and removes the emptied
// cgroups. It returns how many processes it found.
func killCgroupTree(dir string) int {
	dir = filepath.Clean(dir)
	if !strings.HasPrefix(dir, cgroupRoot) || strings.Contains(dir, "..") {
		return 0
	}
	n := 0
	for round := 0; round < 20; round++ {
		pids := cgroupPids(dir, nil)
		if len(pids) == 0 {
			break
		}
		n += len(pids)
		if !killCgroup(dir) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	removeCgroupTree(dir)
	return n
}

// killCgroup writes cgroup.kill (Linux 5.14+): every process in the subtree
// gets SIGKILL at once, atomically with respect to forks.
func killCgroup(dir string) bool {
	return os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0) == nil
}

// cgroupPids appends the pids in dir's subtree to pids.
func cgroupPids(dir string, pids []int) []int {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range bytes.Fields(b) {
		if pid, err := strconv.Atoi(string(f)); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			pids = cgroupPids(filepath.Join(dir, e.Name()), pids)
		}
	}
	return pids
}

// removeCgroupTree removes dir's subtree, deepest first; cgroups that still
// hold a dying process stay (rmdir fails with EBUSY) and cost nothing.
func removeCgroupTree(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	_ = syscall.Rmdir(dir)
}
