package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// fakeEngine is a supervisor with one idle unit whose List and Tail are counted
// (and Tail's answer set), so tests can see whether a request got through.
type fakeEngine struct {
	*procs.Supervisor
	lists atomic.Int32
	tails atomic.Int32
	tail  []procs.Line
}

func (f *fakeEngine) List() []procs.Info { f.lists.Add(1); return nil }

func (f *fakeEngine) Tail(string, int) ([]procs.Line, error) {
	f.tails.Add(1)
	return f.tail, nil
}

func newFake(t *testing.T) *fakeEngine {
	t.Helper()
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(t.Context()) })
	// A unit named web, never started, so that following it is allowed.
	if err := sup.Add(procs.Spec{Name: "web", Argv: []string{"true"}, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	return &fakeEngine{Supervisor: sup}
}

// serve starts a server for eng on a fresh socket, after setup (if any)
// has adjusted it.
func serve(t *testing.T, eng Engine, setup func(*Server)) *Server {
	t.Helper()
	srv, err := Listen(filepath.Join(t.TempDir(), "k.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if setup != nil {
		setup(srv)
	}
	go srv.Serve(eng)
	return srv
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		v := fi.Mode().String()
		switch {
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			v += " -> " + l
		}
		out[p] = v
		return nil
	})
	return out
}

func TestListenNeverReplacesANonSocket(t *testing.T) {
	cases := []struct {
		name, kind string
		make       func(p string) error
	}{
		{"regular file", "a regular file", func(p string) error { return os.WriteFile(p, []byte("procs:\n  web: run\n"), 0o644) }},
		{"directory", "a directory", func(p string) error {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(p, "keep"), []byte("x"), 0o600)
		}},
		{"symlink", "a symlink", func(p string) error {
			if err := os.WriteFile(p+".target", []byte("t"), 0o600); err != nil {
				return err
			}
			return os.Symlink(p+".target", p)
		}},
		{"fifo", "a named pipe", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "kelpie.yaml")
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			srv, err := Listen(p)
			if err == nil {
				srv.Close()
				t.Fatal("Listen took over a non-socket")
			}
			want := "control socket " + p + " is " + tc.kind + ", not a socket; refusing to replace it"
			if err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			after := snapshot(t, dir)
			if len(before) != len(after) {
				t.Fatalf("files changed: %v -> %v", before, after)
			}
			for k, v := range before {
				if after[k] != v {
					t.Fatalf("%s changed: %q -> %q", k, v, after[k])
				}
			}
		})
	}
}

func TestListenReplacesOnlyAStaleSocket(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	// A live listener that is not a kelpie holding the lock: left alone.
	if _, err := Listen(p); !errors.As(err, new(*AlreadyRunningError)) {
		t.Fatalf("live foreign socket: %v", err)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("live socket removed: %v", err)
	}
	ln.Close() // now stale: connect gives ECONNREFUSED
	srv, err := Listen(p)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	srv.Close()
}

func TestLockFileIsNeverFollowedOrReplaced(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k.sock")
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p+".lock"); err != nil {
		t.Fatal(err)
	}
	_, err := Listen(p)
	if err == nil || !strings.Contains(err.Error(), p+".lock is a symlink") {
		t.Fatalf("symlinked lock: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "data" {
		t.Fatalf("symlink target changed: %q", b)
	}
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Fatalf("socket made despite the refused lock: %v", err)
	}

	os.Remove(p + ".lock")
	if err := os.Mkdir(p+".lock", 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = Listen(p)
	if err == nil || !strings.Contains(err.Error(), p+".lock is a directory, not a regular file") {
		t.Fatalf("directory lock: %v", err)
	}
	if fi, err := os.Lstat(p + ".lock"); err != nil || !fi.IsDir() {
		t.Fatalf("lock directory gone: %v", err)
	}
}

