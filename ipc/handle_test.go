package ipc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pipeFD returns the read end of a fresh pipe (the descriptor to pass) and
// its write end, both closed at cleanup.
func pipeFD(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
	return p[0], p[1]
}

// readPassed reads what the sender wrote into the pipe whose read end came
// as m.Handle.
func readPassed(t *testing.T, m Message) string {
	t.Helper()
	if m.Handle == nil {
		t.Fatalf("no handle with %s", m.Raw)
	}
	defer m.Handle.Close()
	b := make([]byte, 64)
	n, err := m.Handle.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:n])
}

// TestSendFDOrderAndAck: handles and plain messages arrive in the order
// sent, each descriptor with its own line, and each done callback reports
// the peer's ACK. Without the hold-back until ACK, the second handle's
// descriptor could be claimed by the first line (both in one read).
func TestSendFDOrderAndAck(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	const n = 20
	var mu sync.Mutex
	var acked []int
	allAcked := make(chan struct{})
	for i := 0; i < n; i++ {
		r, w := pipeFD(t)
		syscall.Write(w, []byte(fmt.Sprint("pipe", i)))
		i := i
		done := func(err error) {
			if err != nil {
				t.Errorf("handle %d: %v", i, err)
			}
			mu.Lock()
			acked = append(acked, i)
			if len(acked) == n {
				close(allAcked)
			}
			mu.Unlock()
		}
		if err := a.SendFD(TypeNative, []byte(fmt.Sprintf(`{"i":%d}`, i)), r, done); err != nil {
			t.Fatal(err)
		}
		if err := a.Send(map[string]int{"plain": i}); err != nil {
			t.Fatal(err)
		}
	}
	go func() { // a's reader: takes the ACKs
		for {
			if _, err := a.Recv(); err != nil {
				return
			}
		}
	}()
	for i := 0; i < n; i++ {
		m := recvMsg(t, b)
		var env struct {
			Cmd, Type string
			Msg       struct{ I int }
		}
		if err := json.Unmarshal(m.Raw, &env); err != nil || env.Cmd != "NODE_HANDLE" || env.Type != TypeNative || env.Msg.I != i {
			t.Fatalf("message %d: %s", i, m.Raw)
		}
		if got := readPassed(t, m); got != fmt.Sprint("pipe", i) {
			t.Fatalf("handle %d carries %q", i, got)
		}
		if m := recvMsg(t, b); string(m.Raw) != fmt.Sprintf(`{"plain":%d}`, i) {
			t.Fatalf("got %s after handle %d", m.Raw, i)
		}
	}
	select {
	case <-allAcked:
	case <-time.After(10 * time.Second):
		t.Fatal("not every handle was acknowledged")
	}
	for i, v := range acked {
		if v != i {
			t.Fatalf("ACK order %v", acked)
		}
	}
}

// TestSendFDNack: a descriptor lost on the way is NACKed and sent again;
// one lost every time is given up after Node's limit.
func TestSendFDNack(t *testing.T) {
	for _, tc := range []struct {
		lose, lines int
		want        error
	}{{1, 2, nil}, {100, 1 + MaxHandleRetransmissions, ErrHandleRefused}} {
		a, b := Pipe()
		b.dropFD = tc.lose
		go func() {
			for {
				if _, err := a.Recv(); err != nil {
					return
				}
			}
		}()
		r, _ := pipeFD(t)
		res := make(chan error, 1)
		if err := a.SendFD(TypeNative, []byte(`{"x":1}`), r, func(err error) { res <- err }); err != nil {
			t.Fatal(err)
		}
		a.Send("after")
		for i := 0; i < tc.lines; i++ {
			if m := recvMsg(t, b); !m.Internal || (m.Handle != nil) != (i >= tc.lose) {
				t.Fatalf("line %d: %+v", i, m)
			}
		}
		if err := <-res; !errors.Is(err, tc.want) {
			t.Fatalf("lose %d: done(%v), want %v", tc.lose, err, tc.want)
		}
		if m := recvMsg(t, b); string(m.Raw) != `"after"` {
			t.Fatalf("got %s", m.Raw)
		}
		a.Close()
		b.Close()
	}
}

