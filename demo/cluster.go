package demo

import (
	"context"
	"errors"
	"fmt"
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
	var served int
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			served++
			n := served
			mu.Unlock()
			fmt.Fprintf(w, "hello from web worker %s (pid %d), request %d\n", id, os.Getpid(), n)
			fmt.Printf("%s %s -> request %d\n", r.Method, r.URL.Path, n)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	// Shutdown closes the listener and the idle connections, then waits
	// for the active ones to finish their response (kelpie's stop timeout
	// bounds the wait).
	shut := make(chan error, 1)
	go func() {
		<-sig
		shut <- srv.Shutdown(context.Background())
	}()
	fmt.Printf("worker %s serving on http://%s\n", id, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "web:", err)
		return 1
	}
	if err := <-shut; err != nil {
		fmt.Fprintln(os.Stderr, "web: shutdown:", err)
		return 1
	}
	fmt.Println("stopped: every connection finished")
	return 0
}
