package procs

import "golang.org/x/sys/cpu"

// hasAVX2 is read once, at start: whether plainBlock16 may take the AVX2
// path.
var hasAVX2 = cpu.X86.HasAVX2

// plainBlock16 reports whether b (a multiple of 16 bytes long) holds only
// printable ASCII, tabs and newlines. The check runs over every byte a
// child prints: with AVX2, 64 bytes a turn (a flood's reading thread spent
// a tenth of its time in the SSE2 version); else SSE2, which every amd64
// has, sixteen bytes a turn (plain_amd64.s).
func plainBlock16(b []byte) bool {
	if hasAVX2 {
		return plainBlockAVX2(b)
	}
	return plainBlockSSE2(b)
}

//go:noescape
func plainBlockSSE2(b []byte) bool

//go:noescape
func plainBlockAVX2(b []byte) bool
