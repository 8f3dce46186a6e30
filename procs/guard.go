package procs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// killTagged kills every process (but self) whose environment carries TagVar
// with the value want, or starting with want when want ends in "/". It first
// stops them all, so none can fork a replacement between scans, then kills
// them, and scans again until a scan finds none. It returns how many it hit.
func killTagged(want string, self int) int {
	if want == "" {
		return 0
	}
	hit := 0
	for round := 0; round < 20; round++ {
		pids := tagged(want, self)
		if len(pids) == 0 {
			return hit
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		hit += len(pids)
	}
	return hit
}

// tagged lists the live processes tagged as killTagged describes. Zombies
// have an empty environ and are not listed: they are already dead.
func tagged(want string, self int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	key := []byte(TagVar + "=" + want)
	prefix := want != "" && want[len(want)-1] == '/'
	var out []int
	buf := make([]byte, 64<<10)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		env := readSmall("/proc/"+name+"/environ", buf)
		for len(env) > 0 {
			var kv []byte
			kv, env, _ = bytes.Cut(env, []byte{0})
			if bytes.HasPrefix(kv, key) && (prefix || len(kv) == len(key)) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// readSmall reads up to len(buf) bytes of a /proc file into buf.
func readSmall(path string, buf []byte) []byte {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if m <= 0 || err != nil {
			break
		}
		n += m
	}
	return buf[:n]
}

// StartGuard starts the guard: exe with args, which must lead to RunGuard in
// the new process. The guard lives in its own session, outside kelpie's
// process group, and waits on a pipe whose only writer is the returned file.
// When kelpie dies, by SIGKILL too, the kernel closes that file, the guard
// reads EOF and kills every process carrying this run's tag. Close the file
// at a clean exit for the same sweep.
func StartGuard(exe string, args []string) (*os.File, error) {
	r, w, err := os.Pipe() // close-on-exec: children never hold the writer open
	if err != nil {
		return nil, fmt.Errorf("guard pipe: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("guard: %w", err)
	}
	defer null.Close()
	p, err := os.StartProcess(exe, append([]string{exe}, args...), &os.ProcAttr{
		Files: []*os.File{r, null, null},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start guard: %w", err)
	}
	_ = p.Release()
	return w, nil
}

// RunGuard is the guard's whole life: wait for EOF on r, then kill every
// process tagged with tag (see TagVar). Terminal hang-ups and interrupts are
// ignored: the guard must outlive the kelpie that started it.
func RunGuard(tag string, r io.Reader) int {
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	_, _ = io.Copy(io.Discard, r)
	return killTagged(tag+"/", os.Getpid())
}
