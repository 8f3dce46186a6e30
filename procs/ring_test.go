package procs

import (
	"testing"
	"time"
)

// A unit that logs one line costs a small chunk, not a full-size one: a
// thousand quiet units once looked like 150 MB of live heap to the GC. The
// chunk grows as lines come, and never past chunkSize.
func TestRingChunksStartSmall(t *testing.T) {
	r := newRing(1 << 20)
	r.Append(time.Now(), Stdout, []byte("started"))
	if c := cap(r.chunks[0].data); c > firstChunk {
		t.Fatalf("a one-line ring holds a %d-byte chunk", c)
	}
	line := make([]byte, 1000)
	for range 2000 {
		r.Append(time.Now(), Stdout, line)
	}
	for i, c := range r.chunks {
		if cap(c.data) > r.chunkSize {
			t.Fatalf("chunk %d grew to %d bytes, past chunkSize %d", i, cap(c.data), r.chunkSize)
		}
	}
	if got := r.Tail(3); len(got) != 3 || len(got[2].Text) != 1000 {
		t.Fatalf("tail after growing: %d lines", len(got))
	}
}
