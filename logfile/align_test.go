package logfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
	"golang.org/x/sys/unix"
)

// feedRun gives u a run of whole plain lines as a pump does: in Lines
// calls, waiting (mu unlocked) while u is Full.
func feedRun(mu *sync.Mutex, u procs.UnitTap, ts int64, run []byte) {
	mu.Lock()
	defer mu.Unlock()
	for len(run) > 0 {
		if u.Full() {
			mu.Unlock()
			u.Wait()
			mu.Lock()
		}
		n, _ := u.Lines(ts, procs.Stdout, run, procs.Fit{MaxLine: procs.DefaultMaxLine, Room: len(run)})
		run = run[n:]
	}
}

// linesBlock is n 100-byte lines numbered from first.
func linesBlock(first, n int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "%-99s\n", fmt.Sprintf("line %07d", i))
	}
	return b
}

// A flood's writes end on multiples of align in the file (the page cache
// then takes them in large folios, for less CPU), the end of each block
// held back for the next write; what is held reaches the file when no
// more comes.
func TestFloodWritesEndOnAlignedOffsets(t *testing.T) {
	f := &file{unit: "u", path: filepath.Join(t.TempDir(), "u.log"), opts: Options{}.withDefaults()}
	defer f.close()
	var want []byte
	for i := range 6 {
		b := linesBlock(i*1000, 1000) // 100,000 bytes: never a multiple of align
		want = append(want, b...)
		kept, err := f.put(b, true)
		if err != nil {
			t.Fatal(err)
		}
		if !kept || f.size%align != 0 || f.size+int64(len(f.held)) != int64(len(want)) {
			t.Fatalf("block %d: kept %v, %d bytes in the file (%d held), want a multiple of %d and the rest held",
				i, kept, f.size, len(f.held), align)
		}
		if got, _ := os.ReadFile(f.path); !bytes.Equal(got, want[:f.size]) {
			t.Fatalf("block %d: the file is not the blocks' first %d bytes", i, f.size)
		}
	}
	if kept, err := f.put(nil, false); kept || err != nil {
		t.Fatalf("the last put kept %v, err %v", kept, err)
	}
	if got, _ := os.ReadFile(f.path); !bytes.Equal(got, want) {
		t.Fatalf("after the held end was written: %d bytes in the file, want %d", len(got), len(want))
	}
}

// Holding a block's end back never splits a line across a rotation: every
// file starts with a whole line, none passes MaxSize, and the files hold
// every line in order.
func TestHeldEndsKeepRotationBetweenLines(t *testing.T) {
	for _, tc := range []struct {
		name             string
		maxSize, backlog int
	}{
		{"small blocks", 150_000, 1 << 20}, // a backlog under 8 big blocks makes do with small ones
		{"big blocks", 600_000, 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) { floodRotated(t, tc.maxSize, tc.backlog) })
	}
}

func floodRotated(t *testing.T, maxSize, backlog int) {
	dir := t.TempDir()
	w := newWriter(Options{Dir: dir, MaxSize: int64(maxSize), MaxFiles: 100, Backlog: int64(backlog)}.withDefaults())
	var mu sync.Mutex
	u := tap{w}.Unit("u", &mu)
	const n = 40_000
	for first := 0; first < n; first += 500 {
		feedRun(&mu, u, time.Now().UnixNano(), linesBlock(first, 500))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next, files := checkRotated(t, dir, "u", maxSize)
	if next != n || files < 5 {
		t.Fatalf("%d lines in %d files, want %d in several", next, files, n)
	}
}

// Held block ends count in the backlog. Units flooding together with their
// ends held fill it; the writer then writes those ends at once, rather than
// leave the units waiting for the pace (here an hour: they would wait for
// waitLimit, then lose lines).
func TestHeldEndsDoNotHoldUnitsBack(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(Options{Dir: dir, Backlog: 2 << 20, Pace: time.Hour, SlowWrite: time.Hour}.withDefaults())
	const units, n = 4, 30_000
	var wg sync.WaitGroup
	for k := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex
			u := tap{w}.Unit(fmt.Sprint("u", k), &mu)
			for first := 0; first < n; first += 500 {
				feedRun(&mu, u, time.Now().UnixNano(), linesBlock(first, 500))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for k := range units {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprint("u", k, ".log")))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("lines lost here")) {
			t.Fatalf("u%d lost lines waiting for held ends to be written", k)
		}
		if got := bytes.Count(b, []byte("\n")); got != n {
			t.Fatalf("u%d.log has %d lines, want %d", k, got, n)
		}
	}
}

// A file left ending inside a line (kelpie killed with a block's end held
// back) is ended before anything is appended to it.
func TestACutLastLineIsEndedBeforeAppending(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "u.log")
	if err := os.WriteFile(path, []byte("2026-12-02T13:00:00.000Z stdout whole\n2026-12-02T13:00:00.001Z stdout cu"), 0o640); err != nil {
		t.Fatal(err)
	}
	w := newWriter(Options{Dir: dir}.withDefaults())
	var mu sync.Mutex
	u := tap{w}.Unit("u", &mu)
	mu.Lock()
	u.Line(time.Now().UnixNano(), procs.Stdout, []byte("next"), true)
	mu.Unlock()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[1], " cu") || !strings.HasSuffix(lines[2], " stdout next") {
		t.Fatalf("appended to a cut line:\n%s", b)
	}
}

