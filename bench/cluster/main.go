// Command cluster is the worker of kelpie's cluster benchmark: a net/http
// "hello world" server, the same as the harness's go-single and
// go-reuseport2 baselines, on whatever kelpie hands it: the socket on fd 3
// (fds mode, LISTEN_FDS=1) or connections over its channel (round-robin,
// through cluster.WorkerListener).
//
// bench/cluster.sh runs it under kelpie beside the baselines.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/kelpie-dev/kelpie/cluster"
)

func main() {
	ln, err := listener()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	body := []byte("hello world\n")
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "hello: serve:", err)
	os.Exit(1)
}

// listener is fd 3 under systemd's convention, else kelpie's round-robin.
func listener() (net.Listener, error) {
	if os.Getenv("LISTEN_FDS") == "1" {
		return net.FileListener(os.NewFile(3, "listener"))
	}
	return cluster.WorkerListener()
}
