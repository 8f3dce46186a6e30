package ipc

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

// Environment variables of Node's IPC channel protocol.
const (
	// EnvChannelFD names the child's descriptor of the channel.
	EnvChannelFD = "NODE_CHANNEL_FD"
	// EnvSerialization names the framing; only "json" is spoken here
	// ("advanced" is V8's structured-clone format).
	EnvSerialization = "NODE_CHANNEL_SERIALIZATION_MODE"
)

// Pair creates a channel for a child process. parent is the manager's end;
// child must be put in exec.Cmd.ExtraFiles (ExtraFiles[0] becomes fd 3, see
// ChildEnv) and closed by the caller once the child has started: while the
// manager holds a copy, the child's exit never shows up as EOF.
//
// A socketpair is required: Node refuses a pipe as its IPC channel, and only
// a socket can carry descriptors.
func Pair() (parent *Conn, child *os.File, err error) {
	return PairOptions(Options{})
}

// PairOptions is Pair with explicit Options for the parent's end.
func PairOptions(opts Options) (parent *Conn, child *os.File, err error) {
	a, b, err := socketpair()
	if err != nil {
		return nil, nil, err
	}
	uc, err := fileUnixConn(a)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return NewConn(uc, opts), b, nil
}

// ChildEnv returns the environment entries that tell a child (Node or a Go
// program using FromParent) that descriptor fd is its channel.
func ChildEnv(fd int) []string {
	return []string{
		EnvChannelFD + "=" + strconv.Itoa(fd),
		EnvSerialization + "=json",
	}
}

// FromParent opens the channel a parent set up with NODE_CHANNEL_FD, either
// kelpie (Pair + ChildEnv) or Node's child_process.fork. It removes both
// variables from the environment and keeps the channel on a close-on-exec
// descriptor, so grandchildren neither inherit the socket nor believe they
// have a channel. Without a usable channel it returns an error wrapping
// ErrNoChannel.
func FromParent() (*Conn, error) {
	return FromParentOptions(Options{})
}

// FromParentOptions is FromParent with explicit Options.
func FromParentOptions(opts Options) (*Conn, error) {
	v, ok := os.LookupEnv(EnvChannelFD)
	mode := os.Getenv(EnvSerialization)
	os.Unsetenv(EnvChannelFD)
	os.Unsetenv(EnvSerialization)
	if !ok {
		return nil, fmt.Errorf("ipc: %s not set: %w", EnvChannelFD, ErrNoChannel)
	}
	if mode != "" && mode != "json" {
		return nil, fmt.Errorf("ipc: serialization %q unsupported (fork with serialization: 'json'): %w", mode, ErrNoChannel)
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 0 {
		return nil, fmt.Errorf("ipc: %s=%q is not a descriptor: %w", EnvChannelFD, v, ErrNoChannel)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("ipc: %s=%d: %v: %w", EnvChannelFD, fd, err, ErrNoChannel)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return nil, fmt.Errorf("ipc: %s=%d is not a socket: %w", EnvChannelFD, fd, ErrNoChannel)
	}
	if typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE); err != nil || typ != syscall.SOCK_STREAM {
		return nil, fmt.Errorf("ipc: %s=%d is not a stream socket: %w", EnvChannelFD, fd, ErrNoChannel)
	}
	uc, err := fileUnixConn(os.NewFile(uintptr(fd), "node-channel"))
	if err != nil {
		return nil, fmt.Errorf("ipc: %s=%d: %v: %w", EnvChannelFD, fd, err, ErrNoChannel)
	}
	return NewConn(uc, opts), nil
}

// Pipe returns two connected Conns within one process, so a worker
// goroutine is messaged exactly like a forked child. If the socketpair
// cannot be created (descriptor exhaustion) both Conns report that error
// from every method.
func Pipe() (*Conn, *Conn) {
	return PipeOptions(Options{})
}

// PipeOptions is Pipe with explicit Options for both ends.
func PipeOptions(opts Options) (*Conn, *Conn) {
	a, b, err := socketpair()
	if err != nil {
		return brokenConn(err), brokenConn(err)
	}
	ua, err := fileUnixConn(a)
	if err != nil {
		b.Close()
		return brokenConn(err), brokenConn(err)
	}
	ub, err := fileUnixConn(b)
	if err != nil {
		ua.Close()
		return brokenConn(err), brokenConn(err)
	}
	return NewConn(ua, opts), NewConn(ub, opts)
}

// socketpair makes a close-on-exec AF_UNIX stream pair, so the child's end
// reaches only the child it is passed to, never a sibling.
func socketpair() (*os.File, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "ipc-parent"), os.NewFile(uintptr(fds[1]), "ipc-child"), nil
}

// fileUnixConn turns f into a *net.UnixConn on Go's poller and closes f
// (net.FileConn works on a close-on-exec duplicate).
func fileUnixConn(f *os.File) (*net.UnixConn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("ipc: wrap socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("ipc: wrap socket: %T is not a unix socket", c)
	}
	return uc, nil
}
