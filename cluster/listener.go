package cluster

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/kelpie-dev/kelpie/ipc"
)

// systemd's socket-activation variables (sd_listen_fds(3)), fds mode.
const (
	// EnvListenFDs is how many sockets start at fd 3.
	EnvListenFDs = "LISTEN_FDS"
	// EnvListenPID is the pid the sockets are meant for.
	EnvListenPID = "LISTEN_PID"
	// EnvListenFDNames names them, colon-separated.
	EnvListenFDNames = "LISTEN_FDNAMES"
	// listenFD is the first passed socket.
	listenFD = 3
)

// ErrNotWorker is returned by WorkerListener when the process was started
// in neither fds nor round-robin mode.
var ErrNotWorker = errors.New("cluster: not started as a cluster worker (neither LISTEN_FDS nor a round-robin channel)")

// WorkerListener is what a Go worker accepts on, in either mode kelpie
// started it in: fds (LISTEN_FDS=1, the socket on fd 3; LISTEN_PID, when
// set, must be this process) or round-robin (KELPIE_CLUSTER_MODE=
// round-robin: connections arrive as descriptors over the NODE_CHANNEL_FD
// channel, and the listener owns that channel). It clears the variables it
// read, so the worker's own children do not take them for theirs.
//
// In round-robin mode it tells kelpie it is ready ({"ready":true}), and
// Accept fails once kelpie closes the channel, so a server loop ends with
// its primary.
func WorkerListener() (net.Listener, error) {
	if _, ok := os.LookupEnv(EnvListenFDs); ok {
		return fdsListener()
	}
	if os.Getenv(EnvMode) == ModeRoundRobin {
		addr := os.Getenv(EnvListenAddr)
		os.Unsetenv(EnvMode)
		os.Unsetenv(EnvListenAddr)
		conn, err := ipc.FromParent()
		if err != nil {
			return nil, fmt.Errorf("cluster: round-robin worker: %w", err)
		}
		return NewChannelListener(conn, addr)
	}
	return nil, ErrNotWorker
}

// fdsListener takes the inherited socket on fd 3.
func fdsListener() (net.Listener, error) {
	n, pid := os.Getenv(EnvListenFDs), os.Getenv(EnvListenPID)
	os.Unsetenv(EnvListenFDs)
	os.Unsetenv(EnvListenPID)
	os.Unsetenv(EnvListenFDNames)
	if pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return nil, fmt.Errorf("cluster: %s=%s is not this process (%d): the socket was meant for another", EnvListenPID, pid, os.Getpid())
	}
	if k, err := strconv.Atoi(n); err != nil || k < 1 {
		return nil, fmt.Errorf("cluster: %s=%q: no socket passed", EnvListenFDs, n)
	}
	f := os.NewFile(listenFD, "listen-fd")
	if f == nil {
		return nil, fmt.Errorf("cluster: fd %d is not open", listenFD)
	}
	defer f.Close() // FileListener works on its own duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("cluster: fd %d from %s: %w", listenFD, EnvListenFDs, err)
	}
	return ln, nil
}

// ChannelListener is a net.Listener whose connections come as descriptors
// over an ipc channel (kelpie's round-robin mode).
//
// It reads the channel only inside Accept, so a descriptor is acknowledged
// (NODE_HANDLE_ACK, which frees the worker for the next one) exactly when
// the server accepts it: a connection is either still kelpie's, which gives
// it to another worker if this one goes away, or the server's, never lost
// in between.
type ChannelListener struct {
	conn *ipc.Conn
	addr net.Addr

	mu     sync.Mutex
	closed bool
}

// NewChannelListener takes connections passed over conn, which it owns
// from now on (messages other than connections are dropped). It sends
// {"ready":true} first. addr is what Addr reports, the address kelpie
// accepts on ("" for an unknown one).
func NewChannelListener(conn *ipc.Conn, addr string) (*ChannelListener, error) {
	l := &ChannelListener{conn: conn, addr: &net.TCPAddr{}}
	if a, err := net.ResolveTCPAddr("tcp", addr); addr != "" && err == nil {
		l.addr = a
	}
	if err := conn.SendRaw([]byte(`{"ready":true}`)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cluster: round-robin worker: %w", err)
	}
	return l, nil
}

// Accept waits for the next connection kelpie passes. It fails once the
// channel ends (kelpie closed it, or Close).
func (l *ChannelListener) Accept() (net.Conn, error) {
	for {
		m, err := l.conn.Recv()
		var le *ipc.LineError
		switch {
		case errors.As(err, &le):
			continue
		case errors.Is(err, io.EOF):
			return nil, l.opError(errors.New("cluster: kelpie closed the channel"))
		case errors.Is(err, ipc.ErrClosed):
			return nil, l.opError(net.ErrClosed)
		case err != nil:
			return nil, l.opError(err)
		case m.Handle == nil:
			continue
		}
		c, err := net.FileConn(m.Handle)
		m.Handle.Close()
		if err != nil {
			continue // not a socket: nothing to serve
		}
		return c, nil
	}
}

func (l *ChannelListener) opError(err error) error {
	return &net.OpError{Op: "accept", Net: "kelpie", Addr: l.addr, Err: err}
}

// Close closes the channel: kelpie sees the worker disconnect and gives a
// connection not yet accepted to another worker.
func (l *ChannelListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.conn.Close()
}

// Addr is the address kelpie accepts on.
func (l *ChannelListener) Addr() net.Addr { return l.addr }
