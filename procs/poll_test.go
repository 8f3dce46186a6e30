package procs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threads counts this process's OS threads.
func threads(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// fdsOn counts this process's descriptors open on the given pipe inode.
func fdsOn(t *testing.T, link string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == link {
			n++
		}
	}
	return n
}

// newTestReaders starts a reader pool that is closed with the test.
func newTestReaders(t *testing.T, n int) *readers {
	t.Helper()
	rd, err := newReaders(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.close(0) })
	return rd
}

// stdoutTexts returns the texts of the ring's stdout lines, oldest first.
func stdoutTexts(r *ring) []string {
	var out []string
	for _, l := range r.Tail(1 << 20) {
		if l.Stream == Stdout {
			out = append(out, l.Text)
		}
	}
	return out
}

// Lines that straddle reads (the payload exceeds one read, and line lengths
// vary so read boundaries fall mid-line) arrive whole and in order, two pipes
// sharing one reader thread do not mix, and EOF stores the unfinished last
// line.
func TestReadersKeepLinesWholeAndInOrderAcrossReads(t *testing.T) {
	rd := newTestReaders(t, 1)
	var want [2][]string
	var rings [2]*ring
	var ws [2]*os.File
	for i := range 2 {
		rings[i] = newRing(8 << 20)
		r, w, err := newOutputPipe()
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
		if _, err := rd.add(r, newPump(rings[i], Stdout, DefaultMaxLine, nil)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		var b bytes.Buffer
		for n := 0; b.Len() < 3*readSize; n++ {
			line := fmt.Sprintf("p%d line %06d %s", i, n, strings.Repeat("z", n%997))
			want[i] = append(want[i], line)
			b.WriteString(line + "\n")
		}
		want[i] = append(want[i], fmt.Sprintf("p%d unfinished", i))
		b.WriteString(want[i][len(want[i])-1])
		// Written in uneven pieces, from both writers in turn.
		data := b.Bytes()
		go func(w *os.File) {
			for len(data) > 0 {
				k := min(len(data), 70001)
				if _, err := w.Write(data[:k]); err != nil {
					return
				}
				data = data[k:]
			}
			w.Close()
		}(ws[i])
	}
	for i := range 2 {
		waitFor(t, "every line arrived", func() bool { return len(stdoutTexts(rings[i])) >= len(want[i]) })
		got := stdoutTexts(rings[i])
		if len(got) != len(want[i]) {
			t.Fatalf("pipe %d: %d lines, want %d", i, len(got), len(want[i]))
		}
		for k := range got {
			if got[k] != want[i][k] {
				t.Fatalf("pipe %d line %d: %.40q, want %.40q", i, k, got[k], want[i][k])
			}
		}
	}
	waitFor(t, "both pipes closed at EOF", func() bool { return rd.open() == 0 })
}

// A released pipe whose write end someone still holds is read for its grace
// period, then its unfinished line is stored and the pipe is closed.
func TestReleasedPipeIsClosedThoughItsWriterLives(t *testing.T) {
	rd := newTestReaders(t, 1)
	rg := newRing(1 << 20)
	r, w, err := newOutputPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var st unix.Stat_t
	if err := unix.Fstat(r, &st); err != nil {
		t.Fatal(err)
	}
	link := fmt.Sprintf("pipe:[%d]", st.Ino)
	op, err := rd.add(r, newPump(rg, Stdout, DefaultMaxLine, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Two writes, the second after the first was read: whether the pipe is
	// then polled after a pause or back in epoll, it is read.
	if _, err := w.WriteString("first\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first line is read", func() bool { return len(stdoutTexts(rg)) == 1 })
	if _, err := w.WriteString("done\nhalf a line"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second line is read", func() bool { return len(stdoutTexts(rg)) == 2 })
	if n := fdsOn(t, link); n != 2 {
		t.Fatalf("%d descriptors on the pipe before release, want 2 (both ends)", n)
	}
	rd.release(50*time.Millisecond, op)
	waitFor(t, "the released pipe is closed", func() bool { return rd.open() == 0 })
	if n := fdsOn(t, link); n != 1 {
		t.Fatalf("%d descriptors on the pipe after release, want 1 (the write end we hold)", n)
	}
	if got := stdoutTexts(rg); len(got) != 3 || got[2] != "half a line" {
		t.Fatalf("lines %q: the unfinished line should be stored on release", got)
	}
	// The writer now gets EPIPE rather than blocking on a pipe nobody reads.
	if _, err := w.WriteString("more\n"); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write after release: %v, want EPIPE", err)
	}
}

// Units share a fixed set of reader threads: starting 300 does not add a
// thread per pipe (it used to add two per unit), and stopping them closes
// every pipe.
func TestThreadsDoNotGrowWithUnits(t *testing.T) {
	const n = 300
	s := newTestSupervisor(t, Options{})
	for i := range n {
		if err := s.Add(Spec{Name: "u" + strconv.Itoa(i), Argv: []string{"/bin/sleep", "3600"}}); err != nil {
			t.Fatal(err)
		}
	}
	before := threads(t)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		w.state("u"+strconv.Itoa(i), Running)
	}
	if got := s.readers.open(); got != 2*n {
		t.Fatalf("%d pipes open, want %d", got, 2*n)
	}
	// The margin absorbs the Go runtime's own threads coming and going.
	if after := threads(t); after > before+16 {
		t.Fatalf("threads: %d before starting %d units, %d after", before, n, after)
	}
	for i := range n {
		if err := s.Stop("u" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		w.state("u"+strconv.Itoa(i), Stopped)
	}
	waitFor(t, "every pipe is closed", func() bool { return s.readers.open() == 0 })
}

// A run whose escaped grandchild (own session, no tag: nothing kills it)
// keeps stdout and stderr open gives its descriptors back after the grace
// period, and costs no thread.
func TestEscapedGrandchildDoesNotKeepPipes(t *testing.T) {
	// Without cgroups: a unit's cgroup would catch the escapee at run end,
	// and this test is about the pipes of one nothing can catch.
	s := newTestSupervisor(t, Options{NoCgroup: true})
	_ = s.call(func() { s.pipeGrace = 100 * time.Millisecond })
	// The shell reports the escapee once it is sleep itself, its tag
	// dropped by env -i, so the sweep after the run cannot find it. (Only
	// grep's exit status said so before: reading environ while setsid or
	// env exec'd could fail, grep said 2, the tagged process was reported
	// and the sweep killed it.)
	_ = s.Add(Spec{Name: "esc", Shell: `setsid env -i /bin/sleep 3600 & p=$!
until [ "$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)" = "/bin/sleep 3600 " ] && ! grep -q KELPIE_TAG /proc/$p/environ; do sleep 0.01; done; echo escaped $p`})
	w := watch(t, s)
	before := threads(t)
	_ = s.Start("esc")
	line := w.waitLine(s, "esc", "escaped ")
	pid, err := strconv.Atoi(strings.TrimPrefix(line.Text, "escaped "))
	if err != nil {
		t.Fatalf("line %q: %v", line.Text, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	w.state("esc", Exited)
	var links []string
	for _, fd := range []string{"1", "2"} {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd)
		if err != nil || !strings.HasPrefix(l, "pipe:") {
			t.Fatalf("the escapee's fd %s: %q %v", fd, l, err)
		}
		links = append(links, l)
	}
	if !alive(pid) {
		t.Fatal("the escapee should outlive its run (this test needs a writer that stays)")
	}
	waitFor(t, "kelpie's ends of the escapee's pipes are closed", func() bool {
		return fdsOn(t, links[0])+fdsOn(t, links[1]) == 0 && s.readers.open() == 0
	})
	if after := threads(t); after > before+4 {
		t.Fatalf("threads: %d before, %d after", before, after)
	}
}

// EOF when a unit exits stores its unfinished last line, after the others.
func TestExitFlushesUnfinishedLine(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(Spec{Name: "p", Shell: `printf 'first\nsecond\nno newline'`})
	w := watch(t, s)
	_ = s.Start("p")
	w.state("p", Exited)
	w.waitLine(s, "p", "no newline")
	if got := stdoutTexts(s.ring("p")); strings.Join(got, "|") != "first|second|no newline" {
		t.Fatalf("lines %q", got)
	}
}
