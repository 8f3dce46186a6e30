package procs

import (
	"context"
	"testing"
	"time"
)

// pacedSub returns a broker on clk with one subscription that has just been
// handed a batch, so that the next log-only batch is paced.
func pacedSub(t *testing.T, clk *fakeClock) (*broker, *Subscription) {
	t.Helper()
	b := newBroker()
	b.clock = clk
	sub := b.subscribe()
	t.Cleanup(sub.Close)
	b.logs("a", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if bt, err := sub.Next(ctx); err != nil || bt.Logs["a"] != 1 {
		t.Fatalf("first batch: %+v, %v", bt, err)
	}
	return b, sub
}

type nextResult struct {
	b   Batch
	err error
}

// nextAsync runs Next on its own goroutine and awaits its pace timer being
// armed (the clock is never advanced, so only an event can end the wait).
func nextAsync(t *testing.T, clk *fakeClock, sub *Subscription) <-chan nextResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	out := make(chan nextResult, 1)
	go func() {
		bt, err := sub.Next(ctx)
		out <- nextResult{bt, err}
	}()
	select {
	case d := <-clk.added:
		if d <= 0 || d > logPace {
			t.Fatalf("pace timer of %v, want (0, %v]", d, logPace)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next never armed its pace timer for a log-only batch")
	}
	return out
}

// A state change that arrives while Next is holding back a log-only batch
// is handed out at once, with the logs, not when the pace timer fires. The
// fake clock never fires it: a Next that waited on the timer alone would
// block until the test's deadline.
func TestBrokerStateNotHeldByLogPacing(t *testing.T) {
	clk := newFakeClock()
	b, sub := pacedSub(t, clk)
	b.logs("a", 2)
	got := nextAsync(t, clk, sub)
	b.state(Info{Name: "a", State: Running})
	r := <-got
	if r.err != nil {
		t.Fatalf("Next: %v (the state change was held back by log pacing)", r.err)
	}
	if len(r.b.States) != 1 || r.b.States[0].Name != "a" || r.b.Logs["a"] != 2 {
		t.Fatalf("batch %+v, want the state and the pending log", r.b)
	}
}

// Log announcements alone stay paced: one arriving during the wait does
// not wake the reader (the flood stays cheap); the pace timer hands them
// out together.
func TestBrokerLogsStayPaced(t *testing.T) {
	clk := newFakeClock()
	b, sub := pacedSub(t, clk)
	b.logs("a", 2)
	got := nextAsync(t, clk, sub)
	b.logs("a", 3)
	b.logs("b", 7)
	if len(sub.wake) != 0 {
		t.Fatal("a log announcement woke a pacing reader")
	}
	clk.Advance(logPace)
	r := <-got
	if r.err != nil || len(r.b.States) != 0 || r.b.Logs["a"] != 3 || r.b.Logs["b"] != 7 {
		t.Fatalf("batch %+v, %v; want logs a=3 b=7 once the pace passed", r.b, r.err)
	}
}

// BenchmarkBrokerLogFlood is one log announcement published to a subscriber
// that reads batches as fast as they are handed out (paced): the cost a
// flooding child's lines put on the broker. batches/s is the reader's
// wake-up rate.
func BenchmarkBrokerLogFlood(b *testing.B) {
	br := newBroker()
	sub := br.subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n := 0
		for {
			if _, err := sub.Next(ctx); err != nil {
				done <- n
				return
			}
			n++
		}
	}()
	b.ReportAllocs()
	t0 := time.Now()
	var i uint64
	for b.Loop() {
		i++
		br.logs("a", i)
	}
	el := time.Since(t0)
	cancel()
	n := <-done
	sub.Close()
	b.ReportMetric(float64(n)/el.Seconds(), "batches/s")
}

// With nobody subscribed a log announcement is skipped; a subscriber hears
// those made after it subscribed, and the count follows Close.
func TestBrokerLogsCountSubscribers(t *testing.T) {
	b := newBroker()
	b.logs("a", 1)
	sub := b.subscribe()
	b.logs("a", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if bt, err := sub.Next(ctx); err != nil || bt.Logs["a"] != 2 {
		t.Fatalf("batch %+v, %v; want a=2", bt, err)
	}
	other := b.subscribe()
	sub.Close()
	if n := b.nsubs.Load(); n != 1 {
		t.Fatalf("%d subscribers counted, want 1", n)
	}
	b.logs("a", 3)
	if bt, err := other.Next(ctx); err != nil || bt.Logs["a"] != 3 {
		t.Fatalf("batch %+v, %v; want a=3", bt, err)
	}
	b.shutdown()
	if n := b.nsubs.Load(); n != 0 {
		t.Fatalf("%d subscribers counted after shutdown", n)
	}
}
