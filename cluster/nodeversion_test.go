package cluster

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A supervisor in the same process reaps every child; the version check
// must still read the version of a node it reaped first.
func TestCheckNodeVersionWithAReaper(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho v20.1.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // what procs' reaper does, as eagerly as it can
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		}
	}()
	defer func() { close(stop); <-done }()
	for range 20 {
		v, err := CheckNodeVersion(t.Context(), fake)
		if err != nil || v != "v20.1.0" {
			t.Fatalf("CheckNodeVersion = %q, %v", v, err)
		}
	}
}
