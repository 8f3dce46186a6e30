package procs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// httpConn is one http probe's own kept connection: a plain-http URL is
// checked by writing a prepared GET on it and reading the answer with
// net/http's ReadResponse. A hundred units probed every second cost a
// hundred checks a second; through http.Client each one is a handful of
// goroutine hand-offs (the transport's write and read loops, the result
// channel) and allocations; here it is one write and one read that parks
// in the poller (BenchmarkProbesIdleCPU). Anything else (https, a URL with
// credentials) goes through the shared http.Client.
//
// A check holds mu for its length; checks of one probe never overlap (the
// next is scheduled after the result), so mu is only ever contended by
// close.
type httpConn struct {
	mu      sync.Mutex
	addr    string // host:port to dial
	req     []byte // the request, built once
	c       net.Conn
	br      *bufio.Reader
	stopped atomic.Bool // the probe ended: the connection goes with it
}

// probeBodyMax is how much of a response body a check reads to keep its
// connection; a bigger body is cut and the connection dropped.
const probeBodyMax = 64 << 10

// newHTTPConn prepares a lean check of rawURL, or returns nil when the URL
// needs the full client (not plain http, or credentials in it).
func newHTTPConn(rawURL string) *httpConn {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Host == "" {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: kelpie-probe\r\nAccept: */*\r\n\r\n"
	return &httpConn{addr: addr, req: []byte(req)}
}

// check runs one GET, on the kept connection when there is one (once more
// on a new one if the server had closed it), within timeout.
func (h *httpConn) check(timeout time.Duration) error {
	h.mu.Lock()
	defer h.unlock()
	if h.stopped.Load() {
		return errors.New("probe stopped")
	}
	deadline := time.Now().Add(timeout)
	for {
		fresh := h.c == nil
		if fresh {
			d := net.Dialer{Deadline: deadline}
			c, err := d.Dial("tcp", h.addr)
			if err != nil {
				return err
			}
			h.c = c
			if h.br == nil {
				h.br = bufio.NewReaderSize(c, 4096)
			} else {
				h.br.Reset(c)
			}
		}
		status, err := h.roundTrip(deadline)
		if err != nil {
			h.drop()
			// A kept connection the server has closed meanwhile fails at
			// once: that says nothing of the server; try a new one.
			if !fresh && time.Now().Before(deadline) && !isTimeout(err) {
				continue
			}
			return err
		}
		if status < 200 || status >= 400 {
			return fmt.Errorf("HTTP status %d", status)
		}
		return nil
	}
}

// roundTrip writes the request and reads the status and body.
func (h *httpConn) roundTrip(deadline time.Time) (int, error) {
	if err := h.c.SetDeadline(deadline); err != nil {
		return 0, err
	}
	if _, err := h.c.Write(h.req); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyN(io.Discard, resp.Body, probeBodyMax+1)
	resp.Body.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if n > probeBodyMax || resp.Close {
		h.drop() // cut, or the server said it closes: the status still counts
	}
	return resp.StatusCode, nil
}

// drop closes the connection. mu held.
func (h *httpConn) drop() {
	if h.c != nil {
		_ = h.c.Close()
		h.c = nil
	}
}

// unlock ends a check; a close that came meanwhile (and found mu held)
// left the connection to it.
func (h *httpConn) unlock() {
	h.mu.Unlock()
	if h.stopped.Load() && h.mu.TryLock() {
		h.drop()
		h.mu.Unlock()
	}
}

// close ends the probe's connection without waiting for a check in
// flight: that check drops it when it ends (see unlock).
func (h *httpConn) close() {
	h.stopped.Store(true)
	if h.mu.TryLock() {
		h.drop()
		h.mu.Unlock()
	}
}

// isTimeout reports a deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
