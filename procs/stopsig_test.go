package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// countStopsPy blocks a realtime signal and counts how many instances of it
// arrive: realtime signals queue, one per kill, where a second SIGTERM sent
// before the first is handled would merge with it and hide the double.
const countStopsPy = `import signal
sig = 40
signal.pthread_sigmask(signal.SIG_BLOCK, {sig})
print("ready", flush=True)
signal.sigwaitinfo({sig})
n = 1
while signal.sigtimedwait({sig}, 0.3) is not None:
    n += 1
print("stop signals: %d" % n, flush=True)
`

// A stop signal reaches each process of a run once: the cgroup pass (and
// the session's) skips the process group that kill(-pgid) reached already
// (programs that force-quit on a second SIGTERM or SIGINT would skip their
// clean shutdown). On pipes and on a tty.
func TestStopSignalDeliveredOnce(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to count the signals")
	}
	script := filepath.Join(t.TempDir(), "count.py")
	if err := os.WriteFile(script, []byte(countStopsPy), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTestSupervisor(t, Options{})
	if c := s.Cleanup(); !strings.HasPrefix(c, "cgroup ") {
		t.Skip("no writable cgroup v2 tree here, so no second pass to test: " + c)
	}
	w := watch(t, s)
	for _, tty := range []bool{false, true} {
		name := "pipe"
		if tty {
			name = "tty"
		}
		sp := Spec{Name: name, Shell: "exec " + py + " " + script, TTY: tty, Restart: RestartNever,
			StopSignal: syscall.Signal(40), StopTimeout: 20 * time.Second}
		if err := s.Add(sp); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(name); err != nil {
			t.Fatal(err)
		}
		w.waitLine(s, name, "ready")
		if d, _ := s.Details(name); !strings.Contains(d.Cleanup, "cgroup ") {
			t.Fatalf("%s: not in a cgroup: %q", name, d.Cleanup)
		}
		if err := s.Stop(name); err != nil {
			t.Fatal(err)
		}
		l := w.waitLine(s, name, "stop signals: ")
		if l.Text != "stop signals: 1" {
			t.Fatalf("%s: the child says %q, want one stop signal", name, l.Text)
		}
		w.state(name, Stopped)
	}
}
