package procs

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A descriptor kelpie was started with (no close-on-exec) reaches no unit.
func TestUnitsInheritNoStrayDescriptors(t *testing.T) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil { // without O_CLOEXEC, as a careless parent leaves it
		t.Fatal(err)
	}
	const stray = 77
	if err := unix.Dup2(p[1], stray); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]); unix.Close(stray) })
	s := newTestSupervisor(t, Options{})
	_ = s.Add(Spec{Name: "fds", Shell: `echo fds: $(ls /proc/$$/fd)`})
	w := watch(t, s)
	_ = s.Start("fds")
	line := w.waitLine(s, "fds", "fds:")
	for _, fd := range strings.Fields(strings.TrimPrefix(line.Text, "fds:")) {
		if fd == "77" {
			t.Fatalf("the unit inherited descriptor %d: %q", stray, line.Text)
		}
	}
	if flags, err := unix.FcntlInt(stray, unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("descriptor %d is not close-on-exec: flags %d, %v", stray, flags, err)
	}
}
