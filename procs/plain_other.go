//go:build !amd64

package procs

// plainBlock16 reports whether b (a multiple of 16 bytes long) holds only
// printable ASCII, tabs and newlines.
func plainBlock16(b []byte) bool { return plainBlockSWAR(b) }

// plainLines is plainBlock; it marks no line ends (see the amd64 version).
func plainLines(b []byte, nl []uint64) (bool, []uint64) { return plainBlock(b), nil }
