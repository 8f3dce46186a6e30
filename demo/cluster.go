package demo

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/cluster"
	"github.com/kelpie-dev/kelpie/procs"
)

// Clusters returns the demo's cluster: two HTTP workers (exe in the web
// role) sharing one free loopback port, by inherited socket (fds mode).
func Clusters(exe string) []procs.Cluster {
	env := []string{"PATH=" + filepath.Dir(exe) + string(os.PathListSeparator) + os.Getenv("PATH")}
	return []procs.Cluster{{
		Spec: procs.Spec{
			Name: "web", Argv: []string{filepath.Base(exe), RoleArg, "web"}, Env: env,
			Restart: procs.RestartAlways, StopTimeout: 5 * time.Second,
		},
		Listen:    "127.0.0.1:0",
		Mode:      procs.ModeFDs,
		Instances: 2,
	}}
}

// web serves HTTP on the socket kelpie hands it (fd 3, systemd's
// convention), answering which worker it is. On SIGTERM it stops accepting
// and finishes the connections it has, so a rolling reload fails no request.
func web() int {
	ln, err := cluster.WorkerListener()
	if errors.Is(err, cluster.ErrNotWorker) {
		fmt.Fprintln(os.Stderr, "web: no socket from kelpie: run me in a cluster")
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		return 1
	}
	id := os.Getenv(procs.WorkerIDVar)
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	var served int
	quit := make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-quit: // stopping: this connection's last response
				w.Header().Set("Connection", "close")
			default:
			}
			mu.Lock()
			served++
			n := served
			mu.Unlock()
			fmt.Fprintf(w, "hello from web worker %s (pid %d), request %d\n", id, os.Getpid(), n)
			fmt.Printf("%s %s -> request %d\n", r.Method, r.URL.Path, n)
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
		ReadHeaderTimeout: 10 * time.Second,
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		close(quit)
		ln.Close()
	}()
	fmt.Printf("worker %s serving on http://%s\n", id, ln.Addr())
	err = srv.Serve(ln)
	select {
	case <-quit:
	default:
		fmt.Fprintln(os.Stderr, "web:", err)
		return 1
	}
	for {
		mu.Lock()
		n := len(open)
		mu.Unlock()
		if n == 0 {
			fmt.Println("stopped: every connection finished")
			return 0
		}
		time.Sleep(5 * time.Millisecond)
	}
}
