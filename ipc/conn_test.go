package ipc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestGoChildRoundTrip(t *testing.T) {
	parent, cmd, stderr := startGoChild(t)

	jsonEq(t, recvMsg(t, parent).Raw, `{"ready":true,"env":""}`)

	big := strings.Repeat("x", 1<<20)
	cases := []struct {
		send func() error
		want string
	}{
		{func() error { return parent.Send(map[string]any{"hello": "world", "n": 1}) }, `{"hello":"world","n":1}`},
		{func() error { return parent.SendRaw([]byte("{\n  \"a\": [1, 2],\n  \"b\": \"x y\"\n}\n")) }, `{"a":[1,2],"b":"x y"}`},
		{func() error { return parent.Send("just a string") }, `"just a string"`},
		{func() error { return parent.Send(42) }, `42`},
		{func() error { return parent.Send(map[string]string{"cmd": "NODE_"}) }, `{"cmd":"NODE_"}`},
		{func() error { return parent.Send(map[string]string{"big": big}) }, `{"big":"` + big + `"}`},
	}
	for i, c := range cases {
		if err := c.send(); err != nil {
			t.Fatalf("case %d: send: %v", i, err)
		}
	}
	for i := 0; i < 1000; i++ {
		if err := parent.Send(map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		jsonEq(t, recvMsg(t, parent).Raw, c.want)
	}
	for i := 0; i < 1000; i++ {
		if got, want := string(recvMsg(t, parent).Raw), fmt.Sprintf(`{"n":%d}`, i); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	// Closing the parent's end is the child's disconnect.
	if err := parent.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v; stderr: %s", err, stderr)
	}
	st := parent.Stats()
	if st.Received != 1+uint64(len(cases))+1000 || st.Sent != uint64(len(cases))+1000 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGoChildDisconnectIsEOF(t *testing.T) {
	parent, cmd, _ := startGoChild(t)
	recvMsg(t, parent)
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := parent.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("recv after child exit: %v, want io.EOF", err)
	}
}

func TestPipeWorker(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	done := make(chan error, 1)
	go func() { // a worker goroutine, messaged like a child process
		defer b.Close()
		for {
			m, err := b.Recv()
			if err != nil {
				done <- err
				return
			}
			if err := b.SendRaw(m.Raw); err != nil {
				done <- err
				return
			}
		}
	}()
	for i := 0; i < 100; i++ {
		if err := a.Send(map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
		if got, want := string(recvMsg(t, a).Raw), fmt.Sprintf(`{"n":%d}`, i); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	a.Close()
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatalf("worker ended with %v, want io.EOF", err)
	}
	if _, err := a.Recv(); !errors.Is(err, ErrClosed) {
		t.Fatalf("recv after close: %v, want ErrClosed", err)
	}
	if err := a.Send(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v, want ErrClosed", err)
	}
}

// rawPeer is the child's end read and written directly, to see exactly what
// goes over the wire.
type rawPeer struct {
	f *os.File
	r *bufio.Reader
}

func newRawPeer(t *testing.T, opts Options) (*Conn, *rawPeer) {
	t.Helper()
	c, f, err := PairOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); f.Close() })
	return c, &rawPeer{f: f, r: bufio.NewReader(f)}
}

func (p *rawPeer) line(t *testing.T) string {
	t.Helper()
	s, err := p.r.ReadString('\n')
	if err != nil {
		t.Fatalf("raw peer read: %v", err)
	}
	return s
}

