package procs

import (
	"slices"
	"strings"
	"testing"
)

// The SSE2 check follows the rule for every byte value at every position
// of blocks of every length up to 192 bytes (the AVX2 pass:
// TestPlainLinesAssembly).
func TestPlainBlockAssembly(t *testing.T) {
	impls := map[string]func([]byte) bool{"sse2": plainBlock16}
	base := []byte(strings.Repeat("GET /x 200\tok\n", 14)) // 196 bytes
	for name, f := range impls {
		for n := 16; n <= 192; n += 16 {
			if !f(base[:n]) {
				t.Fatalf("%s of %d plain bytes: false", name, n)
			}
			for pos := range n {
				for c := range 256 {
					b := slices.Clone(base[:n])
					b[pos] = byte(c)
					if got, want := f(b), plainBlockRef(b); got != want {
						t.Fatalf("%s with %#x at %d of %d: %v, want %v", name, c, pos, n, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkPlainBlock is the plain check of one 256 KiB read (readSize) of
// 100-byte lines: SSE2, and the AVX2 pass that marks the newlines too.
func BenchmarkPlainBlock(b *testing.B) {
	buf := []byte(strings.Repeat(strings.Repeat("y", 99)+"\n", readSize/100))
	buf = buf[:len(buf)&^63]
	nl := make([]uint64, len(buf)/64)
	impls := []struct {
		name string
		f    func([]byte) bool
	}{{"sse2", plainBlock16}, {"avx2-lines", func(b []byte) bool { return plainLinesAVX2(b, nl) }}}
	for _, im := range impls {
		if im.name == "avx2-lines" && !hasAVX2 {
			continue
		}
		b.Run(im.name, func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if !im.f(buf) {
					b.Fatal("not plain")
				}
			}
		})
	}
}

// plainLinesAVX2 follows the rule for blocks of 64 to 192 bytes with any
// byte anywhere, and, for a plain block, marks exactly its newlines.
func TestPlainLinesAssembly(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2")
	}
	base := []byte(strings.Repeat("GET /x 200\tok\n", 14))
	for n := 64; n <= 192; n += 64 {
		for pos := range n {
			for c := range 256 {
				b := slices.Clone(base[:n])
				b[pos] = byte(c)
				nl := make([]uint64, n/64)
				got, want := plainLinesAVX2(b, nl), plainBlockRef(b)
				if got != want {
					t.Fatalf("with %#x at %d of %d: %v, want %v", c, pos, n, got, want)
				}
				if !got {
					continue
				}
				for i, x := range b {
					if bit := nl[i/64]>>(i%64)&1 == 1; bit != (x == '\n') {
						t.Fatalf("with %#x at %d of %d: byte %d (%#x) marked %v", c, pos, n, i, x, bit)
					}
				}
			}
		}
	}
}
