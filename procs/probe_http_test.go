package procs

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPConnKeepsItsConnection: checks reuse one connection while the
// server keeps it, pass on 2xx and 3xx (not followed), fail on others, and
// survive a server that closes, cuts or streams its answers.
func TestHTTPConnKeepsItsConnection(t *testing.T) {
	var conns atomic.Int32
	var status atomic.Int32
	status.Store(200)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "kelpie-probe" || r.URL.RequestURI() != "/health?x=1" || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.Host {
		case "close":
			w.Header().Set("Connection", "close")
		case "big":
			_, _ = w.Write([]byte(strings.Repeat("x", probeBodyMax+10)))
			return
		case "chunked":
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("ok"))
			return
		}
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(int(status.Load()))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	h := newHTTPConn(srv.URL + "/health?x=1")
	if h == nil {
		t.Fatal("a plain http URL takes the lean check")
	}
	defer h.close()
	for i := range 5 {
		if err := h.check(time.Second); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 checks used %d connections, want 1 kept", n)
	}
	status.Store(302)
	if err := h.check(time.Second); err != nil {
		t.Errorf("302 fails: %v", err)
	}
	status.Store(503)
	if err := h.check(time.Second); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
	status.Store(200)
	// The server closes every kept connection: the next check redials.
	srv.CloseClientConnections()
	if err := h.check(time.Second); err != nil {
		t.Errorf("after the server closed the connection: %v", err)
	}
	for _, host := range []string{"close", "big", "chunked"} {
		hh := &httpConn{addr: h.addr, req: []byte("GET /health?x=1 HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: kelpie-probe\r\n\r\n")}
		for i := range 2 {
			if err := hh.check(time.Second); err != nil {
				t.Errorf("%s, check %d: %v", host, i, err)
			}
		}
		hh.close()
	}
	for _, u := range []string{"https://example.com/", "http://u:p@127.0.0.1/", "ftp://x/"} {
		if newHTTPConn(u) != nil {
			t.Errorf("%s takes the lean check", u)
		}
	}
}

// TestHTTPConnTimeoutAndStop: a server that never answers fails the check
// at its timeout; a closed check refuses and holds no connection.
func TestHTTPConnTimeoutAndStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	h := newHTTPConn("http://" + ln.Addr().String())
	if err := h.check(50 * time.Millisecond); err == nil || !isTimeout(err) {
		t.Fatalf("silent server: %v, want a timeout", err)
	}
	h.close()
	if err := h.check(time.Second); err == nil {
		t.Error("a closed probe still checks")
	}
	if h.c != nil {
		t.Error("a closed probe keeps its connection")
	}
}
