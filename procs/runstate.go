package procs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// runRecord is what a run writes to its state file so that the next run for
// the same config can clean up after it if kelpie and its guard were both
// killed (killall -9 kelpie).
type runRecord struct {
	Tag   string `json:"tag"`
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // kelpie's start time, ticks after boot: tells a reused pid apart
	Boot  string `json:"boot_id"`
	SID   int    `json:"sid"` // the session the units' process groups are in
	// Groups maps each live unit's process group to its leader's start time.
	Groups map[int]uint64 `json:"groups"`
	// Sessions are the groups (of Groups) that lead a session of their own:
	// tty units, whose session's members count too (see groupProof).
	Sessions []int `json:"sessions,omitempty"`
	// Cgroup is the directory holding the units' cgroups, if kelpie made them.
	Cgroup string `json:"cgroup,omitempty"`
}

// bootID identifies this boot: start times mean nothing across a reboot.
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

// stateWriter keeps the state file current without ever blocking the owner
// goroutine: the owner updates the record under a lock, a goroutine writes
// it (to a temporary file renamed over the old one) at most every 100 ms.
type stateWriter struct {
	path string
	mu   sync.Mutex
	rec  runRecord
	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// newStateWriter writes the first record now, so the tag is on disk before
// any unit starts.
func newStateWriter(path string, rec runRecord) (*stateWriter, error) {
	sw := &stateWriter{path: path, rec: rec, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if err := sw.write(); err != nil {
		return nil, err
	}
	sw.wg.Add(1)
	go sw.run()
	return sw, nil
}

func (sw *stateWriter) write() error {
	sw.mu.Lock()
	b, err := json.Marshal(&sw.rec)
	sw.mu.Unlock()
	if err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	tmp := sw.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	if err := os.Rename(tmp, sw.path); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	return nil
}

func (sw *stateWriter) run() {
	defer sw.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-sw.wake:
		case <-sw.done:
			return
		}
		_ = sw.write()
		// Coalesce: a burst of starts costs one write per 100 ms.
		t.Reset(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-sw.done:
			return
		}
	}
}

func (sw *stateWriter) update(f func(r *runRecord)) {
	sw.mu.Lock()
	f(&sw.rec)
	sw.mu.Unlock()
	select {
	case sw.wake <- struct{}{}:
	default:
	}
}

// remove stops the writer and deletes the file: a clean exit leaves nothing to reap.
func (sw *stateWriter) remove() {
	close(sw.done)
	sw.wg.Wait()
	_ = os.Remove(sw.path)
}

// ReapLeftovers kills what a previous run left behind, as recorded in its
// state file (Options.StateFile), if that run's kelpie is dead: processes
// carrying its tag, members of its units' process groups (proven its own by
// the leader's start time and the session, never by the number alone), and
// processes in its cgroups. It returns how many it killed and removes the
// file. No file, or a file from before the last boot, is not an error: 0.
// It refuses (with an error) while the kelpie that wrote the file still runs.
func ReapLeftovers(stateFile string) (int, error) {
	fi, err := os.Lstat(stateFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("previous run's state: %w", err)
	}
	// The path sits beside a socket path the user may have typed: anything
	// that is not a run record kelpie wrote is left alone, and kelpie does
	// not start over it.
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("run state %s is not a regular file; refusing to replace it", stateFile)
	}
	b, err := os.ReadFile(stateFile)
	if err != nil {
		return 0, fmt.Errorf("previous run's state: %w", err)
	}
	var rec runRecord
	if err := json.Unmarshal(b, &rec); err != nil || !validTag(rec.Tag) {
		return 0, fmt.Errorf("run state %s is not a kelpie run record; refusing to replace it (remove it if it is not yours)", stateFile)
	}
	if rec.Boot != bootID() {
		_ = os.Remove(stateFile) // a reboot ended that run and everything it started
		return 0, nil
	}
	if p, ok := readStat(rec.PID); ok && p.start == rec.Start && p.state != 'Z' {
		return 0, fmt.Errorf("the kelpie that wrote %s (pid %d) is still running", stateFile, rec.PID)
	}
	groups := make(map[int]groupProof, len(rec.Groups))
	for pgid, start := range rec.Groups {
		if pgid > 1 {
			groups[pgid] = groupProof{start: start, sid: rec.SID}
		}
	}
	for _, pgid := range rec.Sessions {
		if g, ok := groups[pgid]; ok {
			groups[pgid] = groupProof{start: g.start, sid: pgid, session: true}
		}
	}
	hit := make(map[int]bool)
	if rec.Cgroup != "" {
		killCgroupTree(rec.Cgroup, hit)
	}
	n := killLeftovers(os.Getpid(), []string{rec.Tag + "/"}, groups, hit)
	if err := os.Remove(stateFile); err != nil {
		return n, fmt.Errorf("remove previous run's state: %w", err)
	}
	return n, nil
}

// validTag accepts the tags NewTag makes (and test tags): a non-empty word
// with no "/", so that "<tag>/" can never match another run's processes.
func validTag(tag string) bool {
	return tag != "" && len(tag) <= 64 && !strings.ContainsAny(tag, "/\x00 \n")
}

// StateFileFor is the state file that goes with a control socket path: next
// to its lock, in kelpie's private runtime directory.
func StateFileFor(socketPath string) string {
	return filepath.Join(filepath.Dir(socketPath), filepath.Base(socketPath)+".run")
}
