// Command cluster is the worker of kelpie's cluster benchmark: a net/http
// "hello world" server, the same as the harness's go-single and
// go-reuseport2 baselines, on whatever kelpie hands it: the socket on fd 3
// (fds mode, LISTEN_FDS=1) or connections over its channel (round-robin,
// through cluster.WorkerListener).
//
// On SIGTERM it stops gracefully, as a server behind a rolling reload must:
// it stops accepting, closes each connection after its next response
// (never an idle one under a client about to reuse it), and exits once no
// connection is left.
//
// bench/cluster.sh runs it under kelpie beside the baselines;
// bench/cluster-reload.sh reloads it under wrk.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/cluster"
)

func main() {
	ln, err := listener()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	body := []byte("hello world\n")
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	quit := make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-quit: // stopping: this connection's last response
				w.Header().Set("Connection", "close")
			default:
			}
			w.WriteHeader(200)
			_, _ = w.Write(body)
		}),
		ConnState: func(c net.Conn, st http.ConnState) {
			mu.Lock()
			defer mu.Unlock()
			if st == http.StateClosed || st == http.StateHijacked {
				delete(open, c)
			} else {
				open[c] = true
			}
		},
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		close(quit)
		ln.Close()
	}()
	err = srv.Serve(ln)
	select {
	case <-quit:
	default:
		fmt.Fprintln(os.Stderr, "hello: serve:", err)
		os.Exit(1)
	}
	for {
		mu.Lock()
		n := len(open)
		mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// listener is fd 3 under systemd's convention, else kelpie's round-robin.
func listener() (net.Listener, error) {
	if os.Getenv("LISTEN_FDS") == "1" {
		return net.FileListener(os.NewFile(3, "listener"))
	}
	return cluster.WorkerListener()
}
