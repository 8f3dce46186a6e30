// Command clusterhello is the Go worker of bench/cluster.sh: a net/http
// "hello world" server on whatever kelpie gives it (cluster.WorkerListener:
// the inherited socket in fds mode, passed connections in round-robin
// mode). Its body names its pid, so a run can count each worker's share.
package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/kelpie-dev/kelpie/cluster"
)

func main() {
	ln, err := cluster.WorkerListener()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterhello:", err)
		os.Exit(1)
	}
	body := []byte("hello from " + strconv.Itoa(os.Getpid()) + "\n")
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "clusterhello:", err)
}
