package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// childRoleEnv makes the test binary act as a worker process instead of
// running tests (the os/exec tests pattern).
const childRoleEnv = "KELPIE_CLUSTER_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childRoleEnv) {
	case "":
		os.Exit(m.Run())
	case "http":
		os.Exit(httpWorker())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s role %q\n", childRoleEnv, os.Getenv(childRoleEnv))
		os.Exit(2)
	}
}

// httpWorker is the Go worker of the tests: an HTTP server on
// WorkerListener answering with its pid. It exits when Accept fails
// (round-robin: kelpie closed the channel) or stdin closes (fds).
func httpWorker() int {
	ln, err := WorkerListener()
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		ln.Close()
	}()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})}
	srv.Serve(ln)
	return 0
}

// childEnv is the environment for a re-executed test binary; the race
// detector's exit sleep is skipped because the exits are waited for.
func childEnv(role string) []string {
	return append(os.Environ(), childRoleEnv+"="+role, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// proc is a started worker process.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
}

// lockedBuffer is a bytes.Buffer a process writes while a test may read.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProc starts cmd with extra files, closing the caller's copies of
// them after the start, and kills it at cleanup if it is still running.
func startProc(t testing.TB, cmd *exec.Cmd, extra ...*os.File) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.ExtraFiles = extra
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, f := range extra {
		f.Close()
	}
	t.Cleanup(func() {
		p.stdin.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

// wait waits for the process to exit, failing the test after a generous
// deadline (a safety net: the test is wrong if it fires).
func (p *proc) wait(t *testing.T) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("process %d did not exit; stderr: %s", p.cmd.Process.Pid, p.stderr)
		return nil
	}
}

// attachWorker starts a worker process on a fresh channel, attaches it to
// d and runs the engine's side of the channel: every message goes to
// Handle, the end of the channel to Detach. Unconsumed messages are sent
// on user (if not nil).
func attachWorker(t testing.TB, d Dispatcher, id int, cmd *exec.Cmd, user chan<- string) (*Worker, *proc) {
	t.Helper()
	conn, child, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(append(cmd.Env, d.Env(id)...), ipc.ChildEnv(3)...)
	p := startProc(t, cmd, child)
	w := d.Attach(id, conn)
	go func() {
		defer w.Detach()
		defer conn.Close()
		for {
			m, err := conn.Recv()
			var le *ipc.LineError
			if errors.As(err, &le) {
				continue
			}
			if err != nil {
				return
			}
			if m.Handle != nil {
				m.Handle.Close()
			}
			if !w.Handle(m) && user != nil {
				user <- string(m.Raw)
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return w, p
}

// waitReady waits for every worker to be ready.
func waitReady(t *testing.T, ws []*Worker, procs []*proc) {
	t.Helper()
	for i, w := range ws {
		select {
		case <-w.Ready():
		case <-time.After(20 * time.Second): // safety net only
			t.Fatalf("worker %d not ready; stderr: %s", i, procs[i].stderr)
		}
	}
}

// loopback returns a TCP listener on a free loopback port.
func loopback(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// hits makes n sequential requests, each on a new connection, and counts
// the answers (the serving worker's pid) by answer.
func hits(t *testing.T, addr string, n int) map[string]int {
	t.Helper()
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   20 * time.Second, // safety net only
	}
	defer client.CloseIdleConnections()
	counts := make(map[string]int)
	for i := 0; i < n; i++ {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %q %v", i, resp.StatusCode, b, err)
		}
		counts[strings.TrimSpace(string(b))]++
	}
	return counts
}

func itoa(i int) string { return strconv.Itoa(i) }

// checkSpread fails unless every pid served and none more than maxShare of n.
func checkSpread(t *testing.T, counts map[string]int, pids []int, n int, maxShare float64) {
	t.Helper()
	for _, pid := range pids {
		c := counts[strconv.Itoa(pid)]
		if c == 0 {
			t.Fatalf("worker %d served nothing: %v", pid, counts)
		}
		if float64(c) > maxShare*float64(n) {
			t.Fatalf("worker %d served %d of %d: %v", pid, c, n, counts)
		}
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != n || (len(pids) > 0 && len(counts) != len(pids)) {
		t.Fatalf("answers %v from pids %v", counts, pids)
	}
	t.Logf("split: %v", counts)
}

// eventually polls cond until it holds, failing after a generous deadline
// (a safety net, not a timing assumption). args may hold funcs, called for
// the failure message.
func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for i, a := range args {
				if f, ok := a.(func() map[int]uint64); ok {
					args[i] = f()
				}
			}
			t.Fatalf("timed out: "+format, args...)
		}
		time.Sleep(time.Millisecond)
	}
}

// sum adds up counts.
func sum(m map[int]uint64) uint64 {
	var s uint64
	for _, v := range m {
		s += v
	}
	return s
}
