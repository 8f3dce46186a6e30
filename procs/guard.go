package procs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
)

// killTagged kills every process (but self) whose environment carries TagVar
// with one of the values in wants, or starting with one that ends in "/". It
// first stops them all, so none can fork a replacement between scans, then
// kills them, and scans again until a scan finds none. It returns how many it
// hit. One scan serves any number of tags: a mass exit costs one pass over
// /proc, not one per unit.
func killTagged(self int, wants ...string) int {
	if len(wants) == 0 {
		return 0
	}
	hit := 0
	for round := 0; round < 20; round++ {
		pids := tagged(self, wants)
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
func tagged(self int, wants []string) []int {
	exact := make(map[string]bool, len(wants))
	var prefixes []string
	for _, w := range wants {
		switch {
		case w == "":
		case w[len(w)-1] == '/':
			prefixes = append(prefixes, w)
		default:
			exact[w] = true
		}
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	key := []byte(TagVar + "=")
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
			val, ok := bytes.CutPrefix(kv, key)
			if !ok {
				continue
			}
			if exact[string(val)] || hasAnyPrefix(val, prefixes) {
				out = append(out, pid)
			}
			break
		}
	}
	return out
}

func hasAnyPrefix(b []byte, prefixes []string) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

// sweeper kills the leftovers of ended runs in the background, batching the
// tags that pile up while a scan is under way into the next scan.
type sweeper struct {
	self    int
	wg      *sync.WaitGroup
	mu      sync.Mutex
	pending []string
	running bool
}

// add queues tag for a sweep.
func (sw *sweeper) add(tag string) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.pending = append(sw.pending, tag)
	if !sw.running {
		sw.running = true
		sw.wg.Add(1)
		go sw.run()
	}
}

func (sw *sweeper) run() {
	defer sw.wg.Done()
	for {
		sw.mu.Lock()
		tags := sw.pending
		sw.pending = nil
		if len(tags) == 0 {
			sw.running = false
			sw.mu.Unlock()
			return
		}
		sw.mu.Unlock()
		killTagged(sw.self, tags...)
	}
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
	return killTagged(os.Getpid(), tag+"/")
}
