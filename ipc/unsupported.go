//go:build !linux

package ipc

// kelpie is Linux-only: it relies on process groups, subreapers, /proc and
// Linux socket options. Building elsewhere stops here with this name in
// the error rather than with undefined syscall names.
var _ = kelpie_only_builds_on_linux
