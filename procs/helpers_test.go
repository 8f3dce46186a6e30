package procs

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// The test binary plays the children (as Go's own os/exec tests do): with
// KELPIE_TEST_ROLE set it acts out that role instead of running tests.
const roleVar = "KELPIE_TEST_ROLE"

// guardTestArg makes the test binary a guard.
const guardTestArg = "__guard"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == guardTestArg { // the guard (see Options.Guard)
		RunGuard(os.Args[2], os.Stdin)
		os.Exit(0)
	}
	if role := os.Getenv(roleVar); role != "" {
		os.Exit(playRole(role, os.Getenv("KELPIE_TEST_ARG")))
	}
	os.Exit(m.Run())
}

func playRole(role, arg string) int {
	switch role {
	case "exit": // exit with status arg
		n, _ := strconv.Atoi(arg)
		fmt.Println("exiting with", n)
		return n
	case "sleep": // run until killed
		fmt.Println("ready")
		select {}
	case "ignore-term": // ignore SIGTERM, run until SIGKILL
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		select {}
	case "bigline": // one line of arg bytes without a newline, then wait
		n, _ := strconv.Atoi(arg)
		os.Stdout.Write([]byte(strings.Repeat("x", n)))
		os.Stdout.Close()
		select {}
	case "flood": // arg lines of 100 bytes, as fast as possible, then exit
		n, _ := strconv.Atoi(arg)
		line := []byte(strings.Repeat("y", 99) + "\n")
		buf := make([]byte, 0, 64<<10)
		for i := 0; i < n; i++ {
			if len(buf)+len(line) > cap(buf) {
				os.Stdout.Write(buf)
				buf = buf[:0]
			}
			buf = append(buf, line...)
		}
		os.Stdout.Write(buf)
		return 0
	case "ipc-echo":
		return ipcEcho()
	case "ipc-ready": // say {"ready":true} on the channel, then run until killed
		return ipcReady()
	case "grandchildren": // start a grandchild in our group and one in its own session, print their pids
		self, _ := os.Executable()
		var pids []string
		for _, setsid := range []bool{false, true} {
			c := exec.Command(self)
			c.Env = append(os.Environ(), roleVar+"=sleep")
			c.SysProcAttr = &syscall.SysProcAttr{Setsid: setsid}
			if err := c.Start(); err != nil {
				fmt.Println("start:", err)
				return 1
			}
			pids = append(pids, strconv.Itoa(c.Process.Pid))
		}
		fmt.Println("pids", strings.Join(pids, " "))
		select {}
	}
	if code, ok := clusterRole(role); ok {
		return code
	}
	if code, ok := probeRole(role, arg); ok {
		return code
	}
	fmt.Fprintln(os.Stderr, "unknown role", role)
	return 3
}

// roleSpec is a unit that runs the test binary in a role.
func roleSpec(name, role, arg string) Spec {
	self, _ := os.Executable()
	return Spec{Name: name, Argv: []string{self}, Env: []string{roleVar + "=" + role, "KELPIE_TEST_ARG=" + arg}}
}

// fakeClock fires timers only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	added  chan time.Duration // every AfterFunc's duration, so tests can await one
}

type fakeTimer struct {
	c    *fakeClock
	at   time.Time
	f    func()
	dead bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), added: make(chan time.Duration, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	select {
	case c.added <- d:
	default:
	}
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.dead
	t.dead = true
	return was
}

// Advance moves time on and fires what is due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.dead && !t.at.After(c.now) {
			t.dead = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// newTestSupervisor starts a supervisor that is shut down with the test.
func newTestSupervisor(t *testing.T, opts Options) *Supervisor {
	t.Helper()
	if opts.Tick == 0 {
		opts.Tick = -1
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// watcher follows a subscription and lets a test await unit states.
type watcher struct {
	t     *testing.T
	sub   Events
	cur   map[string]Info
	queue map[string][]Info // states seen but not yet waited for, per unit
}

func watch(t *testing.T, s *Supervisor) *watcher {
	snap, sub := s.Subscribe()
	t.Cleanup(sub.Close)
	w := &watcher{t: t, sub: sub, cur: map[string]Info{}, queue: map[string][]Info{}}
	for _, in := range snap {
		w.cur[in.Name] = in
	}
	return w
}

// until waits for a state of the named unit that satisfies ok, failing the
// test after a generous bound (a hang, not a timing assertion).
func (w *watcher) until(name string, what string, ok func(Info) bool) Info {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		for len(w.queue[name]) > 0 {
			in := w.queue[name][0]
			w.queue[name] = w.queue[name][1:]
			if ok(in) {
				return in
			}
		}
		b, err := w.sub.Next(ctx)
		if err != nil {
			w.t.Fatalf("waiting for %s to be %s: %v (last: %+v)", name, what, err, w.cur[name])
		}
		w.absorb(b)
	}
}

func (w *watcher) absorb(b Batch) {
	for _, in := range b.States {
		w.cur[in.Name] = in
		w.queue[in.Name] = append(w.queue[in.Name], in)
	}
}

func (w *watcher) state(name string, st State) Info {
	w.t.Helper()
	return w.until(name, string(st), func(in Info) bool { return in.State == st })
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	p, ok := parseStatState(b)
	return ok && p != 'Z' && p != 'X'
}

func parseStatState(b []byte) (byte, bool) {
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0, false
	}
	return b[i+2], true
}

// ipcEcho answers every message with {"echo": msg} over the channel from the parent.
func ipcEcho() int {
	conn, err := ipc.FromParent()
	if err != nil {
		fmt.Println("no channel:", err)
		return 1
	}
	if os.Getenv(ipc.EnvChannelFD) != "" {
		fmt.Println("NODE_CHANNEL_FD still set")
		return 1
	}
	fmt.Println("ready")
	for {
		m, err := conn.Recv()
		if err != nil {
			return 0
		}
		if string(m.Raw) == `"bye"` {
			conn.Flush(context.Background())
			conn.Close()
			fmt.Println("closed")
			select {}
		}
		if string(m.Raw) == `"flood"` { // 5 MiB of stdout, far past the log ring
			w := bufio.NewWriterSize(os.Stdout, 64<<10)
			line := strings.Repeat("x", 99) + "\n"
			for range 50 << 10 {
				w.WriteString(line)
			}
			w.WriteString("flooded\n")
			w.Flush()
			continue
		}
		_ = conn.Send(map[string]json.RawMessage{"echo": m.Raw})
	}
}