func TestLockFileWithContentIsKept(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.sock")
	if err := os.WriteFile(p+".lock", []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(p)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if b, err := os.ReadFile(p + ".lock"); err != nil || string(b) != "mine" {
		t.Fatalf("non-empty lock file removed or changed: %q %v", b, err)
	}
}

func TestRuntimeDirMustBePrivate(t *testing.T) {
	uid := os.Geteuid()
	d := filepath.Join(t.TempDir(), "kelpie")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := checkPrivateDir(d, uid); err != nil {
		t.Fatalf("private dir refused: %v", err)
	}
	if err := checkPrivateDir(d, uid+1); err == nil ||
		!strings.Contains(err.Error(), "is owned by uid "+itoa(uid)+", not by you") ||
		!strings.Contains(err.Error(), "remove it or set XDG_RUNTIME_DIR") {
		t.Fatalf("foreign owner: %v", err)
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := checkPrivateDir(d, uid); err == nil || !strings.Contains(err.Error(), "run: chmod 700 "+d) {
		t.Fatalf("world-writable dir: %v", err)
	}
	// Through the default path too, and a symlinked directory is refused.
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	if err := os.Symlink(d, filepath.Join(rt, "kelpie")); err != nil {
		t.Fatal(err)
	}
	if _, err := DefaultPath("/x/kelpie.yaml"); err == nil || !strings.Contains(err.Error(), "is a symlink, not a directory") {
		t.Fatalf("symlinked runtime dir: %v", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestPeerOfAnotherUserIsRefused(t *testing.T) {
	eng := newFake(t)
	own := serve(t, eng, nil)
	if err := Do(own.Path(), Request{Cmd: "ps"}, func(Response) error { return nil }); err != nil {
		t.Fatalf("own user refused: %v", err)
	}
	// As if the caller were someone else.
	srv := serve(t, eng, func(s *Server) { s.uid = os.Geteuid() + 1 })
	err := Do(srv.Path(), Request{Cmd: "ps"}, func(Response) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("stranger: %v", err)
	}
	if n := eng.lists.Load(); n != 1 {
		t.Fatalf("the stranger's request reached the engine (%d lists)", n)
	}
}

func TestClientRefusesAServerOfAnotherUser(t *testing.T) {
	eng := newFake(t)
	srv := serve(t, eng, nil)
	err := do(context.Background(), srv.Path(), Request{Cmd: "ps"}, func(Response) error { return nil }, nil, os.Geteuid()+1)
	if err == nil || !strings.Contains(err.Error(), "is served by uid "+itoa(os.Geteuid())+", not by you") {
		t.Fatalf("foreign server: %v", err)
	}
	if eng.lists.Load() != 0 {
		t.Fatal("the request was sent to a foreign server")
	}
}

func TestConnectionCap(t *testing.T) {
	srv := serve(t, newFake(t), func(s *Server) { s.maxConns = 2 })
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("unix", srv.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	open := func() int { srv.mu.Lock(); defer srv.mu.Unlock(); return len(srv.conns) }
	waitFor(t, "two connections admitted", func() bool { return open() == 2 })
	err := Do(srv.Path(), Request{Cmd: "ps"}, func(Response) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "kelpie is busy: 2 control connections are open") {
		t.Fatalf("third connection: %v", err)
	}
	held[0].Close()
	waitFor(t, "a slot freed", func() bool { return open() < 2 })
	if err := Do(srv.Path(), Request{Cmd: "ps"}, func(Response) error { return nil }); err != nil {
		t.Fatalf("after a slot freed: %v", err)
	}
}

func TestHugeRequestsAreBounded(t *testing.T) {
	eng := newFake(t)
	srv := serve(t, eng, nil)
	const clients, size = 100, 8 << 20
	block := bytes.Repeat([]byte("a"), 64<<10) // shared: the clients allocate nothing per write
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", srv.Path())
			if err != nil {
				errs <- "dial: " + err.Error()
				return
			}
			defer c.Close()
			go func() {
				for sent := 0; sent < size; sent += len(block) {
					if _, err := c.Write(block); err != nil {
						return
					}
				}
			}()
			line, _ := io.ReadAll(io.LimitReader(c, 4096))
			var resp Response
			_ = json.Unmarshal(bytes.TrimSpace(line), &resp)
			errs <- resp.Error
		}()
	}
	wg.Wait()
	close(errs)
	tooLarge := 0
	for e := range errs {
		switch {
		case strings.HasPrefix(e, "request too large: over 1048576 bytes"):
			tooLarge++
		case strings.HasPrefix(e, "kelpie is busy"):
		default:
			t.Fatalf("client got %q", e)
		}
	}
	if tooLarge == 0 {
		t.Fatal("no client was told its request was too large")
	}
	if read, bound := srv.read.Load(), int64(clients*(maxRequest+4096)); read > bound {
		t.Fatalf("server read %d request bytes, bound %d", read, bound)
	}
	if eng.lists.Load() != 0 || eng.tails.Load() != 0 {
		t.Fatal("an oversized request reached the engine")
	}
}

func TestCloseIsNotHeldByAFollowerThatNeverReads(t *testing.T) {
	eng := newFake(t)
	text := strings.Repeat("x", 1000)
	for i := range 20000 { // ~20 MB: far more than the socket buffers
		eng.tail = append(eng.tail, procs.Line{Seq: uint64(i + 1), Text: text})
	}
	srv, err := Listen(filepath.Join(t.TempDir(), "k.sock"))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(eng)
	c, err := net.Dial("unix", srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(`{"cmd":"logs","name":"web","follow":true,"n":20000}` + "\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to start", func() bool { return eng.tails.Load() > 0 })
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // failure bound, far below writeTimeout's 30 s
		t.Fatal("Close blocked by a client that does not read")
	}
	if _, err := os.Stat(srv.Path()); !os.IsNotExist(err) {
		t.Fatalf("socket left after Close: %v", err)
	}
}

func TestReadRequest(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"{}\n", "{}", nil},
		{"{}\nrest", "{}", nil},
		{"{}", "{}", nil}, // EOF without newline
		{"", "", io.EOF},
		{strings.Repeat("a", 10) + "\n", strings.Repeat("a", 10), nil},
		{strings.Repeat("a", 11) + "\n", "", errTooLarge},
		{strings.Repeat("a", 5000), "", errTooLarge},
	} {
		got, err := readRequest(strings.NewReader(tc.in), 10)
		if string(got) != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("readRequest(%.20q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
