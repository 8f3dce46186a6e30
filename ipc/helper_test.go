package ipc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// childRoleEnv makes the test binary act as a child process instead of
// running tests (the os/exec tests pattern): no separate helper to build,
// and the same binary serves as the Go child Node forks.
const childRoleEnv = "KELPIE_IPC_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childRoleEnv) {
	case "":
		os.Exit(m.Run())
	case "echo":
		os.Exit(echoChild())
	case "mute":
		// Holds the channel open and never reads it; exits when stdin
		// closes, so the test ends it without a signal.
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "unknown %s role %q\n", childRoleEnv, os.Getenv(childRoleEnv))
		os.Exit(2)
	}
}

// echoChild is the example Go child: it announces itself (reporting what is
// left of NODE_CHANNEL_* after FromParent), echoes every user message,
// reports skipped lines and received handles, and exits on disconnect.
func echoChild() int {
	c, err := FromParent()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo child:", err)
		return 2
	}
	defer c.Close()
	if err := c.Send(map[string]any{"ready": true, "env": os.Getenv(EnvChannelFD) + os.Getenv(EnvSerialization)}); err != nil {
		fmt.Fprintln(os.Stderr, "echo child:", err)
		return 1
	}
	for {
		m, err := c.Recv()
		var lerr *LineError
		switch {
		case errors.As(err, &lerr):
			err = sendWait(c, map[string]any{"lineError": lerr.Err.Error(), "len": lerr.Len})
		case errors.Is(err, io.EOF):
			return 0
		case err != nil:
			fmt.Fprintln(os.Stderr, "echo child: recv:", err)
			return 1
		case m.Handle != nil:
			var env struct {
				Msg json.RawMessage `json:"msg"`
			}
			_ = json.Unmarshal(m.Raw, &env)
			m.Handle.Close()
			err = sendWait(c, map[string]any{"handle": true, "msg": env.Msg})
		case m.Internal:
			continue
		default:
			err = sendRawWait(c, m.Raw)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo child: send:", err)
			return 1
		}
	}
}

// sendWait applies backpressure the way a well-behaved child does: on a
// full queue wait for it to drain, then retry.
func sendWait(c *Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sendRawWait(c, b)
}

func sendRawWait(c *Conn, b []byte) error {
	for {
		err := c.SendRaw(b)
		if !errors.Is(err, ErrQueueFull) {
			return err
		}
		if err := c.Flush(context.Background()); err != nil {
			return err
		}
	}
}

// childEnv is the environment for a re-executed test binary. A
// race-enabled binary sleeps a second at exit by default (GORACE
// atexit_sleep_ms); the children's exits are waited for, so skip that.
func childEnv(role string) []string {
	return append(os.Environ(), childRoleEnv+"="+role, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// startGoChild runs the test binary as an echo child on a fresh Pair.
func startGoChild(t *testing.T) (*Conn, *exec.Cmd, *bytes.Buffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parent, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(childEnv("echo"), ChildEnv(3)...)
	cmd.ExtraFiles = []*os.File{child}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close() // or the child's exit never reads as EOF
	t.Cleanup(func() {
		parent.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return parent, cmd, &stderr
}

// nodePath skips the test when node is not installed.
func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH")
	}
	return p
}

// startNode runs a node script as a child with a channel, like kelpie does.
func startNode(t *testing.T, parent *Conn, child *os.File, script string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	node := nodePath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety net only
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), ChildEnv(3)...)
	cmd.ExtraFiles = []*os.File{child}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	t.Cleanup(func() {
		parent.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &stdout, &stderr
}

// recvMsg returns the next message, failing the test on any error.
func recvMsg(t *testing.T, c *Conn) Message {
	t.Helper()
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return m
}

// jsonEq compares two JSON texts by value.
func jsonEq(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("got %s, want %s", got, want)
	}
}
