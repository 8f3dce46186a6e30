package procs

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// noInherit marks every descriptor above stderr close-on-exec. Whatever
// started kelpie may have left descriptors open without that flag (a shell's
// `exec 7>file`, a test harness's pipe); without this they would pass,
// through kelpie, to every unit and to the guard, and a pipe held open by a
// long-lived process keeps its reader waiting for an end that never comes.
// Descriptors kelpie opens itself are close-on-exec already, and what a
// child is meant to get is passed to it explicitly.
func noInherit() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	// Kernels before 5.11: one fcntl per open descriptor.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list inherited descriptors: %w", err)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		}
	}
	return nil
}