func TestSendValidation(t *testing.T) {
	c, peer := newRawPeer(t, Options{})
	reserved := []func() error{
		func() error { return c.Send(map[string]string{"cmd": "NODE_HANDLE"}) },
		func() error { return c.SendRaw([]byte(`{"cmd":"NODE_X","a":1}`)) },
		func() error { return c.SendRaw([]byte(` { "cmd" : "NODE_CLUSTER" } `)) },
		func() error { return c.SendRaw([]byte(`{"\u0063md":"NODE_X"}`)) },       // escaped key
		func() error { return c.SendRaw([]byte(`{"cmd":"\u004eODE_X"}`)) },       // escaped value
		func() error { return c.SendRaw([]byte(`{"cmd":"ok","cmd":"NODE_X"}`)) }, // last duplicate wins in JS
	}
	for i, f := range reserved {
		if err := f(); !errors.Is(err, ErrReserved) {
			t.Errorf("reserved case %d: %v, want ErrReserved", i, err)
		}
	}
	invalid := []string{"", " ", "{", `{"a":1}{"b":2}`, `{"a":1} x`, "nul", `{"a":01}`, "[1,]", "\"a\nb\"", `{'a':1}`, "\xef\xbb\xbf{}"}
	for _, s := range invalid {
		if err := c.SendRaw([]byte(s)); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("SendRaw(%q): %v, want ErrInvalidJSON", s, err)
		}
	}
	if err := c.Send(func() {}); err == nil {
		t.Error("Send(func) succeeded")
	}
	// Allowed: not internal for Node (nested, bare prefix, non-string, later
	// non-NODE_ duplicate).
	allowed := []string{`{"a":{"cmd":"NODE_X"}}`, `{"cmd":"NODE_"}`, `{"cmd":5}`, `{"cmd":"NODE_X","cmd":"ok"}`, `["NODE_X"]`, "{\n\"cmd\" :\t\"node_x\"\r\n}\n"}
	for _, s := range allowed {
		if err := c.SendRaw([]byte(s)); err != nil {
			t.Errorf("SendRaw(%q): %v", s, err)
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Nothing of the refused messages reached the wire, and what did is one
	// compact line each.
	want := []string{`{"a":{"cmd":"NODE_X"}}`, `{"cmd":"NODE_"}`, `{"cmd":5}`, `{"cmd":"NODE_X","cmd":"ok"}`, `["NODE_X"]`, `{"cmd":"node_x"}`}
	for _, w := range want {
		if got := peer.line(t); got != w+"\n" {
			t.Fatalf("wire: got %q, want %q", got, w)
		}
	}
	if st := c.Stats(); st.Sent != uint64(len(want)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestReceiveBadLines(t *testing.T) {
	const maxLine = 1024
	c, peer := newRawPeer(t, Options{MaxLine: maxLine})
	huge := bytes.Repeat([]byte("y"), 5<<20) // far beyond MaxLine and the read buffer
	exact := `"` + strings.Repeat("z", maxLine-2) + `"`
	input := [][]byte{
		[]byte("not json\n"),
		[]byte(`{"a":1}` + "\n"),
		huge, []byte("\n"),
		[]byte(`{"ok":2}` + "\n"),
		[]byte("\n"), // empty line: JSON.parse('') throws in Node too
		[]byte(`[` + strings.Repeat(" ", maxLine) + `]` + "\n"), // over-long but inside one read
		[]byte(exact + "\n"),
		[]byte(`{"ok":3}` + "\n"),
	}
	go func() {
		for _, b := range input {
			peer.f.Write(b)
		}
	}()
	type want struct {
		raw string
		err error
		n   int
	}
	wants := []want{
		{err: ErrInvalidJSON, n: 8},
		{raw: `{"a":1}`},
		{err: ErrLineTooLong, n: len(huge)},
		{raw: `{"ok":2}`},
		{err: ErrInvalidJSON, n: 0},
		{err: ErrLineTooLong, n: maxLine + 2},
		{raw: exact},
		{raw: `{"ok":3}`},
	}
	for i, w := range wants {
		m, err := c.Recv()
		if w.err != nil {
			var lerr *LineError
			if !errors.As(err, &lerr) || !errors.Is(err, w.err) || lerr.Len != w.n || len(lerr.Head) > lineHead {
				t.Fatalf("%d: got %v (%#v), want LineError %v len %d", i, err, lerr, w.err, w.n)
			}
			continue
		}
		if err != nil || string(m.Raw) != w.raw {
			t.Fatalf("%d: got %q, %v; want %q", i, m.Raw, err, w.raw)
		}
	}
	if n := len(c.fr.buf); n > readBufSize {
		t.Fatalf("read buffer grew to %d bytes for skipped lines", n)
	}
	if st := c.Stats(); st.LineErrors != 4 || st.Received != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHandleAckNack(t *testing.T) {
	c, peer := newRawPeer(t, Options{})
	// No descriptor came with it: NACK, so a Node sender retransmits.
	fmt.Fprintf(peer.f, "%s\n", `{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"x":1}}`)
	m := recvMsg(t, c)
	if !m.Internal || m.Handle != nil {
		t.Fatalf("got %+v", m)
	}
	if got := peer.line(t); got != `{"cmd":"NODE_HANDLE_NACK"}`+"\n" {
		t.Fatalf("reply %q", got)
	}

	// With a descriptor: ACK, and the descriptor is the one sent.
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	line := []byte(`{"before":1}` + "\n" + `{"cmd":"NODE_HANDLE","type":"net.Native","msg":{"x":2}}` + "\n")
	if err := syscall.Sendmsg(int(peer.f.Fd()), line, syscall.UnixRights(p[0]), nil, 0); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(peer.f, "%s\n", `{"after":1}`)
	if m := recvMsg(t, c); string(m.Raw) != `{"before":1}` || m.Internal || m.Handle != nil {
		t.Fatalf("got %+v", m)
	}
	m = recvMsg(t, c)
	if !m.Internal || m.Handle == nil {
		t.Fatalf("got %+v", m)
	}
	defer m.Handle.Close()
	if got := peer.line(t); got != `{"cmd":"NODE_HANDLE_ACK"}`+"\n" {
		t.Fatalf("reply %q", got)
	}
	syscall.Write(p[1], []byte("via handle"))
	buf := make([]byte, 32)
	n, _ := m.Handle.Read(buf)
	if string(buf[:n]) != "via handle" {
		t.Fatalf("handle read %q", buf[:n])
	}
	if m := recvMsg(t, c); string(m.Raw) != `{"after":1}` {
		t.Fatalf("got %s", m.Raw)
	}
}

func TestQueueFullChildNeverReads(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, child, err := PairOptions(Options{QueueLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(childEnv("mute"), ChildEnv(3)...)
	cmd.ExtraFiles = []*os.File{child}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("mute child: %v", err)
		}
	}()

	msg := []byte(`"` + strings.Repeat("q", 4096) + `"`)
	full := false
	// The socket buffer absorbs some hundreds of KiB, then the writer blocks
	// and the queue fills: well within 10,000 messages (40 MiB). Send never
	// blocks meanwhile.
	for i := 0; i < 10000; i++ {
		err := c.SendRaw(msg)
		if errors.Is(err, ErrQueueFull) {
			full = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !full {
		t.Fatal("queue never reported full")
	}
	// At most QueueLen waiting plus one batch of at most QueueLen in write.
	if st := c.Stats(); st.Dropped != 1 || st.Queued == 0 || st.Queued > 16 {
		t.Fatalf("stats %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("flush: %v, want context.Canceled", err)
	}
	// Close must not wait for the stuck write.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.SendRaw(msg); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestQueueBytesBound(t *testing.T) {
	c, _ := newRawPeer(t, Options{QueueBytes: 100})
	if err := c.SendRaw([]byte(`"` + strings.Repeat("b", 200) + `"`)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestFromParent(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	bad := []struct{ fd, mode string }{
		{"abc", "json"},
		{"-1", "json"},
		{"999", "json"},
		{fmt.Sprint(devnull.Fd()), "json"},
	}
	for _, b := range bad {
		t.Setenv(EnvChannelFD, b.fd)
		t.Setenv(EnvSerialization, b.mode)
		if _, err := FromParent(); !errors.Is(err, ErrNoChannel) {
			t.Errorf("NODE_CHANNEL_FD=%s: %v, want ErrNoChannel", b.fd, err)
		}
	}
	os.Unsetenv(EnvChannelFD)
	if _, err := FromParent(); !errors.Is(err, ErrNoChannel) || !strings.Contains(err.Error(), EnvChannelFD) {
		t.Errorf("unset: %v, want ErrNoChannel naming the variable", err)
	}

	parent, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	fd, err := syscall.Dup(int(child.Fd())) // FromParent takes over the fd it is given
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvChannelFD, fmt.Sprint(fd))
	t.Setenv(EnvSerialization, "advanced")
	if _, err := FromParent(); !errors.Is(err, ErrNoChannel) {
		t.Errorf("advanced serialization: %v, want ErrNoChannel", err)
	}
	t.Setenv(EnvChannelFD, fmt.Sprint(fd))
	t.Setenv(EnvSerialization, "json")
	c, err := FromParent()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := os.LookupEnv(EnvChannelFD); ok {
		t.Error("NODE_CHANNEL_FD still set")
	}
	if _, ok := os.LookupEnv(EnvSerialization); ok {
		t.Error("NODE_CHANNEL_SERIALIZATION_MODE still set")
	}
	if err := c.Send(map[string]int{"up": 1}); err != nil {
		t.Fatal(err)
	}
	if got := string(recvMsg(t, parent).Raw); got != `{"up":1}` {
		t.Fatalf("got %s", got)
	}
}

func TestChildEnv(t *testing.T) {
	got := strings.Join(ChildEnv(3), " ")
	if got != "NODE_CHANNEL_FD=3 NODE_CHANNEL_SERIALIZATION_MODE=json" {
		t.Fatalf("ChildEnv(3) = %s", got)
	}
}
