package vterm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// readUntil reads the master until the output holds want or the deadline
// passes; the deadline works only because the master is in the poller.
func readUntil(t *testing.T, p *PTY, want string) string {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	if err := p.master.SetReadDeadline(deadline); err != nil {
		t.Fatalf("SetReadDeadline on the master: %v (not in the poller)", err)
	}
	for !strings.Contains(out.String(), want) {
		n, err := p.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("read: %v; waiting for %q, got %q", err, want, out.String())
		}
	}
	return out.String()
}

func waitProc(t *testing.T, proc *os.Process) *os.ProcessState {
	t.Helper()
	done := make(chan *os.ProcessState, 1)
	go func() { st, _ := proc.Wait(); done <- st }()
	select {
	case st := <-done:
		return st
	case <-time.After(10 * time.Second):
		proc.Kill()
		t.Fatal("child did not exit")
		return nil
	}
}

// The fact the issue states: creack/pty hands back a blocking master.
func TestFactCreackMasterIsBlocking(t *testing.T) {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer m.Close()
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fl int
	rc.Control(func(fd uintptr) { fl, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if fl&unix.O_NONBLOCK != 0 {
		t.Fatal("creack/pty master is non-blocking: the fact changed")
	}
	// Ours is.
	p, err := Open(80, 24)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rc, _ = p.master.SyscallConn()
	rc.Control(func(fd uintptr) { fl, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Fatalf("our master: flags %#x, %v: want O_NONBLOCK", fl, err)
	}
}

// A blocking master's Close does not close the descriptor while a Read is
// parked on it: the slave can still write to it (a real close would make
// that write fail with EIO), and the "closed" master's Read gets the bytes.
func TestFactBlockingCloseDoesNotHangUp(t *testing.T) {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan string, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		b := make([]byte, 16)
		n, _ := m.Read(b)
		got <- string(b[:n])
	}()
	<-started
	// Wait until a thread sits in read(2) on the master (amd64: syscall 0),
	// as /proc shows, so Close meets a parked Read.
	var mfd uintptr
	rc, _ := m.SyscallConn()
	rc.Control(func(fd uintptr) { mfd = fd })
	want := fmt.Sprintf("0 %#x ", mfd)
	deadline := time.Now().Add(5 * time.Second)
	for !threadInSyscall(want) {
		if time.Now().After(deadline) {
			t.Skip("no thread seen in read(2) on the master (not amd64?)")
		}
		time.Sleep(time.Millisecond)
	}
	m.Close()
	for {
		if _, err := s.Write([]byte("x\n")); err != nil {
			t.Fatalf("slave write after master Close failed (%v): Close did hang up", err)
		}
		select {
		case g := <-got:
			if !strings.Contains(g, "x") {
				t.Fatalf("pending read got %q", g)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("pending read never returned")
		}
	}
}

// Ours: Close wakes a parked Read and really closes, so the slave sees the
// hang-up (EIO on write).
func TestCloseWakesReadAndHangsUp(t *testing.T) {
	p, err := Open(80, 24)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Slave()
	p.slave = nil // keep our test's copy of the slave open past Close
	defer s.Close()
	errc := make(chan error, 1)
	go func() {
		b := make([]byte, 16)
		_, err := p.Read(b)
		errc <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !IsHangup(err) {
			t.Fatalf("read after Close: %v, want a hang-up", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake the parked Read")
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("slave write after Close: %v, want EIO", err)
	}
}

// A child on the PTY is a session leader with the slave as controlling
// terminal, sees TERM, a terminal on stdin, and the size; Resize is seen
// by the child (stty size) and SIGWINCH reaches it.
func TestStartSessionSizeResize(t *testing.T) {
	script := `trap 'echo WINCH; stty size' WINCH
test -t 0 && test -t 1 && echo TTY=yes
echo TERM=$TERM
ps -o sid= -o pgid= -p $$ | tr -s ' ' | sed 's/^ *//;s/^/SIDPGID=/'
echo PID=$$
stty size
echo READY
while :; do sleep 0.05; done`
	p, proc, err := Start([]string{"sh", "-c", script}, nil, "", 100, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := readUntil(t, p, "READY")
	for _, want := range []string{"TTY=yes", "TERM=xterm-256color", "30 100"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %q", want, out)
		}
	}
	pid := proc.Pid
	sid, _ := unix.Getsid(pid)
	pgid, _ := unix.Getpgid(pid)
	if sid != pid || pgid != pid {
		t.Fatalf("child %d: sid %d pgid %d, want both = pid", pid, sid, pgid)
	}
	if err := p.Resize(120, 40); err != nil {
		t.Fatal(err)
	}
	if c, r, err := p.Size(); err != nil || c != 120 || r != 40 {
		t.Fatalf("Size = %d x %d, %v", c, r, err)
	}
	readUntil(t, p, "40 120")
	// Closing the master hangs up: the shell leader gets SIGHUP and dies.
	p.Close()
	st := waitProc(t, proc)
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGHUP {
		t.Fatalf("child after hang-up: %v, want killed by SIGHUP", st)
	}
}

func TestSessionAttrAndTermEnv(t *testing.T) {
	a := SessionAttr(&syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL})
	if !a.Setsid || !a.Setctty || a.Ctty != 0 || a.Setpgid || a.Pdeathsig != syscall.SIGKILL {
		t.Fatalf("SessionAttr = %+v", a)
	}
	env := TermEnv([]string{"A=1", "TERM=dumb", "B=2"})
	if strings.Join(env, ",") != "A=1,B=2,TERM=xterm-256color" {
		t.Fatalf("TermEnv = %v", env)
	}
}

// threadInSyscall reports whether a thread of this process is in the
// syscall /proc/self/task/*/syscall describes with prefix.
func threadInSyscall(prefix string) bool {
	files, _ := filepath.Glob("/proc/self/task/*/syscall")
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), prefix) {
			return true
		}
	}
	return false
}

// Size reads the window size back (cols, rows), as the child sees it.
func (p *PTY) Size() (cols, rows int, err error) {
	rc, err := p.master.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("pty size: %w", err)
	}
	var ws *unix.Winsize
	var ierr error
	if err := rc.Control(func(fd uintptr) { ws, ierr = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) }); err != nil {
		return 0, 0, fmt.Errorf("pty size: %w", err)
	}
	if ierr != nil {
		return 0, 0, fmt.Errorf("pty size: %w", ierr)
	}
	return int(ws.Col), int(ws.Row), nil
}

// IsHangup reports whether err from Read means the terminal is gone: EIO
// once every process of the session closed the slave, or os.ErrClosed after
// Close.
func IsHangup(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, os.ErrClosed)
}
