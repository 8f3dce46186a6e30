package procs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIngest measures what kelpie spends per 64 KiB read of 100-byte
// lines: splitting, the sanitise check, and storing in the ring.
func BenchmarkIngest(b *testing.B) {
	chunk := []byte(strings.Repeat(strings.Repeat("y", 99)+"\n", 655))
	r := newRing(DefaultLogBuffer)
	p := newPump(r, Stdout, DefaultMaxLine, func(uint64) {})
	now := time.Now()
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		p.feed(chunk, now, false)
	}
}

// BenchmarkSample measures one sampler tick (one /proc scan) with no units.
func BenchmarkSample(b *testing.B) {
	sm := newSampler()
	b.ReportAllocs()
	for b.Loop() {
		sm.measure(nil, time.Now())
	}
}

// BenchmarkRestartAfterKill measures kill -9 of a unit's process to its next
// run being up, with the guard and state file kelpie runs with (and a cgroup
// per run where the tree is writable).
func BenchmarkRestartAfterKill(b *testing.B) {
	self, _ := os.Executable()
	tag := NewTag()
	opts := Options{Tick: -1, Tag: tag, Guard: []string{self, guardTestArg, tag},
		StateFile: filepath.Join(b.TempDir(), "k.run"), NoCgroup: os.Getenv("NOCG") != ""}
	if os.Getenv("BARE") != "" {
		opts.Guard, opts.StateFile = nil, ""
	}
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	spec := Spec{Name: "svc", Argv: []string{"sleep", "600"}, Restart: RestartAlways, MinUptime: time.Nanosecond}
	_ = s.Add(spec)
	_, sub := s.Subscribe()
	defer sub.Close()
	_ = s.Start("svc")
	ctx := context.Background()
	running := func(old int) int {
		for {
			bt, err := sub.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, in := range bt.States {
				if in.State == Running && in.PID != old {
					return in.PID
				}
			}
		}
	}
	pid := running(0)
	b.Log(s.Cleanup())
	b.ResetTimer()
	for range b.N {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		pid = running(pid)
	}
}
