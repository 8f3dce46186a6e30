//go:build !amd64

package procs

// plainBlock16 reports whether b (a multiple of 16 bytes long) holds only
// printable ASCII, tabs and newlines.
func plainBlock16(b []byte) bool { return plainBlockSWAR(b) }
