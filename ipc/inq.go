package ipc

import (
	"syscall"
	"unsafe"
)

// inq returns the bytes waiting in a socket's receive queue (FIONREAD):
// a cheap, allocation-free, non-consuming readiness probe for spinning.
func inq(fd int) (int, error) {
	var n int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
