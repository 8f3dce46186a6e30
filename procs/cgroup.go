package procs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where cgroup v2 trees are mounted; kelpie only ever touches
// directories under it.
const cgroupRoot = "/sys/fs/cgroup/"

// killCgroupTree kills every process in the cgroup dir and its descendants
// (cgroup.kill where the kernel has it, else SIGKILL to each pid listed, after
// freezing them with SIGSTOP so none forks meanwhile) and removes the emptied
// cgroups. It adds the pids it found to hit (if not nil).
func killCgroupTree(dir string, hit map[int]bool) {
	dir = filepath.Clean(dir)
	if !strings.HasPrefix(dir, cgroupRoot) || strings.Contains(dir, "..") {
		return
	}
	for round := 0; round < 20; round++ {
		pids := cgroupPids(dir, nil)
		if len(pids) == 0 {
			break
		}
		if hit != nil {
			for _, pid := range pids {
				hit[pid] = true
			}
		}
		if !killCgroup(dir) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	// SIGKILL takes a moment to land, and tearing down a big address space
	// can take a second on a loaded machine; a cgroup is removable once empty.
	for waited, wait := time.Duration(0), time.Millisecond; !cgroupEmpty(dir) && waited < 5*time.Second; waited, wait = waited+wait, min(2*wait, 500*time.Millisecond) {
		time.Sleep(wait)
	}
	removeCgroupTree(dir)
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

// cgroupTree is the run's own cgroup, when the cgroup v2 tree is writable
// here: every run of every unit is started straight into a child of it
// (clone3 with CLONE_INTO_CGROUP), so whatever a run starts, with `env -i`,
// `setsid` or a double fork, stays in that child, and cleanup kills the child.
type cgroupTree struct {
	base string // <kelpie's cgroup>/kelpie-<tag>
}

// setupCgroups makes the run's cgroup under kelpie's own, or says why not.
// No controller is enabled, so kelpie need not move itself into a leaf (the
// no-internal-processes rule is about controllers). Where kelpie's cgroup is
// not the root, it must be delegated: writable by a non-root user, or marked
// by systemd's delegate xattr; root elsewhere would trespass on systemd's tree.
func setupCgroups(tag string) (*cgroupTree, string) {
	mount := cgroup2Mount()
	if mount == "" {
		return nil, "no cgroup v2 mount"
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, "cannot read /proc/self/cgroup"
	}
	var rel string
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel, found = p, true
		}
	}
	if !found || strings.Contains(rel, "(deleted)") {
		return nil, "kelpie is in no cgroup v2 group"
	}
	dir := filepath.Join(mount, rel)
	if !strings.HasPrefix(dir+"/", cgroupRoot) {
		return nil, "cgroup v2 mounted outside " + cgroupRoot
	}
	if rel != "/" && os.Geteuid() == 0 && !delegated(dir) {
		return nil, "kelpie's cgroup " + rel + " is not delegated to it"
	}
	base := filepath.Join(dir, "kelpie-"+tag)
	if err := os.Mkdir(base, 0o755); err != nil {
		return nil, "cannot create a cgroup: " + err.Error()
	}
	return &cgroupTree{base: base}, ""
}

// delegated reports whether systemd delegated the cgroup at dir (Delegate=yes).
func delegated(dir string) bool {
	buf := make([]byte, 8)
	for _, attr := range []string{"trusted.delegate", "user.delegate"} {
		if n, err := unix.Getxattr(dir, attr, buf); err == nil && string(buf[:n]) == "1" {
			return true
		}
	}
	return false
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup
// on a unified system, /sys/fs/cgroup/unified on a hybrid one).
func cgroup2Mount() string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if f := strings.Fields(pre); len(f) >= 5 {
			return f[4]
		}
	}
	return ""
}

// newRun makes the cgroup for a unit's run and opens it for CLONE_INTO_CGROUP.
func (cg *cgroupTree) newRun(unit string, run int) (string, int, error) {
	name := make([]byte, 0, len(unit)+16)
	name = append(name, "u-"...)
	for i := 0; i < len(unit) && i < 128; i++ {
		c := unit[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			name = append(name, c)
		} else {
			name = append(name, '_')
		}
	}
	name = append(name, '.')
	name = strconv.AppendInt(name, int64(run), 10)
	dir := filepath.Join(cg.base, string(name))
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return "", -1, err
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		_ = syscall.Rmdir(dir)
		return "", -1, err
	}
	return dir, fd, nil
}

// cgroupEmpty reports whether no live process is left in the cgroup at dir.
func cgroupEmpty(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return true // gone
	}
	return bytes.Contains(b, []byte("populated 0"))
}

// startInCgroup starts the unit's process in a new cgroup for this run when
// kelpie has a cgroup tree (recording it in r.cgroup), else plainly. If the
// kernel refuses CLONE_INTO_CGROUP, kelpie drops cgroups for good and falls
// back to process groups and tags. Owner goroutine only.
func (s *Supervisor) startInCgroup(u *unit, r *procRun, path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	r.cgroup = ""
	if s.cg == nil {
		return os.StartProcess(path, argv, attr)
	}
	dir, fd, err := s.cg.newRun(u.spec.Name, u.runNumber())
	if err != nil {
		s.dropCgroups(err)
		return os.StartProcess(path, argv, attr)
	}
	attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, fd
	p, err := os.StartProcess(path, argv, attr)
	syscall.Close(fd)
	if err == nil {
		r.cgroup = dir
		return p, nil
	}
	_ = syscall.Rmdir(dir)
	attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = false, 0
	p, err2 := os.StartProcess(path, argv, attr)
	if err2 == nil {
		s.dropCgroups(err) // the cgroup was the trouble
	}
	return p, err2
}

// dropCgroups stops using cgroups after the kernel refused one.
func (s *Supervisor) dropCgroups(err error) {
	s.cgNote = "the kernel refused: " + err.Error()
	base := s.cg.base
	s.cg = nil
	go killCgroupTree(base, nil) // runs already in it still end there; empty ones go
}

// signalCgroup sends sig to every process in the cgroup at dir (none if dir
// is "") except those in process group pgid, which the caller signalled
// already (kill(-pgid)): a second SIGTERM or SIGINT makes many programs
// skip their clean shutdown. A pid whose group cannot be read is signalled.
func signalCgroup(dir string, sig syscall.Signal, pgid int) {
	if dir == "" {
		return
	}
	for _, pid := range cgroupPids(dir, nil) {
		if inGroup(pid, pgid) {
			continue
		}
		_ = syscall.Kill(pid, sig)
	}
}

// inGroup reports whether pid is known to be in process group pgid (0: no
// group, never).
func inGroup(pid, pgid int) bool {
	if pgid <= 0 {
		return false
	}
	st, ok := readStat(pid)
	return ok && st.pgrp == pgid
}
