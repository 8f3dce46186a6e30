package procs

import "golang.org/x/sys/unix"

// socketcall(2)'s numbers for accept and accept4.
const (
	socketAccept  = 5
	socketAccept4 = 18
)

// acceptFD reports whether syscall nr (a task's /proc syscall line, its
// first argument arg) is an accept, and on which fd. On 386 most accepts go
// through socketcall(2), whose arguments are in memory /proc does not show:
// such an accept is on some fd (-1).
func acceptFD(nr int, arg string) (int, bool) {
	switch nr {
	case unix.SYS_ACCEPT4:
		return syscallArg(arg)
	case unix.SYS_SOCKETCALL:
		if call, ok := syscallArg(arg); ok && (call == socketAccept || call == socketAccept4) {
			return -1, true
		}
	}
	return 0, false
}
