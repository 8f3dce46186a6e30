package demo

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/cluster"
)

// TestWebFinishesOnSIGTERM plays the web role on a socket handed as kelpie
// hands it (fd 3): it answers, and on SIGTERM it closes the client's idle
// keep-alive connection itself, says every connection finished and exits 0.
func TestWebFinishesOnSIGTERM(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"=web", cluster.EnvListenFDs+"=1")
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	addr := "http://" + ln.Addr().String()
	ln.Close() // the worker has its own copy
	lines := bufio.NewReader(out)
	if l, err := lines.ReadString('\n'); err != nil || !strings.Contains(l, "serving on") {
		t.Fatalf("first line %q, %v", l, err)
	}
	client := &http.Client{Timeout: 10 * time.Second} // keeps the connection alive
	resp, err := client.Get(addr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "hello from web worker") {
		t.Fatalf("answer %q", body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(lines)
		rest <- string(b)
	}()
	select {
	case s := <-rest:
		if !strings.Contains(s, "stopped: every connection finished") {
			t.Errorf("after SIGTERM: %q", s)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the worker did not end after SIGTERM with an idle connection open")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the worker ended with %v", err)
	}
	client.CloseIdleConnections()
}
