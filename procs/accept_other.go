//go:build !386

package procs

import "golang.org/x/sys/unix"

// acceptFD reports whether syscall nr (a task's /proc syscall line, its
// first argument arg) is accept(2) or accept4(2), and on which fd.
func acceptFD(nr int, arg string) (int, bool) {
	if nr != unix.SYS_ACCEPT && nr != unix.SYS_ACCEPT4 {
		return 0, false
	}
	return syscallArg(arg)
}
