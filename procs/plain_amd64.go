package procs

// plainBlock16 reports whether b (a multiple of 16 bytes long) holds only
// printable ASCII, tabs and newlines. SSE2, which every amd64 has: sixteen
// bytes a turn, several times the portable version's speed, and the check
// runs over every byte a child prints (plain_amd64.s).
//
//go:noescape
func plainBlock16(b []byte) bool
