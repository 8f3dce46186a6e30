package procs

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkWorkerRoundTrip is one message to a worker and its answer, as a
// front end sees it: Send (checked, recorded as ipc-out, into the worker's
// inbox), the worker's reply (recorded as ipc-in), seen in the message
// store. It reports the median and 99th percentile round trip.
func BenchmarkWorkerRoundTrip(b *testing.B) {
	s, err := New(Options{Tick: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
	echo := func(ctx context.Context, w Worker) error {
		for {
			m, err := w.Recv(ctx)
			if err != nil {
				return nil
			}
			_ = w.SendRaw(m)
		}
	}
	if err := s.Add(Spec{Name: "echo", Task: echo}); err != nil {
		b.Fatal(err)
	}
	if err := s.Start("echo"); err != nil {
		b.Fatal(err)
	}
	ms := s.msgStore("echo")
	msg := []byte(`{"hello":"world","n":1}`)
	rt := make([]time.Duration, 0, b.N)
	for i := 0; i < 1000; i++ { // warm-up
		want := ms.last() + 2
		_ = s.Send("echo", msg)
		for ms.last() < want {
			runtime.Gosched()
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := ms.last() + 2
		t0 := time.Now()
		if err := s.Send("echo", msg); err != nil {
			b.Fatal(err)
		}
		for ms.last() < want {
			runtime.Gosched()
		}
		rt = append(rt, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(rt)
	b.ReportMetric(float64(rt[len(rt)/2].Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(rt[len(rt)*99/100].Nanoseconds())/1e3, "p99-us")
}
