package cluster

import (
	"net"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// benchWorkers attaches n in-process workers that close every connection
// they take, counting them in served.
func benchWorkers(b *testing.B, d Dispatcher, n int, served *atomic.Int64) {
	for id := 0; id < n; id++ {
		kelpie, worker := ipc.Pipe()
		w := d.Attach(id, kelpie)
		go engineSide(w, kelpie)
		ln, err := NewChannelListener(worker, "")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
				served.Add(1)
			}
		}()
		b.Cleanup(func() { ln.Close(); kelpie.Close() })
	}
}

// dialLoop opens and closes b.N connections to addr from a few goroutines.
// Raw sockets keep the client's own cost small next to what is measured.
func dialLoop(b *testing.B, addr *net.TCPAddr) {
	sa := &syscall.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Error(err)
				return
			}
			if err := syscall.Connect(fd, sa); err != nil {
				syscall.Close(fd)
				b.Error(err)
				return
			}
			syscall.Close(fd)
		}
	})
}

// BenchmarkRoundRobinHandoff is the cost of one connection through kelpie's
// round-robin mode with 2 in-process Go workers: accept, pass the
// descriptor over the worker's channel, the worker's ACK, close. Compare
// with BenchmarkDirectAccept, the same connections accepted by one plain
// listener; the difference is what round-robin adds per connection.
func BenchmarkRoundRobinHandoff(b *testing.B) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	rr, err := NewRoundRobin(ln)
	if err != nil {
		b.Fatal(err)
	}
	defer rr.Close()
	var served atomic.Int64
	benchWorkers(b, rr, 2, &served)
	b.ResetTimer()
	start := cpuNow()
	defer func() { reportCPU(b, start) }()
	dialLoop(b, ln.Addr().(*net.TCPAddr))
	for served.Load() < int64(b.N) {
		// Spin out the tail: the last connections are still in flight.
		runtimeGosched()
	}
}

// BenchmarkDirectAccept is the baseline: the same connections accepted and
// closed by one plain listener.
func BenchmarkDirectAccept(b *testing.B) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var served atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			served.Add(1)
		}
	}()
	b.ResetTimer()
	start := cpuNow()
	defer func() { reportCPU(b, start) }()
	dialLoop(b, ln.Addr().(*net.TCPAddr))
	for served.Load() < int64(b.N) {
		runtimeGosched()
	}
}

// runtimeGosched waits a little for the last connections in flight; a
// sleep, not a spin, so the wait does not count as CPU per connection.
func runtimeGosched() { time.Sleep(100 * time.Microsecond) }

// cpuNow is the process's user+system CPU time in nanoseconds.
func cpuNow() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// reportCPU reports the process's CPU time per connection since start:
// the client, kelpie and the workers all run in it, so the difference
// between the two benchmarks is what round-robin costs per connection.
func reportCPU(b *testing.B, start int64) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRoundRobinPrimaryCPU isolates kelpie's own cost per connection:
// the 2 workers are child processes (HTTP workers on WorkerListener), so
// this process's CPU is the client's plus the primary's. Its cpu-ns/op
// minus BenchmarkClientOnlyCPU's is what round-robin costs kelpie per
// connection (accept, sendmsg, the ACK, close).
func BenchmarkRoundRobinPrimaryCPU(b *testing.B) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	rr, err := NewRoundRobin(ln)
	if err != nil {
		b.Fatal(err)
	}
	defer rr.Close()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var ws []*Worker
	for id := 0; id < 2; id++ {
		cmd := exec.Command(self, "-test.run=^$")
		cmd.Env = childEnv("http")
		w, _ := attachWorker(b, rr, id, cmd, nil)
		ws = append(ws, w)
	}
	for _, w := range ws {
		<-w.Ready()
	}
	b.ResetTimer()
	start := cpuNow()
	dialLoop(b, ln.Addr().(*net.TCPAddr))
	for sum(rr.Counts()) < uint64(b.N) {
		runtimeGosched()
	}
	reportCPU(b, start)
}

// BenchmarkClientOnlyCPU is the same client against 2 child processes on
// an inherited socket (fds mode): this process's CPU is the client's alone.
func BenchmarkClientOnlyCPU(b *testing.B) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		f, err := ln.File()
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(self, "-test.run=^$")
		cmd.Env = append(childEnv("http"), EnvListenFDs+"=1")
		startProc(b, cmd, f)
	}
	b.ResetTimer()
	start := cpuNow()
	dialLoop(b, ln.Addr().(*net.TCPAddr))
	reportCPU(b, start)
}
