package procs

import (
	"slices"

	"golang.org/x/sys/cpu"
)

// hasAVX2 is read once, at start: whether plainLines takes the AVX2 pass.
var hasAVX2 = cpu.X86.HasAVX2

// plainBlock16 reports whether b (a multiple of 16 bytes long) holds only
// printable ASCII, tabs and newlines. SSE2, which every amd64 has: sixteen
// bytes a turn (plain_amd64.s). A CPU with AVX2 takes plainLinesAVX2
// instead (plainLines).
//
//go:noescape
func plainBlock16(b []byte) bool

// plainLines is plainBlock for a read, which, when b is plain and the CPU
// has AVX2, also marks where its lines end: nl (reused) gets a bit for each
// byte of b that is a newline, bit i%64 of word i/64, found in the same pass.
// A flood's lines are then found from the bits (Fit.LineEnd) rather than by
// an IndexByte a line, a tenth of the reading thread's time. Without AVX2
// nl is nil, and LineEnd looks. Where b is not plain, nl is returned for
// reuse only.
func plainLines(b []byte, nl []uint64) (bool, []uint64) {
	if !hasAVX2 {
		return plainBlock(b), nil
	}
	words := (len(b) + 63) / 64
	nl = slices.Grow(nl[:0], words)[:words]
	n := len(b) &^ 63
	if !plainLinesAVX2(b[:n], nl) {
		return false, nl
	}
	if n < len(b) {
		var m uint64
		for i, c := range b[n:] {
			if c >= 0x7f || c < 0x20 && c != '\t' && c != '\n' {
				return false, nl
			}
			if c == '\n' {
				m |= 1 << i
			}
		}
		nl[n/64] = m
	}
	return true, nl
}

//go:noescape
func plainLinesAVX2(b []byte, nl []uint64) bool
