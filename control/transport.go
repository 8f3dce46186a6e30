package control

import (
	"context"
	"net"
)

// Dialer opens one connection to a kelpie's control server. The protocol
// takes a connection per request (a subscription keeps its own), so a
// transport is a way to open them: the unix socket itself, or a stream of a
// Mux over an ssh session's stdin and stdout (`kelpie dial-stdio`).
type Dialer func(ctx context.Context) (net.Conn, error)
