package procs

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// waitsOn reports whether a process of the tree under pid (it and its
// descendants, a few levels down) waits on the socket with inode ino: an
// epoll instance of it watches the socket (Go, Node, most event loops), or
// one of its threads is blocked in accept on it, or in poll or select while
// holding it (Python's socketserver). It is how a cluster member sharing a
// socket is seen to be ready: a connect probe cannot tell, since the kernel
// queues connections on a listening socket whoever accepts them.
func waitsOn(pid int, ino uint64) bool {
	if pid <= 0 {
		return false
	}
	want := "socket:[" + strconv.FormatUint(ino, 10) + "]"
	hexIno := "ino:" + strconv.FormatUint(ino, 16)
	queue := []int{pid}
	for depth := 0; depth < 4 && len(queue) > 0; depth++ {
		var next []int
		for _, p := range queue {
			if procWaitsOn(p, want, hexIno) {
				return true
			}
			next = append(next, childrenOf(p)...)
		}
		queue = next
	}
	return false
}

// procWaitsOn is waitsOn for one process.
func procWaitsOn(pid int, want, hexIno string) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	ents, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return false
	}
	holds := map[string]bool{}
	for _, e := range ents {
		link, err := os.Readlink(dir + "/fd/" + e.Name())
		if err != nil {
			continue
		}
		switch {
		case link == want:
			holds[e.Name()] = true
		case link == "anon_inode:[eventpoll]":
			info, err := os.ReadFile(dir + "/fdinfo/" + e.Name())
			if err == nil && epollWatches(info, hexIno) {
				return true
			}
		}
	}
	if len(holds) == 0 {
		return false
	}
	tasks, _ := os.ReadDir(dir + "/task")
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/task/" + t.Name() + "/syscall")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		nr, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		if fd, ok := acceptFD(nr, f[1]); ok {
			if fd < 0 || holds[strconv.Itoa(fd)] {
				return true
			}
			continue
		}
		if isPollCall(nr) {
			return true
		}
	}
	return false
}

// epollWatches reports whether an epoll fdinfo lists a target with the
// inode (its lines read "tfd: N events: E data: D pos:0 ino:HEX sdev:S").
func epollWatches(info []byte, hexIno string) bool {
	for line := range bytes.Lines(info) {
		if bytes.HasPrefix(line, []byte("tfd:")) {
			for _, w := range bytes.Fields(line) {
				if string(w) == hexIno {
					return true
				}
			}
		}
	}
	return false
}

// isPollCall reports whether nr is a syscall that waits on many fds.
func isPollCall(nr int) bool {
	switch nr {
	case unix.SYS_PPOLL, unix.SYS_PSELECT6:
		return true
	}
	// poll(2) and select(2) are amd64's own (arm64 has only the p forms).
	return runtime.GOARCH == "amd64" && (nr == 7 || nr == 23)
}

// childrenOf lists pid's children (every thread's).
func childrenOf(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, _ := os.ReadDir(dir)
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, w := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(w); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// syscallArg parses an argument of a /proc syscall line (hex, 0x...).
func syscallArg(arg string) (int, bool) {
	v, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 31) // fits an int everywhere
	return int(v), err == nil
}
