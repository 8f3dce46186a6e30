package procs

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/cluster"
	"github.com/kelpie-dev/kelpie/ipc"
)

// clusterRole plays a cluster member: "http-fds" serves HTTP on the socket
// it inherits by systemd's convention, answering "pid id"; it checks the
// convention first (LISTEN_PID is its own pid) and stops gracefully on
// SIGTERM, finishing the requests it has.
func clusterRole(role string) (int, bool) {
	switch role {
	case "http-fds":
		return serveFDs(), true
	case "http-fds-ipc": // fds with a channel: it must be fd 4
		if fd := os.Getenv(ipc.EnvChannelFD); fd != "4" {
			fmt.Println("NODE_CHANNEL_FD is", fd)
			return 4, true
		}
		conn, err := ipc.FromParent()
		if err != nil {
			fmt.Println("channel:", err)
			return 4, true
		}
		if err := conn.Send(map[string]any{"ready": true, "id": os.Getenv(WorkerIDVar)}); err != nil {
			fmt.Println("send:", err)
			return 4, true
		}
		return serveFDs(), true
	case "http-rr": // round-robin: connections come over the channel
		ln, err := cluster.WorkerListener()
		if err != nil {
			fmt.Println("worker listener:", err)
			return 4, true
		}
		return serveHTTP(ln), true
	}
	return 0, false
}

// serveFDs checks systemd's convention and serves on fd 3.
func serveFDs() int {
	if got := os.Getenv("LISTEN_PID"); got != strconv.Itoa(os.Getpid()) {
		fmt.Println("LISTEN_PID", got, "is not my pid", os.Getpid())
		return 4
	}
	if os.Getenv("LISTEN_FDS") != "1" || os.Getenv("LISTEN_FDNAMES") == "" {
		fmt.Println("bad LISTEN_FDS/LISTEN_FDNAMES:", os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES"))
		return 4
	}
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Println("fd 3:", err)
		return 4
	}
	return serveHTTP(ln)
}

// serveHTTP answers "pid id" on ln until SIGTERM, then finishes the
// connections it has.
func serveHTTP(ln net.Listener) int {
	id := os.Getenv(WorkerIDVar)
	// Graceful as a server sharing a socket must be: stop accepting, then
	// finish every connection in hand. (http.Server.Shutdown alone drops
	// a request it reads after it was called: the client sees EOF.)
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%d %s", os.Getpid(), id)
		}),
		ConnState: func(c net.Conn, st http.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			if st == http.StateClosed || st == http.StateHijacked {
				delete(open, c)
			} else {
				open[c] = true
			}
		},
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		<-stop
		close(quit)
		ln.Close()
	}()
	fmt.Println("serving", id)
	err := srv.Serve(ln)
	select {
	case <-quit:
	default:
		fmt.Println("serve:", err)
		return 1
	}
	for {
		mu.Lock()
		n := len(open)
		mu.Unlock()
		if n == 0 {
			return 0
		}
		time.Sleep(time.Millisecond)
	}
}

// fdsCluster is a cluster of n test-binary members serving on a free port.
func fdsCluster(t *testing.T, s *Supervisor, name string, n int) string {
	t.Helper()
	c := Cluster{Spec: roleSpec(name, "http-fds", ""), Listen: "127.0.0.1:0", Mode: ModeFDs, Instances: n}
	c.Spec.Restart = RestartAlways
	c.Spec.StopTimeout = 5 * time.Second
	ln, err := ListenCluster(&c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String()
}

// get asks addr for / on a new connection and returns the body.
func get(addr string) (string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// servedBy counts the distinct first words (pids) of bodies from n requests
// until every want pid answered; it fails on any failed request.
func servedBy(t *testing.T, addr string, want int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d workers answered: %v", len(seen), want, seen)
		}
		body, err := get(addr)
		if err != nil {
			t.Fatal(err)
		}
		pid, _, _ := strings.Cut(body, " ")
		seen[pid]++
	}
	return seen
}

// allReady waits until the group has n members, each running and ready.
func allReady(t *testing.T, s *Supervisor, group string, n int) []Info {
	t.Helper()
	var got []Info
	waitFor(t, fmt.Sprintf("%d ready members of %s", n, group), func() bool {
		got = got[:0]
		for _, in := range s.List() {
			if in.Group == group {
				got = append(got, in)
			}
		}
		if len(got) != n {
			return false
		}
		for _, in := range got {
			if in.State != Running || !in.Ready {
				return false
			}
		}
		return true
	})
	return got
}

