package procs

import (
	"strings"
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
