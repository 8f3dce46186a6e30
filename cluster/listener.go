package cluster

import (
	"errors"
	"net"
)

// WorkerListener is what a Go worker accepts on, in either mode kelpie
// started it in: fds (LISTEN_FDS=1, the socket on fd 3) or round-robin
// (connections arrive as descriptors over the NODE_CHANNEL_FD channel; the
// listener owns the channel). It clears the variables it read, so children
// of the worker do not take them for theirs.
func WorkerListener() (net.Listener, error) {
	return nil, errors.New("cluster: WorkerListener: not implemented yet")
}
