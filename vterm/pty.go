package vterm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair: the master end kelpie reads and writes, and
// the slave end a child gets as its stdin, stdout, stderr and controlling
// terminal. The master is non-blocking and served by Go's poller, so a Read
// parks a goroutine rather than an OS thread, and Close wakes a pending Read
// and really closes the descriptor, which hangs up the child's terminal.
type PTY struct {
	master *os.File
	slave  *os.File
}

// Open makes a PTY pair sized cols x rows. creack/pty opens the master with
// Fd() calls (ptsname, unlockpt) that switch it to blocking mode for good;
// Open therefore duplicates the descriptor, makes the copy non-blocking and
// wraps it anew, so it joins the poller, and closes the blocking original.
func Open(cols, rows int) (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open pty: %w", err)
	}
	master, err := rewrapNonblocking(m)
	if err != nil {
		s.Close()
		return nil, err
	}
	p := &PTY{master: master, slave: s}
	if err := p.Resize(cols, rows); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// rewrapNonblocking returns a poller-backed *os.File for f's descriptor and
// closes f. os.NewFile registers a descriptor with the poller only when it
// is already in non-blocking mode.
func rewrapNonblocking(f *os.File) (*os.File, error) {
	defer f.Close()
	var fd int
	var derr error
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("pty master: %w", err)
	}
	if err := rc.Control(func(old uintptr) {
		fd, derr = unix.FcntlInt(old, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("pty master: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("pty master: dup: %w", derr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pty master: non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// Master is the master end, for callers that poll descriptors themselves
// (through SyscallConn). Never call its Fd(): that switches it to blocking
// mode for good, and Close would no longer hang up the child.
func (p *PTY) Master() *os.File { return p.master }

// Slave is the child's end. Pass it as the child's descriptors 0, 1 and 2
// (os.ProcAttr.Files or exec.Cmd.Stdin/Stdout/Stderr) together with
// SessionAttr, then call CloseSlave once the child is started.
func (p *PTY) Slave() *os.File { return p.slave }

// CloseSlave closes kelpie's copy of the slave end. Call it right after the
// child started: while kelpie holds the slave open, the master never sees
// the hang-up (EIO) that says every process of the session let go of it.
func (p *PTY) CloseSlave() error {
	if p.slave == nil {
		return nil
	}
	err := p.slave.Close()
	p.slave = nil
	if err != nil {
		return fmt.Errorf("close pty slave: %w", err)
	}
	return nil
}

// Read reads the child's output from the master. Once the last process of
// the session has closed the slave, Linux answers EIO rather than EOF
// (and a Read woken by Close, os.ErrClosed): both mean the terminal is gone.
func (p *PTY) Read(b []byte) (int, error) { return p.master.Read(b) }

// Write sends input (keys, pastes, the emulator's replies) to the child. It
// parks the calling goroutine while the terminal's input queue is full (a
// child that does not read), so callers that must not block write from a
// goroutine of their own (Term does).
func (p *PTY) Write(b []byte) (int, error) { return p.master.Write(b) }

// Resize sets the window size with TIOCSWINSZ; the kernel then sends
// SIGWINCH to the terminal's foreground process group. The ioctl goes
// through SyscallConn, since Fd() would turn the master blocking again.
func (p *PTY) Resize(cols, rows int) error {
	ws := &unix.Winsize{Col: uint16(clampSize(cols)), Row: uint16(clampSize(rows))}
	rc, err := p.master.SyscallConn()
	if err != nil {
		return fmt.Errorf("pty resize: %w", err)
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return fmt.Errorf("pty resize: %w", err)
	}
	if ierr != nil {
		return fmt.Errorf("pty resize: %w", ierr)
	}
	return nil
}

// Close closes both ends. Closing the master hangs up the terminal: the
// kernel sends SIGHUP to the session's leader and foreground group, and a
// Read parked on the master returns os.ErrClosed.
func (p *PTY) Close() error {
	serr := p.CloseSlave()
	if err := p.master.Close(); err != nil {
		return fmt.Errorf("close pty master: %w", err)
	}
	return serr
}

// SessionAttr returns a copy of base (nil for none) set up for a child on a
// PTY: Setsid makes it the leader of a new session (so it is also a process
// group leader, pgid == pid, and kill(-pid) still signals its group),
// Setctty with Ctty 0 makes the slave, its descriptor 0, the session's
// controlling terminal. Setpgid is cleared: setpgid after setsid fails
// (EPERM), and the new session already gives the child its own group. Other
// fields (Pdeathsig, cgroup descriptors) are kept.
func SessionAttr(base *syscall.SysProcAttr) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if base != nil {
		*a = *base
	}
	a.Setpgid, a.Pgid = false, 0
	a.Foreground = false
	a.Setsid, a.Setctty, a.Ctty = true, true, 0
	return a
}

// TermEnv returns env with TERM set to xterm-256color (any TERM in env is
// replaced), the terminal the emulator answers as.
func TermEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "TERM=") {
			out = append(out, kv)
		}
	}
	return append(out, "TERM=xterm-256color")
}

// clampSize keeps a dimension in what a winsize and the emulator accept.
func clampSize(n int) int {
	return min(max(n, 1), 4096)
}

// Start runs argv (argv[0] looked up in PATH when it has no slash) on a new
// PTY of cols x rows, as a session leader with the slave as its controlling
// terminal and TERM=xterm-256color, in dir (empty: the current one) with env
// (nil: this process's environment). It is the short way for tests and
// simple callers; procs, which spawns and reaps children itself, uses Open,
// Slave, SessionAttr, TermEnv and CloseSlave instead. The caller waits for
// the process.
func Start(argv, env []string, dir string, cols, rows int) (*PTY, *os.Process, error) {
	if len(argv) == 0 {
		return nil, nil, errors.New("start on pty: empty argv")
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		lp, err := exec.LookPath(path)
		if err != nil {
			return nil, nil, fmt.Errorf("start on pty: %w", err)
		}
		path = lp
	}
	if env == nil {
		env = os.Environ()
	}
	p, err := Open(cols, rows)
	if err != nil {
		return nil, nil, err
	}
	s := p.Slave()
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Dir:   dir,
		Env:   TermEnv(env),
		Files: []*os.File{s, s, s},
		Sys:   SessionAttr(nil),
	})
	if cerr := p.CloseSlave(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		p.Close()
		return nil, nil, fmt.Errorf("start %q on pty: %w", argv[0], err)
	}
	return p, proc, nil
}
