package logfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

func newSup(t *testing.T) *procs.Supervisor {
	t.Helper()
	sup, err := procs.New(procs.Options{Tick: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Shutdown(context.Background()) })
	return sup
}

func add(t *testing.T, sup *procs.Supervisor, spec procs.Spec) {
	t.Helper()
	if err := sup.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(spec.Name); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileHas(path, s string) func() bool {
	return func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), s)
	}
}

// Every unit's output and events land in its own file as they arrive, one
// line per line (time, stream, text without colour), a group member's in
// the group's directory, a unit added later's too.
func TestWriterKeepsEveryUnitsLines(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	w, err := Start(sup, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	add(t, sup, procs.Spec{Name: "web", Shell: `printf '\033[31mred\033[0m line\n'; echo oops >&2; exec sleep 600`})
	add(t, sup, procs.Spec{Name: "grp/0", Group: "grp", Shell: "echo member; exec sleep 600"})
	web := filepath.Join(dir, "web.log")
	waitFor(t, "web's lines on disk", fileHas(web, " stderr oops\n"))
	waitFor(t, "the member's line on disk", fileHas(filepath.Join(dir, "grp", "0.log"), " stdout member\n"))
	b, _ := os.ReadFile(web)
	var sawRed, sawEvent bool
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		ts, rest, _ := strings.Cut(line, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.Contains(ts, ".") {
			t.Errorf("line %q: time %q is not RFC 3339 with milliseconds", line, ts)
		}
		sawRed = sawRed || rest == "stdout red line"
		sawEvent = sawEvent || strings.HasPrefix(rest, "event started")
		if strings.ContainsRune(line, 0x1b) {
			t.Errorf("colour codes on disk: %q", line)
		}
	}
	if !sawRed || !sawEvent {
		t.Errorf("web.log lacks the plain line or the start event:\n%s", b)
	}
	if err := sup.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(); err != nil {
		t.Fatal(err)
	}
	// The shutdown's own events are there once Wait returns.
	if !fileHas(web, " event stopping")() && !fileHas(web, " event stopped")() && !fileHas(web, " event exited")() {
		b, _ := os.ReadFile(web)
		t.Errorf("the shutdown's events are not on disk after Wait:\n%s", b)
	}
	lines, err := Read(dir, "web", -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 3 || lines[len(lines)-1].Stream != procs.Event {
		t.Errorf("Read: %+v", lines)
	}
}

// A file grows to MaxSize, then moves to NAME.log.1 (and .1 to .2 ...);
// only MaxFiles rotated files are kept, and Read reads back across them.
func TestRotationKeepsMaxFiles(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	w, err := Start(sup, Options{Dir: dir, MaxSize: 2000, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	add(t, sup, procs.Spec{Name: "n", Shell: "seq 1 400; exec sleep 600", Restart: procs.RestartNever})
	path := filepath.Join(dir, "n.log")
	waitFor(t, "the last line on disk", fileHas(path, " stdout 400\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 2000 {
			t.Errorf("%s is %d bytes, over MaxSize", p, st.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("a third rotated file was kept: %v", err)
	}
	lines, err := Read(dir, "n", 60)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		if l.Stream == procs.Stdout {
			out = append(out, l.Text)
		}
	}
	// 60 lines back, across a rotation: the newest output lines, in order,
	// none missing (the start event may sit among them).
	if len(out) < 58 || out[len(out)-1] != "400" {
		t.Fatalf("Read 60 across rotation: %q", out)
	}
	for i := 1; i < len(out); i++ {
		if out[i-1] == "" || out[i] == "" || atoi(out[i]) != atoi(out[i-1])+1 {
			t.Fatalf("not consecutive at %d: %q", i, out)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Lines the ring dropped before the writer read them are not silently
// missing: the file says how many were lost where they were.
func TestLostLinesAreSaid(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	add(t, sup, procs.Spec{Name: "flood", Shell: "seq 1 5000; exec sleep 600", LogBuffer: 4096})
	waitFor(t, "the flood's last line in the ring", func() bool {
		l, _ := sup.Tail("flood", 1)
		return len(l) == 1 && l[0].Text == "5000"
	})
	w, err := Start(sup, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	path := filepath.Join(dir, "flood.log")
	waitFor(t, "the last line on disk", fileHas(path, " stdout 5000\n"))
	b, _ := os.ReadFile(path)
	first, _, _ := strings.Cut(string(b), "\n")
	if !strings.Contains(first, " event kelpie: ") || !strings.Contains(first, " lines lost here") {
		t.Errorf("first line %q does not say lines were lost", first)
	}
}

// No unit name reaches outside the directory or makes a hidden file, and a
// symlink planted where a log goes is refused, not written through.
func TestPathsStayInsideAndSymlinksAreRefused(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]string{
		"web":        "web.log",
		"grp/3":      "grp/3.log",
		"../../etc":  "%2E./%2E./etc.log",
		".hidden":    "%2Ehidden.log",
		"a b\x1b[2J": "a%20b%1B%5B2J.log",
	} {
		got, err := Path(dir, name)
		if err != nil || got != filepath.Join(dir, want) {
			t.Errorf("Path(%q) = %q, %v; want %q", name, got, err, want)
		}
	}

	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "web.log")); err != nil {
		t.Fatal(err)
	}
	sup := newSup(t)
	var mu sync.Mutex
	var errs []error
	w, err := Start(sup, Options{Dir: dir, OnError: func(unit string, err error) {
		mu.Lock()
		errs = append(errs, fmt.Errorf("%s: %w", unit, err))
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	add(t, sup, procs.Spec{Name: "web", Shell: "echo secret; exec sleep 600"})
	add(t, sup, procs.Spec{Name: "ok", Shell: "echo fine; exec sleep 600"})
	waitFor(t, "the other unit's file", fileHas(filepath.Join(dir, "ok.log"), " stdout fine\n"))
	waitFor(t, "the refusal reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(errs) > 0 })
	_ = w.Close()
	if b, _ := os.ReadFile(outside); string(b) != "keep\n" {
		t.Errorf("written through a symlink: %q", b)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "web: ") || !strings.Contains(errs[0].Error(), "web.log") {
		t.Errorf("errors: %v (want one, naming web.log)", errs)
	}
}

// A log file is outside text when read back: whatever someone wrote there
// reaches the terminal only cleaned.
func TestReadCleansWhatItReads(t *testing.T) {
	dir := t.TempDir()
	data := "2026-12-02T03:00:00.000Z stdout hi \x1b]52;c;cHdu\x07there\n" +
		"not a kelpie line \x1b[2J\n" +
		"2026-12-02T03:00:01.000Z event started\n"
	if err := os.WriteFile(filepath.Join(dir, "u.log"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := Read(dir, "u", -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for _, l := range lines {
		if strings.ContainsAny(l.Text, "\x1b\x07") {
			t.Errorf("uncleaned text %q", l.Text)
		}
	}
	if lines[0].Stream != procs.Stdout || lines[2].Stream != procs.Event || lines[2].Text != "started" {
		t.Errorf("parsed: %+v", lines)
	}
	if _, err := Read(dir, "none", 10); !os.IsNotExist(err) && !strings.Contains(err.Error(), "no log") {
		t.Errorf("a unit without a file: %v", err)
	}
}

// openIn counts this process's descriptors open on files under dir.
func openIn(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if p, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(p, dir+"/") {
			n++
		}
	}
	return n
}

// TestMaxOpenBoundsDescriptors: with more units writing than MaxOpen, at
// most MaxOpen files are open at once (the least recently written closed
// first, reopened to append), and every line of every unit is on disk once,
// in order.
func TestMaxOpenBoundsDescriptors(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	w, err := Start(sup, Options{Dir: dir, MaxOpen: 2})
	if err != nil {
		t.Fatal(err)
	}
	const units, rounds = 5, 30
	for i := range units {
		if err := sup.Add(procs.Spec{Name: fmt.Sprintf("u%d", i), Shell: "true"}); err != nil {
			t.Fatal(err)
		}
	}
	most := 0
	for r := range rounds {
		for i := range units {
			if err := sup.Note(fmt.Sprintf("u%d", i), fmt.Sprintf("line %d", r)); err != nil {
				t.Fatal(err)
			}
		}
		most = max(most, openIn(t, dir))
	}
	last := fmt.Sprintf(" event line %d\n", rounds-1)
	for i := range units {
		waitFor(t, "the last line on disk", fileHas(filepath.Join(dir, fmt.Sprintf("u%d.log", i)), last))
		most = max(most, openIn(t, dir))
	}
	if most > 2 {
		t.Errorf("%d files open at once, want at most 2", most)
	}
	for i := range units {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("u%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			_, rest, _ := strings.Cut(l, " ")
			got = append(got, rest)
		}
		if len(got) != rounds {
			t.Fatalf("u%d: %d lines, want %d: %q", i, len(got), rounds, got)
		}
		for r, l := range got {
			if want := fmt.Sprintf("event line %d", r); l != want {
				t.Fatalf("u%d line %d: %q, want %q", i, r, l, want)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := openIn(t, dir); n != 0 {
		t.Errorf("%d files open after Close", n)
	}
}

// TestRemovedUnitsFileIsClosed: a unit removed (a cluster scaled down)
// has its file closed; a unit of the same name added later appends to it.
func TestRemovedUnitsFileIsClosed(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	if _, err := Start(sup, Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	spec := procs.Spec{Name: "grp/1", Group: "grp", Shell: "true"}
	if err := sup.Add(procs.Spec{Name: "keep", Shell: "true"}); err != nil {
		t.Fatal(err)
	}
	if err := sup.Add(spec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "grp", "1.log")
	for _, name := range []string{"keep", "grp/1"} {
		if err := sup.Note(name, "first"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the line on disk", fileHas(path, " event first\n"))
	waitFor(t, "both files open", func() bool { return openIn(t, dir) == 2 })
	if err := sup.Remove("grp/1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed unit's file closed", func() bool { return openIn(t, dir) == 1 })
	if err := sup.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := sup.Note("grp/1", "second"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new unit's line appended", fileHas(path, " event second\n"))
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), " event first\n") || strings.Index(string(b), "first") > strings.Index(string(b), "second") {
		t.Fatalf("file after the name came back:\n%s", b)
	}
}

// TestScaledDownMembersFileEndsWithItsLastLine: a member removed by a
// scale-down has its file closed only after its last lines ("stopped",
// written just before the removal) are in it, each time.
func TestScaledDownMembersFileEndsWithItsLastLine(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	if _, err := Start(sup, Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := sup.AddGroup(procs.Spec{Name: "grp", Shell: "echo up; exec sleep 100"}, 2); err != nil {
		t.Fatal(err)
	}
	if err := sup.StartAll(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "grp", "1.log")
	for round := 1; round <= 5; round++ {
		waitFor(t, "the member up", func() bool {
			b, _ := os.ReadFile(path)
			return strings.Count(string(b), " up\n") == round
		})
		if err := sup.Scale("grp", 1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the member's file closed", func() bool { return openIn(t, dir) == 1 })
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(b), " event stopped\n") {
			t.Fatalf("round %d: grp/1.log does not end with its last line:\n%s", round, b)
		}
		if err := sup.Scale("grp", 2); err != nil {
			t.Fatal(err)
		}
	}
}

// A unit that writes far faster than its lines are written loses nothing on
// disk: past the backlog (here 16 KiB, a few hundred lines) its pipe is not
// read until the writer catches up, as under `| cat > file`.
func TestFloodReachesTheFileWhole(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	// A busy machine may take a while over a write: that is not the slow
	// disk this test is not about (TestSlowDiskDoesNotHoldTheUnit is).
	w, err := Start(sup, Options{Dir: dir, MaxSize: 1 << 30, SlowWrite: time.Hour, Backlog: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 200000
	add(t, sup, procs.Spec{Name: "flood", Shell: fmt.Sprintf("seq 1 %d; exec sleep 600", n), LogBuffer: 4096})
	path := filepath.Join(dir, "flood.log")
	waitFor(t, "the last line on disk", fileHas(path, fmt.Sprintf(" stdout %d\n", n)))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := 1
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, " lines lost here") {
			t.Fatalf("the file says lines were lost: %q", line)
		}
		_, text, ok := strings.Cut(line, " stdout ")
		if !ok {
			continue // an event
		}
		if text != fmt.Sprintf("%d\n", next) {
			t.Fatalf("line %q where %d was due", line, next)
		}
		next++
	}
	if next != n+1 {
		t.Fatalf("%d lines in the file, want %d", next-1, n)
	}
}

// On a disk slower than the unit, the unit is not held: once the backlog is
// full the lines that do not fit are lost, and the file says how many.
func TestSlowDiskDoesNotHoldTheUnit(t *testing.T) {
	sup := newSup(t)
	dir := t.TempDir()
	// Every write counts as slow.
	w, err := Start(sup, Options{Dir: dir, SlowWrite: time.Nanosecond, Backlog: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 200000
	add(t, sup, procs.Spec{Name: "flood", Shell: fmt.Sprintf("seq 1 %d; echo done; exec sleep 600", n)})
	path := filepath.Join(dir, "flood.log")
	waitFor(t, "the flood's last line in its ring", func() bool {
		l, _ := sup.Tail("flood", 1)
		return len(l) == 1 && l[0].Text == "done"
	})
	// What was lost last is said before the next line kept. A note that
	// comes while the backlog is still full is lost too: send until one
	// is kept.
	waitFor(t, "a note on disk", func() bool {
		if err := sup.Note("flood", "after"); err != nil {
			t.Fatal(err)
		}
		return fileHas(path, " event after\n")()
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), " lines lost here (the disk was slower than the unit)\n") {
		t.Fatal("the file does not say lines were lost")
	}
	if got := strings.Count(string(b), " stdout "); got >= n {
		t.Fatalf("%d lines in the file: none lost, so the unit was held", got)
	}
}

// Lines dropped at the end of a burst, with nothing after them, are still
// said: the Writer's next collection (here, its end) writes the note.
func TestLostLinesAreSaidWithoutALineAfter(t *testing.T) {
	dir := t.TempDir()
	// The thread starts after the burst: a writer quick enough to keep up
	// with it (as it may be, on a busy machine) would lose nothing.
	w := makeWriter(Options{Dir: dir, Backlog: 16 << 10}.withDefaults())
	var mu sync.Mutex
	u := tap{w}.Unit("u", &mu)
	const n = 5000
	t0 := time.Now().UnixNano()
	mu.Lock()
	for i := range n {
		// As kelpie's own lines are given: without waiting for room.
		u.Line(t0, procs.Event, fmt.Appendf(nil, "%d %s", i, strings.Repeat("x", 90)), true)
	}
	mu.Unlock()
	go w.run()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "u.log"))
	if err != nil {
		t.Fatal(err)
	}
	kept, lost := 0, 0
	for line := range strings.Lines(string(b)) {
		var k int
		if _, err := fmt.Sscanf(line[strings.Index(line, " event ")+7:], "kelpie: %d lines lost here", &k); err == nil {
			lost += k
			continue
		}
		kept++
	}
	if lost == 0 || kept+lost != n {
		t.Fatalf("%d lines kept and %d said lost, want some lost and %d in all", kept, lost, n)
	}
}

// While one unit floods past the backlog, only it waits: a unit with none of
// its lines waiting for the disk is not held.
func TestOnlyTheFloodingUnitWaits(t *testing.T) {
	w := makeWriter(Options{Dir: t.TempDir(), Backlog: 64 << 10}.withDefaults()) // no thread: nothing is written
	var fmu, qmu sync.Mutex
	flood, quiet := tap{w}.Unit("flood", &fmu), tap{w}.Unit("quiet", &qmu)
	t0 := time.Now().UnixNano()
	fmu.Lock()
	for i := 0; !flood.Full(); i++ {
		if i > 10000 {
			t.Fatal("the flooding unit never has to wait")
		}
		flood.Line(t0, procs.Stdout, []byte(strings.Repeat("x", 100)), true)
	}
	fmu.Unlock()
	qmu.Lock()
	defer qmu.Unlock()
	if quiet.Full() {
		t.Fatal("a quiet unit waits for another's flood")
	}
	quiet.Line(t0, procs.Stdout, []byte("hello"), true)
	if quiet.Full() {
		t.Fatal("a quiet unit with one line in memory waits for another's flood")
	}
}

// A write slower than SlowWrite marks the disk slow (the Writer then lets
// the units go on without it), a quick one clears the mark.
func TestTimedWritesMarkASlowDisk(t *testing.T) {
	fd, err := os.Create(filepath.Join(t.TempDir(), "u.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	var slow bool
	if _, err := (timed{f: fd, limit: -1, slow: &slow}).Write([]byte("x\n")); err != nil || !slow {
		t.Fatalf("a write over the limit: slow %v (%v), want true", slow, err)
	}
	if _, err := (timed{f: fd, limit: time.Hour, slow: &slow}).Write([]byte("y\n")); err != nil || slow {
		t.Fatalf("a quick write: slow %v (%v), want false", slow, err)
	}
}

// Read's newest n lines, found from the files' ends, are the last n of
// reading everything, across rotated files, with a last line that has no
// newline and lines longer than a read block.
func TestReadTailMatchesReadingAll(t *testing.T) {
	dir := t.TempDir()
	line := func(i int) string {
		text := fmt.Sprintf("line %d", i)
		if i%7 == 0 {
			text += strings.Repeat("x", 70<<10) // longer than tailStart's block
		}
		return "2026-12-02T09:00:00.000Z stdout " + text + "\n"
	}
	var old, cur strings.Builder
	for i := 1; i <= 20; i++ {
		old.WriteString(line(i))
	}
	for i := 21; i <= 30; i++ {
		cur.WriteString(line(i))
	}
	cur.WriteString("2026-12-02T09:00:00.000Z stdout unfinished") // no newline
	if err := os.WriteFile(filepath.Join(dir, "u.log.1"), []byte(old.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "u.log"), []byte(cur.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := Read(dir, "u", -1)
	if err != nil || len(all) != 31 || all[30].Text != "unfinished" {
		t.Fatalf("Read all: %d lines, %v", len(all), err)
	}
	for n := 0; n <= 33; n++ {
		got, err := Read(dir, "u", n)
		if err != nil {
			t.Fatal(err)
		}
		want := all[max(0, len(all)-n):]
		if len(got) != len(want) {
			t.Fatalf("Read %d: %d lines, want %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i].Text != want[i].Text {
				t.Fatalf("Read %d: line %d is %.20q, want %.20q", n, i, got[i].Text, want[i].Text)
			}
		}
	}
}