func TestClusterFDsEveryWorkerServes(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addr := fdsCluster(t, s, "web", 3)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	members := allReady(t, s, "web", 3)
	for i, in := range members {
		if in.Name != MemberName("web", i) || in.Group != "web" || in.Kind != KindProcess || in.Listen != addr {
			t.Fatalf("member %d: %+v", i, in)
		}
	}
	seen := servedBy(t, addr, 3)
	for _, in := range members {
		if seen[strconv.Itoa(in.PID)] == 0 {
			t.Fatalf("pid %d (%s) never served: %v", in.PID, in.Name, seen)
		}
	}
}

func TestClusterFDsPythonServer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "server.py")
	// A server in another language, knowing only systemd's convention.
	err = os.WriteFile(script, []byte(`import os, socket, http.server
assert os.environ["LISTEN_PID"] == str(os.getpid()), "LISTEN_PID"
assert os.environ["LISTEN_FDS"] == "1"
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%d %s" % (os.getpid(), os.environ["KELPIE_WORKER_ID"])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H, bind_and_activate=False)
srv.socket.close()
srv.socket = socket.socket(fileno=3)
srv.serve_forever()
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	// As an argv, and as a run: string (a shell command: LISTEN_PID must
	// still be the server's own pid).
	for _, sp := range []Spec{{Name: "py", Argv: []string{py, script}}, {Name: "py", Shell: py + " " + script}} {
		t.Run(map[bool]string{true: "shell", false: "argv"}[sp.Shell != ""], func(t *testing.T) {
			s := newTestSupervisor(t, Options{})
			c := Cluster{Spec: sp, Listen: "127.0.0.1:0", Instances: 2}
			ln, err := ListenCluster(&c)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.AddCluster(c, ln); err != nil {
				t.Fatal(err)
			}
			if err := s.StartAll(); err != nil {
				t.Fatal(err)
			}
			allReady(t, s, "py", 2)
			servedBy(t, ln.Addr().String(), 2)
		})
	}
}

func TestClusterBindError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	c := Cluster{Spec: Spec{Name: "web", Argv: []string{"true"}}, Listen: busy.Addr().String()}
	_, err = ListenCluster(&c)
	if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("bind error = %v", err)
	}
}

func TestClusterRespawnAfterKill(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addr := fdsCluster(t, s, "web", 2)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	before := allReady(t, s, "web", 2)
	if err := syscall.Kill(before[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var after []Info
	waitFor(t, "a new web/0", func() bool {
		after = allReady(t, s, "web", 2)
		return after[0].PID != before[0].PID
	})
	if after[0].Restarts != 1 {
		t.Fatalf("restarts = %d", after[0].Restarts)
	}
	seen := servedBy(t, addr, 2)
	if seen[strconv.Itoa(after[0].PID)] == 0 {
		t.Fatalf("the new worker %d does not serve: %v", after[0].PID, seen)
	}
}

func TestClusterScale(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addr := fdsCluster(t, s, "web", 2)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	allReady(t, s, "web", 2)
	if err := s.Scale("web", 4); err != nil {
		t.Fatal(err)
	}
	up := allReady(t, s, "web", 4)
	servedBy(t, addr, 4)
	if err := s.Scale("web", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web down to 1", func() bool { return len(s.Members("web")) == 1 })
	if m := s.Members("web"); m[0] != "web/0" {
		t.Fatalf("members after scale down: %v", m)
	}
	for _, in := range up[1:] {
		waitFor(t, "old worker gone", func() bool { return !alive(in.PID) })
	}
	if _, err := get(addr); err != nil {
		t.Fatal(err)
	}
	if err := s.Scale("nope", 2); err == nil {
		t.Fatal("scale of no group succeeded")
	}
}

// TestClusterReloadNoFailures reloads 2 workers under a load loop: every
// request succeeds, and every worker is new afterwards.
func TestClusterReloadNoFailures(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	addr := fdsCluster(t, s, "web", 2)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	old := allReady(t, s, "web", 2)
	ok, failed, firstErr := underLoad(addr, func() error { return s.Reload("web") }, t)
	if failed > 0 || ok == 0 {
		t.Fatalf("%d requests failed (first: %v), %d succeeded", failed, firstErr, ok)
	}
	now := allReady(t, s, "web", 2)
	for _, n := range now {
		for _, o := range old {
			if n.PID == o.PID {
				t.Fatalf("%s still runs old pid %d", n.Name, o.PID)
			}
		}
	}
	t.Logf("%d requests during the reload, none failed", ok)
}

// underLoad runs f while 4 loops send requests to addr; it returns the
// requests that succeeded and failed, and the first failure.
func underLoad(addr string, f func() error, t *testing.T) (ok, failed int, firstErr error) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := get(addr)
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	err := f()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return ok, failed, firstErr
}

// TestClusterGroupStats: the cluster's group row sums its members' CPU,
// memory and restarts.
func TestClusterGroupStats(t *testing.T) {
	s := newTestSupervisor(t, Options{Tick: 20 * time.Millisecond})
	fdsCluster(t, s, "web", 2)
	_, sub := s.Subscribe()
	defer sub.Close()
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		b, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("no group stats with both members' memory: %v", err)
		}
		if b.Stats == nil {
			continue
		}
		g := b.Stats.Groups["web"]
		if g.Members == 2 && g.Live == 2 && g.RSS > 0 && b.Stats.Units["web/1"].RSS > 0 && b.Stats.Units["web/0"].RSS > 0 {
			return
		}
	}
}

// TestScaleReloadWorkerGroup: scale and reload work on a group of worker
// goroutines too (the screen's + and - on any group row).
func TestScaleReloadWorkerGroup(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	if err := s.Go("w", 2, func(ctx context.Context, w Worker) error { <-ctx.Done(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	running := func(n int) func() bool {
		return func() bool {
			got := 0
			for _, in := range s.List() {
				if in.Group == "w" {
					if in.State != Running {
						return false
					}
					got++
				}
			}
			return got == n
		}
	}
	waitFor(t, "2 workers", running(2))
	if err := s.Scale("w", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 workers", running(3))
	if err := s.Scale("w", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "1 worker", running(1))
	before, _ := s.Get("w/0")
	if err := s.Reload("w"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "1 worker after reload", running(1))
	m := s.Members("w")
	after, _ := s.Get(m[0])
	if after.TID == before.TID || after.Kind != KindWorker {
		t.Fatalf("reload kept the worker: before %+v after %+v", before, after)
	}
}

// TestClusterFDsWithChannel: with ipc: true an fds member's channel is fd
// 4 (NODE_CHANNEL_FD=4), after the socket on fd 3, and what it says there
// ({"ready":true}) is its own.
func TestClusterFDsWithChannel(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	c := Cluster{Spec: roleSpec("web", "http-fds-ipc", ""), Listen: "127.0.0.1:0", Instances: 2}
	c.Spec.IPC = true
	ln, err := ListenCluster(&c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	members := allReady(t, s, "web", 2)
	for i, m := range members {
		if m.Kind != KindFork || m.Channel != ChannelConnected {
			t.Fatalf("%s: %+v", m.Name, m)
		}
		waitFor(t, m.Name+"'s ready message", func() bool {
			msgs, _, _ := s.Messages(m.Name, 0, 10)
			return len(msgs) == 1 && string(msgs[0].Msg) == `{"id":"`+strconv.Itoa(i)+`","ready":true}`
		})
	}
	servedBy(t, ln.Addr().String(), 2)
}

func TestSimpleCommand(t *testing.T) {
	for cmd, want := range map[string]bool{
		"python3 server.py":           true,
		"node 'my app.js' --port 80":  true,
		"cd srv && python3 server.py": false,
		"FOO=1 python3 server.py":     false,
		"python3 server.py | tee log": false,
		"exec python3 server.py":      false,
		"python3 $APP":                false,
		"":                            false,
	} {
		if got := simpleCommand(cmd); got != want {
			t.Errorf("simpleCommand(%q) = %v", cmd, got)
		}
	}
}

// A cluster whose member cannot be added is not added at all: a retry with
// the mistake fixed meets no half-registered cluster; an empty name is refused.
func TestAddClusterAllOrNothing(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	c := Cluster{Spec: Spec{Name: "api", Argv: []string{"sleep", "60"}, DependsOn: []Dependency{{Name: "api", Condition: "bogus"}}}, Listen: "127.0.0.1:0", Instances: 2}
	ln, err := ListenCluster(&c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err == nil {
		t.Fatal("a member with a bad dependency condition was accepted")
	}
	if len(s.List()) != 0 || s.Addr("api") != "" {
		t.Fatalf("half a cluster left behind: %v", s.List())
	}
	c.Spec.DependsOn = nil
	ln, err = ListenCluster(&c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCluster(c, ln); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if got := len(s.List()); got != 2 {
		t.Fatalf("%d units after the retry", got)
	}
	if err := s.AddCluster(Cluster{Listen: "127.0.0.1:0"}, ln); err == nil {
		t.Fatal("a cluster with no name was accepted")
	}
}
