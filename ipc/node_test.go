package ipc

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestNodeChildHello(t *testing.T) {
	parent, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := startNode(t, parent, child, "testdata/child_hello.js")
	if err := parent.Send(map[string]string{"hello": "world"}); err != nil {
		t.Fatal(err)
	}
	m := recvMsg(t, parent)
	if string(m.Raw) != `{"msg":"Hello from child!"}` || m.Internal {
		t.Fatalf("got %+v", m)
	}
	parent.Close() // the child's 'disconnect': it has nothing else to do and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v; stderr: %s", err, stderr)
	}
	if got, want := stdout.String(), "Message from parent: { hello: 'world' }\n"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
}

// TestNodeChildSendsHandle: process.send(msg, handle) in a stock Node child.
// Node holds back every later message until the handle is answered, so
// {"after":"handle"} arriving proves the ACK/NACK reached it.
func TestNodeChildSendsHandle(t *testing.T) {
	cases := []struct {
		name    string
		kind    string
		dropFDs int // descriptors to lose on purpose, to force NACKs
		handles int // NODE_HANDLE messages expected (Node retransmits a NACKed socket 3 times)
		gotFD   bool
		warning bool // Node gave up after 3 retransmissions
	}{
		{"server-ack", "server", 0, 1, true, false},
		{"server-nack", "server", 1, 1, false, false},
		{"socket-nack-then-ack", "socket", 1, 2, true, false},
		{"socket-nack-always", "socket", 100, 4, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, child, err := Pair()
			if err != nil {
				t.Fatal(err)
			}
			parent.dropFD = tc.dropFDs // before any Recv: no race
			cmd, _, stderr := startNode(t, parent, child, "testdata/child_handle.js", tc.kind)
			handles := 0
			var handle *os.File
			var port int
			for {
				m := recvMsg(t, parent)
				if !m.Internal {
					if string(m.Raw) != `{"after":"handle"}` {
						t.Fatalf("unexpected %s", m.Raw)
					}
					break
				}
				handles++
				if m.Handle != nil {
					handle = m.Handle
					port = handlePort(t, m.Raw)
				}
			}
			if handles != tc.handles || (handle != nil) != tc.gotFD {
				t.Fatalf("%d NODE_HANDLE, descriptor %v; want %d, %v", handles, handle != nil, tc.handles, tc.gotFD)
			}
			if handle != nil {
				defer handle.Close()
				checkHandle(t, tc.kind, handle, port)
			}
			if tc.warning {
				if m := recvMsg(t, parent); string(m.Raw) != `{"warning":"SentHandleNotReceivedWarning"}` {
					t.Fatalf("got %s", m.Raw)
				}
			}
			parent.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("node: %v; stderr: %s", err, stderr)
			}
		})
	}
}

// handlePort digs the child's {"port":N} out of a NODE_HANDLE envelope.
// Node's retransmission of a NACKed socket wraps the envelope once more.
func handlePort(t *testing.T, raw json.RawMessage) int {
	t.Helper()
	for {
		var env struct {
			Cmd  string          `json:"cmd"`
			Msg  json.RawMessage `json:"msg"`
			Port int             `json:"port"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if env.Cmd != "NODE_HANDLE" {
			return env.Port
		}
		raw = env.Msg
	}
}

// checkHandle verifies the descriptor is the child's listener or socket.
func checkHandle(t *testing.T, kind string, f *os.File, port int) {
	t.Helper()
	var addr net.Addr
	if kind == "server" {
		l, err := net.FileListener(f)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addr = l.Addr()
	} else {
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		addr = c.LocalAddr()
	}
	if a, ok := addr.(*net.TCPAddr); !ok || a.Port != port {
		t.Fatalf("handle is %v, want port %d", addr, port)
	}
}

// TestNodeForksGoChild: a Go program built on FromParent, started by
// Node's own child_process.fork, including a handle passed to it.
func TestNodeForksGoChild(t *testing.T) {
	node := nodePath(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety net only
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/fork_go.js", self)
	cmd.Env = childEnv("") // fork_go.js sets the role itself
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var result string
	for _, l := range strings.Split(string(out), "\n") {
		if r, ok := strings.CutPrefix(l, "RESULT "); ok {
			result = r
		}
	}
	if !strings.Contains(string(out), "EXIT 0") {
		t.Fatalf("Go child did not exit 0:\n%s\nstderr: %s", out, stderr.String())
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal([]byte(result), &msgs); err != nil {
		t.Fatalf("result %q: %v\nstderr: %s", result, err, stderr.String())
	}
	if len(msgs) != 4 {
		t.Fatalf("got %d messages: %s", len(msgs), result)
	}
	jsonEq(t, msgs[0], `{"ready":true,"env":""}`) // FromParent cleared NODE_CHANNEL_*
	jsonEq(t, msgs[1], `{"hello":"world","n":1}`)
	var h struct {
		Handle bool `json:"handle"`
		Msg    struct {
			Port int `json:"port"`
		} `json:"msg"`
	}
	if err := json.Unmarshal(msgs[2], &h); err != nil || !h.Handle || h.Msg.Port == 0 {
		t.Fatalf("handle message %s", msgs[2])
	}
	jsonEq(t, msgs[3], `{"after":"handle"}`)
}