// blocksOf is the space path takes on disk, in bytes.
func blocksOf(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Blocks * 512
}

// A flood's file has space set aside ahead of its writes (fallocate, its
// size kept), and what is left over is given back when it is closed, or,
// left by a killed kelpie, when it is opened again.
func TestSpaceSetAsideIsGivenBack(t *testing.T) {
	dir := t.TempDir()
	f := &file{unit: "u", path: filepath.Join(dir, "u.log"), opts: Options{}.withDefaults()}
	block := make([]byte, 0, bigBlock)
	block = append(block, linesBlock(0, 1000)...)
	if _, err := f.put(block, true); err != nil {
		t.Fatal(err)
	}
	if f.noReserve {
		t.Skip("the file system here cannot set space aside")
	}
	if got := blocksOf(t, f.path); f.reserved != reserveStep || got < reserveStep {
		t.Fatalf("after a big block: %d bytes set aside, %d on disk; want %d", f.reserved, got, reserveStep)
	}
	if st, _ := os.Stat(f.path); st.Size() != f.size {
		t.Fatalf("the file's size is %d, want %d: setting space aside must keep it", st.Size(), f.size)
	}
	if _, err := f.put(nil, false); err != nil {
		t.Fatal(err)
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(f.path)
	if got := blocksOf(t, f.path); st.Size() != 100_000 || got > st.Size()+64<<10 {
		t.Fatalf("closed: %d bytes long, %d on disk; want 100000 and the space given back", st.Size(), got)
	}

	// Left set aside (a kelpie killed mid-flood): the next open gives it back.
	g, err := os.OpenFile(f.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Less than a step: what is left of one when the kill came.
	if err := unix.Fallocate(int(g.Fd()), unix.FALLOC_FL_KEEP_SIZE, 100_000, 700<<10); err != nil {
		t.Fatal(err)
	}
	g.Close()
	f2 := &file{unit: "u", path: f.path, opts: Options{}.withDefaults()}
	if err := f2.open(); err != nil {
		t.Fatal(err)
	}
	defer f2.close()
	if got := blocksOf(t, f.path); got > 100_000+64<<10 {
		t.Fatalf("reopened: %d bytes on disk, want the space a killed kelpie set aside given back", got)
	}
}

// A log file kelpie may write but not read (its mode changed by hand) is
// still appended to.
func TestAWriteOnlyFileIsStillWritten(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "u.log")
	if err := os.WriteFile(path, []byte("2026-12-02T13:00:00.000Z stdout old\n"), 0o200); err != nil {
		t.Fatal(err)
	}
	f := &file{unit: "u", path: path, opts: Options{}.withDefaults()}
	if err := f.write([]byte("2026-12-02T13:00:00.001Z stdout new\n")); err != nil {
		t.Fatal(err)
	}
	f.close()
	_ = os.Chmod(path, 0o600)
	if b, _ := os.ReadFile(path); !strings.HasSuffix(string(b), " stdout old\n2026-12-02T13:00:00.001Z stdout new\n") {
		t.Fatalf("the write-only file holds %q", b)
	}
}

// Two units flooding at once with one descriptor between them: each write
// closes the other unit's file (written out first, held end and all) and
// reopens its own, across rotations; both keep every line in order.
func TestHeldEndsSurviveDescriptorEviction(t *testing.T) {
	dir := t.TempDir()
	const maxSize = 700_000
	w := newWriter(Options{Dir: dir, MaxSize: maxSize, MaxFiles: 100, MaxOpen: 1, Backlog: 4 << 20}.withDefaults())
	const n = 30_000
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex
			u := tap{w}.Unit(name, &mu)
			for first := 0; first < n; first += 500 {
				feedRun(&mu, u, time.Now().UnixNano(), linesBlock(first, 500))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if next, _ := checkRotated(t, dir, name, maxSize); next != n {
			t.Fatalf("%s: %d lines in its files, want %d", name, next, n)
		}
	}
}

// checkRotated reads unit name's files in dir, oldest first, and checks
// that none passes maxSize and that their lines are "line 0000000",
// "line 0000001", ... in order; it returns how many lines and files.
func checkRotated(t *testing.T, dir, name string, maxSize int) (lines, files int) {
	t.Helper()
	for k := 100; k >= 0; k-- {
		p := filepath.Join(dir, name+".log")
		if k > 0 {
			p += fmt.Sprint(".", k)
		}
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		files++
		if len(b) > maxSize {
			t.Errorf("%s is %d bytes, over MaxSize", p, len(b))
		}
		for line := range strings.Lines(string(b)) {
			_, text, ok := strings.Cut(line, " stdout ")
			if want := fmt.Sprintf("line %07d", lines); !ok || !strings.HasPrefix(text, want) {
				t.Fatalf("%s: %.60q where %q was due", p, line, want)
			}
			lines++
		}
	}
	return lines, files
}
