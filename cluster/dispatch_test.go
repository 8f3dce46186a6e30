package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// engineSide runs the engine's reading of a worker's channel: messages to
// Handle, Detach at the end.
func engineSide(w *Worker, conn *ipc.Conn) {
	defer w.Detach()
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
		w.Handle(m)
	}
}

// goroutineWorker attaches an in-process worker serving HTTP with tag as
// its answer, on a ChannelListener.
func goroutineWorker(t *testing.T, d Dispatcher, id int, tag string) *Worker {
	t.Helper()
	kelpie, worker := ipc.Pipe()
	w := d.Attach(id, kelpie)
	go engineSide(w, kelpie)
	ln, err := NewChannelListener(worker, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprint(rw, tag)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); kelpie.Close() })
	return w
}

// silentWorker attaches a worker whose end of the channel is a raw socket:
// reply is what it answers to each line (nothing when empty). Plain reads
// discard passed descriptors.
func silentWorker(t *testing.T, d Dispatcher, id int, reply string) (*Worker, *ipc.Conn) {
	t.Helper()
	kelpie, f, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	w := d.Attach(id, kelpie)
	go engineSide(w, kelpie)
	go func() {
		r := bufio.NewReader(f)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			if reply != "" {
				io.WriteString(f, reply+"\n")
			}
		}
	}()
	t.Cleanup(func() { kelpie.Close(); f.Close() })
	return w, kelpie
}

// TestRoundRobinRequeueOnDetach: a worker that never answers holds the
// connection in flight; when it is detached the connection goes to the
// next worker and is served.
func TestRoundRobinRequeueOnDetach(t *testing.T) {
	ln := loopback(t)
	rr, err := NewRoundRobin(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	mute, _ := silentWorker(t, rr, 0, "")
	got := make(chan map[string]int, 1)
	go func() { got <- hitsNoFail(ln.Addr().String(), 1) }()
	// The connection reaches the mute worker first (the only one free).
	eventually(t, func() bool {
		rr.b.mu.Lock()
		defer rr.b.mu.Unlock()
		return mute.inflight != nil
	}, "the connection never went to the first worker")
	goroutineWorker(t, rr, 1, "second")
	mute.Detach()
	if c := <-got; c["second"] != 1 {
		t.Fatalf("answers %v", c)
	}
	eventually(t, func() bool { c := rr.Counts(); return c[0] == 0 && c[1] == 1 }, "counts %v", rr.Counts)
}

// TestRoundRobinRefused: a worker that NACKs every descriptor gets each
// one resent up to Node's limit, then it goes to the next worker; nothing
// is lost.
func TestRoundRobinRefused(t *testing.T) {
	ln := loopback(t)
	rr, err := NewRoundRobin(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	nack, _ := silentWorker(t, rr, 0, `{"cmd":"NODE_HANDLE_NACK"}`)
	goroutineWorker(t, rr, 1, "ok")
	const n = 20
	if c := hitsNoFail(ln.Addr().String(), n); c["ok"] != n {
		t.Fatalf("answers %v", c)
	}
	if nack.Served() != 0 {
		t.Fatalf("the refusing worker counted %d", nack.Served())
	}
}

// TestRoundRobinDisconnect: after Disconnect a worker gets no more
// connections.
func TestRoundRobinDisconnect(t *testing.T) {
	ln := loopback(t)
	rr, err := NewRoundRobin(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	a := goroutineWorker(t, rr, 0, "a")
	goroutineWorker(t, rr, 1, "b")
	if c := hitsNoFail(ln.Addr().String(), 10); c["a"] == 0 || c["b"] == 0 {
		t.Fatalf("answers %v", c)
	}
	a.Disconnect()
	if c := hitsNoFail(ln.Addr().String(), 10); c["b"] != 10 {
		t.Fatalf("answers after disconnecting a: %v", c)
	}
}

// TestRoundRobinNodeSocket: a plain Node worker (no cluster module) takes
// round-robin connections as net.Socket from process.on('message').
func TestRoundRobinNodeSocket(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH")
	}
	ln := loopback(t)
	rr, err := NewRoundRobin(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	cmd := exec.Command(node, "testdata/rr_socket.js")
	cmd.Env = os.Environ()
	user := make(chan string, 1)
	w, p := attachWorker(t, rr, 0, cmd, user)
	if m := <-user; m != `{"ready":true}` {
		t.Fatalf("got %s", m)
	}
	waitReady(t, []*Worker{w}, []*proc{p})
	c := hitsNoFail(ln.Addr().String(), 10)
	if want := fmt.Sprint(p.cmd.Process.Pid); c[want] != 10 {
		t.Fatalf("answers %v, want 10 from %s; stderr: %s", c, want, p.stderr)
	}
}

// hitsNoFail is hits for use off the test goroutine: errors become answers.
func hitsNoFail(addr string, n int) map[string]int {
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   20 * time.Second, // safety net only
	}
	defer client.CloseIdleConnections()
	counts := make(map[string]int)
	for i := 0; i < n; i++ {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			counts["error: "+err.Error()]++
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		counts[strings.TrimSpace(string(b))]++
	}
	return counts
}