// TestSendFDClosed: a handle never answered is failed with ErrClosed on
// Close, so its owner gets the descriptor back.
func TestSendFDClosed(t *testing.T) {
	a, b := Pipe()
	defer b.Close()
	r, _ := pipeFD(t)
	res := make(chan error, 2)
	for i := 0; i < 2; i++ {
		if err := a.SendFD(TypeNative, []byte(`1`), r, func(err error) { res <- err }); err != nil {
			t.Fatal(err)
		}
	}
	recvMsg(t, b) // the first is written; nobody reads a's side, so no ACK is taken
	a.Close()
	for i := 0; i < 2; i++ {
		if err := <-res; !errors.Is(err, ErrClosed) {
			t.Fatalf("done(%v), want ErrClosed", err)
		}
	}
	if err := a.SendFD(TypeNative, []byte(`1`), r, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendFD after Close: %v", err)
	}
}

// TestNodeChildTakesSockets: a stock Node child receives passed
// connections as net.Socket and writes to them; several are queued at once
// and Node must see each with its own message.
func TestNodeChildTakesSockets(t *testing.T) {
	parent, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	cmd, _, stderr := startNode(t, parent, child, "testdata/child_take_socket.js")
	jsonEq(t, recvMsg(t, parent).Raw, `{"ready":true}`)
	go func() {
		for {
			m, err := parent.Recv()
			if err != nil {
				return
			}
			t.Errorf("unexpected message %s", m.Raw)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 5
	clients := make([]net.Conn, n)
	for i := range clients {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.(*net.TCPConn).File()
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if err := parent.SendHandle(map[string]int{"n": i}, f); err != nil {
			t.Fatal(err)
		}
		f.Close() // SendHandle sent a duplicate
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(10 * time.Second)) // safety net only
		b, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("n=%d pid=%d", i, cmd.Process.Pid)
		if string(b) != want {
			t.Fatalf("client %d read %q, want %q; stderr: %s", i, b, want, stderr)
		}
	}
	parent.Close()
	if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "signal") {
		t.Fatalf("node: %v; stderr: %s", err, stderr)
	}
	_ = os.Stderr
}

// TestSendFDBothWays: two Conns passing handles to each other at once.
// Each holds its queue until its handle is ACKed; if ACK replies waited in
// that queue too, each would wait for the other's ACK for ever.
func TestSendFDBothWays(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	done := make(chan error, 4)
	for _, c := range []*Conn{a, b} {
		for i := 0; i < 2; i++ {
			r, _ := pipeFD(t)
			if err := c.SendFD(TypeNative, []byte(`{}`), r, func(err error) { done <- err }); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []*Conn{a, b} {
		go func(c *Conn) {
			for {
				m, err := c.Recv()
				if err != nil {
					return
				}
				if m.Handle != nil {
					m.Handle.Close()
				}
			}
		}(c)
	}
	for i := 0; i < 4; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second): // safety net only
			t.Fatalf("only %d of 4 handles acknowledged", i)
		}
	}
}

// TestSendFDHoldsBack: like Node's sender, nothing queued after a handle is
// written before the peer's ACK; then it follows.
func TestSendFDHoldsBack(t *testing.T) {
	c, peer := newRawPeer(t, Options{})
	r, _ := pipeFD(t)
	acked := make(chan error, 1)
	if err := c.SendFD(TypeNative, []byte(`{"h":1}`), r, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("after"); err != nil {
		t.Fatal(err)
	}
	go func() { // the reader that takes the ACK
		for {
			if _, err := c.Recv(); err != nil {
				return
			}
		}
	}()
	if got := peer.line(t); got != `{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"h":1}}`+"\n" {
		t.Fatalf("got %q", got)
	}
	// Sent is counted once write(2) has returned, which may be a moment
	// after the peer read the line: wait for it, then check nothing more
	// went out before the ACK.
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Sent != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("the handle was read but never counted sent: %+v", c.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if st := c.Stats(); st.Queued != 1 || st.Sent != 1 {
		t.Fatalf("before the ACK: %+v", st)
	}
	fmt.Fprintf(peer.f, "%s\n", `{"cmd":"NODE_HANDLE_ACK"}`)
	if got := peer.line(t); got != `"after"`+"\n" {
		t.Fatalf("got %q", got)
	}
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
}
