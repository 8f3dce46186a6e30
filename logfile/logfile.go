// Package logfile keeps every unit's output and events on disk as they
// arrive: DIR/NAME.log, one line per line (RFC 3339 time with milliseconds,
// the stream, the text without colour codes), rotated by size.
//
// A Writer is the supervisor's procs.Tap: every line a unit's ring stores is
// formatted at once, by the thread that read it, into an in-memory block,
// and the Writer's own thread (at a lower CPU priority) writes the blocks.
// Up to Options.Backlog of them may wait for the disk; past that a unit's
// pipe is not read until the writer catches up, so a unit that writes
// faster than its file is written waits for it (its writes block, as under
// `| cat > file`) and every line reaches its file. Not for a slow disk: a
// write slower than Options.SlowWrite (or a writer stuck for a second) lets
// the units go on, and the file gets a line saying how many lines it lost.
// Reading a unit's file back (Read) is how `kelpie logs NAME` works when no
// kelpie is running.
package logfile

import (
	"bytes"
	"container/list"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
	"golang.org/x/sys/unix"
)

// Defaults for Options.
const (
	// DefaultMaxSize is the size at which a unit's file is rotated.
	DefaultMaxSize = 10 << 20
	// DefaultMaxFiles is how many rotated files (NAME.log.1 ..) are kept.
	DefaultMaxFiles = 5
	// DefaultMaxOpen is how many units' files are kept open at once.
	DefaultMaxOpen = 128
	// DefaultSlowWrite is the write(2) time past which the disk counts as
	// slower than the units.
	DefaultSlowWrite = 50 * time.Millisecond
	// DefaultBacklog is how much formatted output may wait for the disk.
	DefaultBacklog = 8 << 20
	// DefaultPace is how long a quiet unit's lines wait to be written.
	DefaultPace = 50 * time.Millisecond
)

// TimeFormat is RFC 3339 with milliseconds, the first field of every line.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Options say where and how much to keep.
type Options struct {
	// Dir holds the files; it is created (0750) when missing.
	Dir string
	// MaxSize rotates a file once it would grow past this many bytes
	// (0: DefaultMaxSize).
	MaxSize int64
	// MaxFiles is how many rotated files are kept besides the current one
	// (0: DefaultMaxFiles); older ones are removed.
	MaxFiles int
	// MaxOpen is how many units' files are kept open at once (0:
	// DefaultMaxOpen): past it, the least recently written is closed, and
	// reopened (appending) when its unit writes again. A unit's file is
	// closed when the unit is removed (a cluster scaled down).
	MaxOpen int
	// OnError hears each file's first write error (a full disk, a
	// directory made read-only) with the unit it is for: that file is not
	// written to again, the others go on. Called from the writer's goroutine.
	OnError func(unit string, err error)
	// SlowWrite (0: DefaultSlowWrite): a write to a file that takes longer
	// means the disk is slower than the units, and they stop waiting for it
	// until a write is quick again; what does not fit in the backlog
	// meanwhile is lost, and the file says how many lines.
	SlowWrite time.Duration
	// Backlog (0: DefaultBacklog) is how many bytes of formatted lines may
	// wait in memory for the disk: past it a unit's pipe is not read until
	// the writer catches up (the unit waits, as under `| cat > file`),
	// while kelpie's own lines for it (events, notes), which cannot wait,
	// may take it to twice that.
	Backlog int64
	// Pace (0: DefaultPace) is the longest a quiet unit's lines wait in
	// memory before they are written.
	Pace time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxOpen <= 0 {
		o.MaxOpen = DefaultMaxOpen
	}
	if o.SlowWrite <= 0 {
		o.SlowWrite = DefaultSlowWrite
	}
	if o.Backlog <= 0 {
		o.Backlog = DefaultBacklog
	}
	if o.Pace <= 0 {
		o.Pace = DefaultPace
	}
	return o
}

// Writer appends every unit's lines to its file until Close. It is the
// supervisor's Tap: each line is formatted into an in-memory block by the
// thread that stored it (see sink), and the Writer's own thread writes the
// blocks, a unit's in order, rotating between lines, each write ending on a
// multiple of align in the file where it can (file.put).
type Writer struct {
	opts Options
	done chan struct{}
	wake chan struct{} // cap 1: run has blocks to write, a collection or the end is due
	pace *time.Timer   // sets collect once a block has waited Pace

	// inuse counts the bytes of blocks out of the free lists (being filled,
	// queued, being written, or held back in part by a file): past
	// Options.Backlog the units' pumps wait.
	inuse atomic.Int64
	// letGo: the disk is slow, or the writer made no progress while a unit
	// waited for it: nothing waits for it, and lines past Backlog are lost.
	letGo atomic.Bool
	// ended: the engine shut down or Close: no more blocks are handed out,
	// nothing waits, and the writer writes what is left and stops.
	ended atomic.Bool

	mu      sync.Mutex
	room    *sync.Cond // on mu: a block was written, or waiting ended
	queue   []pending  // blocks to write, oldest first
	dirty   []*sink    // sinks holding a partly filled block
	armed   bool       // pace is set for the dirty sinks
	collect bool       // pace has passed: queue the dirty sinks' blocks
	free    [2][][]byte
	bigUsed bool   // a big block was handed out since the last collection
	written uint64 // blocks written: progress, as a waiting unit sees it
	err     error  // the first write error, kept for Close

	// Owned by the run goroutine.
	files map[string]*file
	// open is the files that may hold a descriptor, most recently written
	// first: the last is closed when a file past Options.MaxOpen opens.
	open list.List
	slow bool // the last write took longer than Options.SlowWrite
}

// pending is a block queued for a unit's file; shut closes the file after
// it (the unit was removed).
type pending struct {
	s    *sink
	b    []byte
	shut bool
}

// Block sizes: a unit starts with a small block and gets big ones while its
// blocks fill up before the pace collects them (a flood), so a thousand
// quiet units hold little and a flooding one is written 256 KiB at a time.
const (
	smallBlock = 4 << 10
	bigBlock   = 256 << 10
)

// waitLimit is the longest a unit waits for a writer that writes nothing
// at all (stuck on a hung disk) before it goes on without it.
const waitLimit = time.Second

// Start makes dir if needed and has sup give the Writer every unit's lines
// (those added later too), each unit's from its first line still in memory.
func Start(sup *procs.Supervisor, opts Options) (*Writer, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, errors.New("logfile: no directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	w := newWriter(opts)
	if err := sup.Tap(tap{w}); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("logfile: %w", err)
	}
	return w, nil
}

// newWriter starts a Writer that no engine gives lines to yet.
func newWriter(opts Options) *Writer {
	w := makeWriter(opts)
	go w.run()
	return w
}

// makeWriter is a Writer whose thread is not started.
func makeWriter(opts Options) *Writer {
	w := &Writer{opts: opts, done: make(chan struct{}), wake: make(chan struct{}, 1), files: map[string]*file{}}
	w.room = sync.NewCond(&w.mu)
	w.pace = time.AfterFunc(time.Hour, func() {
		w.mu.Lock()
		w.collect = true
		w.mu.Unlock()
		w.kick()
	})
	w.pace.Stop()
	return w
}

// tap is the Writer as the supervisor's procs.Tap.
type tap struct{ w *Writer }

func (t tap) Unit(name string, lock sync.Locker) procs.UnitTap {
	return &sink{w: t.w, name: name, mu: lock}
}

// Close: the engine has shut down; the Writer writes what is left and ends.
func (t tap) Close() { t.w.end() }

// Close writes what the units have given so far, stops taking their lines
// (the engine's shutdown ends the Writer too; Close also works before
// that), closes the files and returns the first error writing met.
func (w *Writer) Close() error {
	w.end()
	return w.Wait()
}

// Wait waits until the engine has shut down and every line is on disk.
func (w *Writer) Wait() error {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) end() {
	w.ended.Store(true)
	w.mu.Lock()
	w.room.Broadcast()
	w.mu.Unlock()
	w.kick()
}

func (w *Writer) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Writer) run() {
	// One thread for the writer's life, at kelpie's own priority. It once
	// ran at nice 10, so that in a burst the units and the screen got the
	// CPU first; but a flood fills the backlog in milliseconds, and then
	// the child waits for the writer anyway: a million-line flood then had
	// its reading thread wait 6-18 ms for room, against 0.3-2.4 ms at
	// nice 0, and its child took about 7 % longer.
	runtime.LockOSThread()
	defer close(w.done)
	for range w.wake {
		w.mu.Lock()
		collect := w.collect
		w.mu.Unlock()
		ending := w.ended.Load()
		if collect || ending {
			w.collectDirty()
		}
		w.drain(collect || ending)
		if ending {
			break
		}
	}
	w.pace.Stop()
	for w.open.Len() > 0 {
		w.shut(w.open.Back().Value.(*file))
	}
}

// drain writes every queued block, oldest first. A file's last block is
// held back in part (file.put) to be written with its next. Once the queue
// is empty, those ends are written too on flush (a collection, the end) or
// when the backlog is full (units wait for room, and a held block counts);
// otherwise the pace is set so that they are written within Pace.
func (w *Writer) drain(flush bool) {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.mu.Unlock()
			if !w.holding() {
				return
			}
			// A held block counts in the backlog: with units waiting
			// for room, it is written now, not at the pace.
			if !flush && w.inuse.Load() < w.opts.Backlog {
				w.armPace()
				return
			}
			for e := w.open.Front(); e != nil; e = e.Next() {
				if f := e.Value.(*file); f.held != nil {
					w.put(f, nil)
				}
			}
			w.letGo.Store(w.slow)
			continue // blocks queued meanwhile
		}
		p := w.queue[0]
		w.queue[0] = pending{}
		w.queue = w.queue[1:]
		w.mu.Unlock()
		w.write(p)
		// A disk slower than the units: they go on without waiting for it
		// (the files note what they lost) until a write is quick again.
		w.letGo.Store(w.slow)
	}
}

// finish frees a block that is all on disk (or never will be).
func (w *Writer) finish(p pending) {
	w.mu.Lock()
	w.written++
	w.inuse.Add(-int64(cap(p.b)))
	p.s.queued.Add(-int64(cap(p.b)))
	w.release(p.b)
	w.room.Broadcast()
	w.mu.Unlock()
}

// collectDirty queues the blocks the units have partly filled, so that a
// quiet unit's lines reach its file within Pace.
func (w *Writer) collectDirty() {
	w.mu.Lock()
	dirty := w.dirty
	w.dirty, w.collect, w.armed = nil, false, false
	if !w.bigUsed {
		w.free[1] = nil // no flood since the last collection: let them go
	}
	w.bigUsed = false
	w.mu.Unlock()
	for _, s := range dirty {
		s.mu.Lock()
		s.sayLostNow() // lines were dropped and none came after to say so
		if s.cur != nil {
			s.handOver(s.removed)
		}
		s.big, s.dirty = false, false // it did not fill up within the pace
		s.mu.Unlock()
	}
}

// push queues a block (the unit's lock held: its blocks are queued in order).
func (w *Writer) push(p pending) {
	p.s.queued.Add(int64(cap(p.b)))
	w.mu.Lock()
	w.queue = append(w.queue, p)
	w.mu.Unlock()
	w.kick()
}

// markDirty schedules the collection of s's partly filled block.
func (w *Writer) markDirty(s *sink) {
	w.mu.Lock()
	w.dirty = append(w.dirty, s)
	w.mu.Unlock()
	w.armPace()
}

// armPace has a collection come within Pace, if none is due yet.
func (w *Writer) armPace() {
	w.mu.Lock()
	arm := !w.armed
	w.armed = true
	w.mu.Unlock()
	if arm {
		w.pace.Reset(w.opts.Pace)
	}
}

// block hands out an empty block of at least n bytes, or nil when that
// would hold more than the units may (a block for a unit that cannot wait
// may take the backlog to twice Options.Backlog; none past Backlog while
// the disk is slow; none once the Writer has ended). force hands one out
// regardless, for the note that says lines were lost.
func (w *Writer) block(n int, big, force bool) []byte {
	size := smallBlock
	if big && w.opts.Backlog >= 8*bigBlock {
		size = bigBlock // a small backlog makes do with small blocks
	}
	size = max(size, n)
	limit := 2 * w.opts.Backlog
	if w.letGo.Load() {
		limit = w.opts.Backlog
	}
	if !force && (w.ended.Load() || w.inuse.Load()+int64(size) > limit) {
		return nil
	}
	w.inuse.Add(int64(size))
	k := 0
	if size > smallBlock {
		k = 1
	}
	w.mu.Lock()
	w.bigUsed = w.bigUsed || k == 1
	var b []byte
	// The block written longest ago: the one just written is still in
	// the writer's CPU cache, and the next line's stores would each fetch
	// a cache line from there.
	if fl := w.free[k]; len(fl) > 0 && cap(fl[0]) == size {
		b = fl[0]
		w.free[k] = fl[1:]
	}
	w.mu.Unlock()
	if b == nil {
		b = make([]byte, 0, size)
	}
	return b
}

// release keeps a written block for reuse, a few of each size (w.mu held):
// a flood's steady state allocates nothing; the big ones are let go at the
// first collection after it (collectDirty).
func (w *Writer) release(b []byte) {
	switch c := cap(b); {
	case c == smallBlock && len(w.free[0]) < 64:
		w.free[0] = append(w.free[0], b[:0])
	case c == bigBlock && int64(len(w.free[1])) < 2*w.opts.Backlog/bigBlock:
		w.free[1] = append(w.free[1], b[:0])
	}
}

// waitRoom waits until the backlog is under Options.Backlog, the disk is
// found slow, or the Writer ends; a Writer that writes nothing for
// waitLimit is let go (letGo) until it writes again.
func (w *Writer) waitRoom() {
	// The writer may be idle with this unit's block held back (file.put):
	// it writes held ends when it finds the backlog full.
	w.kick()
	w.mu.Lock()
	defer w.mu.Unlock()
	seen, since := w.written, time.Now()
	// cond has no timeout: a timer wakes the wait to look at the clock.
	t := time.AfterFunc(waitLimit, func() {
		w.mu.Lock()
		w.room.Broadcast()
		w.mu.Unlock()
	})
	defer t.Stop()
	for w.inuse.Load() >= w.opts.Backlog && !w.letGo.Load() && !w.ended.Load() {
		if w.written != seen {
			seen, since = w.written, time.Now()
		}
		left := waitLimit - time.Since(since)
		if left <= 0 {
			w.letGo.Store(true)
			w.room.Broadcast()
			return
		}
		t.Reset(left)
		w.room.Wait()
	}
}

// use marks f as written now, making room for its descriptor first if it
// has none: the least recently written open file is closed (it reopens,
// appending, when written again).
func (w *Writer) use(f *file) {
	if f.elem != nil {
		w.open.MoveToFront(f.elem)
		return
	}
	for w.open.Len() >= w.opts.MaxOpen {
		w.shut(w.open.Back().Value.(*file))
	}
	f.elem = w.open.PushFront(f)
}

// shut closes f's descriptor, if it has one, after what it holds back.
func (w *Writer) shut(f *file) {
	if f.held != nil {
		w.put(f, nil)
	}
	if f.elem != nil {
		w.open.Remove(f.elem)
		f.elem = nil
	}
	w.fail(f.unit, f.close())
}

func (w *Writer) fail(unit string, err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	if w.opts.OnError != nil {
		w.opts.OnError(unit, err)
	}
}

// write appends one queued block to its unit's file.
func (w *Writer) write(p pending) {
	name := p.s.name
	f := w.files[name]
	if f == nil {
		path, err := Path(w.opts.Dir, name)
		if err != nil {
			w.fail(name, err)
			w.finish(p)
			return
		}
		f = &file{unit: name, path: path, opts: w.opts, slow: &w.slow}
		w.files[name] = f
	}
	if len(p.b) > 0 && !f.broken {
		w.use(f)
		w.put(f, &p)
	} else {
		w.finish(p)
	}
	if p.shut {
		// Its unit was removed: the file is closed after its last lines;
		// lines its pipes still drain, or a new unit of the name, reopen it.
		w.shut(f)
		delete(w.files, name)
	}
}

// put has f append p's block (nil: only what f holds back), and frees the
// blocks that are then all on disk: the one f held from before, and p's
// unless f holds its end back to write it with the next (not when the file
// closes after p).
func (w *Writer) put(f *file, p *pending) {
	var b []byte
	if p != nil {
		b = p.b
	}
	had := f.held != nil
	kept, err := f.put(b, p != nil && !p.shut)
	w.fail(f.unit, err)
	if had {
		w.finish(f.heldP)
		f.heldP = pending{}
	}
	switch {
	case kept:
		f.heldP = *p
	case p != nil:
		w.finish(*p)
	}
}

// holding reports whether a file holds a block's end back. Such a file is
// open: shut writes what it holds before closing it.
func (w *Writer) holding() bool {
	for e := w.open.Front(); e != nil; e = e.Next() {
		if e.Value.(*file).held != nil {
			return true
		}
	}
	return false
}

// file is one unit's log file.
type file struct {
	unit   string
	elem   *list.Element // in Writer.open (nil: no descriptor)
	path   string
	opts   Options
	f      *os.File
	size   int64
	broken bool  // a write failed: say so once, then stop trying
	slow   *bool // the Writer's: set by each write (timed)
	// held is the end of the last block put, past the file's last
	// alignment boundary, kept back to be written with the next block
	// (heldP is that block, freed once held is on disk).
	held  []byte
	heldP pending
	// reserved is where the space set aside ahead of a flood's writes
	// ends (reserve); noReserve: the file system cannot (or would not).
	reserved  int64
	noReserve bool
	// mended: open has looked at what a killed kelpie may have left (space
	// set aside, a cut last line); kelpie itself leaves neither behind it,
	// so a file reopened later (MaxOpen, a removed unit's late lines) is
	// not looked at again.
	mended bool
}

// reserveStep is how much of a flooding unit's file is set aside at a
// time (fallocate, the size kept): ext4 then need not reserve and map
// blocks page by page as the writes come, about 40 % of the CPU of a
// flood's aligned writes (135 MiB in 256 KiB writes: 31-39 ms without,
// 17-22 ms with, 4 rounds). What is left over is given back (trim) when
// the file is closed.
const reserveStep = 4 << 20

// align is what a flood's writes are cut to: each ends on a multiple of it
// in the file, and the next starts there. The page cache then takes each
// write in large folios; writes ending anywhere cost the kernel about 30 %
// more CPU per byte on ext4 (256 KiB writes here: 25-29 ms for 135 MiB
// aligned, 32-39 ms not).
const align = 64 << 10

// timed is a file's descriptor as blocks are written to it: each write is
// timed, and one slower than Options.SlowWrite says the disk is slow.
type timed struct {
	f     *os.File
	limit time.Duration
	slow  *bool
}

func (t timed) Write(b []byte) (int, error) { return t.writev(b, nil) }

// out is f's descriptor as timed writes go to it.
func (f *file) out() timed { return timed{f: f.f, limit: f.opts.SlowWrite, slow: f.slow} }

// writev writes a then b in one system call (more if it is cut short).
func (t timed) writev(a, b []byte) (int, error) {
	rc, err := t.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	total := 0
	for len(a)+len(b) > 0 && err == nil {
		var n int
		var werr error
		cerr := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Writev(int(fd), [][]byte{a, b})
			return true
		})
		switch {
		case cerr != nil:
			err = cerr
		case werr == unix.EINTR:
		case werr != nil:
			err = werr
		case n == 0:
			err = io.ErrShortWrite
		}
		n = max(n, 0)
		total += n
		k := min(n, len(a))
		a, b = a[k:], b[n-k:]
	}
	if t.slow != nil {
		*t.slow = time.Since(start) > t.limit
	}
	return total, err
}

func (f *file) open() error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o750); err != nil {
		return err
	}
	// O_NOFOLLOW: a symlink planted where the log goes is refused, not
	// written through. Read too, to look at its last byte; a file we may
	// only write is written without that.
	const flags = os.O_CREATE | os.O_APPEND | syscall.O_NOFOLLOW
	fd, err := os.OpenFile(f.path, os.O_RDWR|flags, 0o640)
	if errors.Is(err, fs.ErrPermission) {
		fd, err = os.OpenFile(f.path, os.O_WRONLY|flags, 0o640)
	}
	if errors.Is(err, syscall.ELOOP) {
		return errors.New("it is a symbolic link; refusing to write through it")
	}
	if err != nil {
		return err
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return err
	}
	if !st.Mode().IsRegular() {
		fd.Close()
		return fmt.Errorf("%s is not a regular file", f.path)
	}
	f.f, f.size, f.reserved = fd, st.Size(), 0
	if f.mended {
		return nil
	}
	f.mended = true
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Blocks*512 > f.size+align {
		// Space a killed kelpie had reserved (reserve) and not given back
		// (any amount up to reserveStep; a file system's own slack past
		// the end is a block or so, and truncating to the size keeps
		// every byte either way).
		_ = fd.Truncate(f.size)
	}
	// A kelpie killed while it held a block's end back left its last line
	// cut: end it, so the next line does not run on from it.
	var last [1]byte
	if f.size > 0 {
		if _, err := fd.ReadAt(last[:], f.size-1); err == nil && last[0] != '\n' {
			if _, err := fd.Write([]byte{'\n'}); err != nil {
				fd.Close()
				f.f = nil
				return err
			}
			f.size++
		}
	}
	return nil
}

// write appends whole lines, rotating first before a line that would take
// the file past MaxSize (a single line longer than that gets a file of its
// own).
func (f *file) write(b []byte) error {
	if f.broken {
		return nil
	}
	for len(b) > 0 {
		if f.f == nil {
			if err := f.open(); err != nil {
				return f.broke(err)
			}
		}
		k := len(b)
		if f.size+int64(k) > f.opts.MaxSize {
			k = 0
			if room := f.opts.MaxSize - f.size; room > 0 {
				k = bytes.LastIndexByte(b[:min(int64(len(b)), room)], '\n') + 1
			}
			if k == 0 && f.size == 0 {
				if k = bytes.IndexByte(b, '\n') + 1; k == 0 {
					k = len(b)
				}
			}
		}
		if k > 0 {
			n, err := f.out().Write(b[:k])
			f.size += int64(n)
			if err != nil {
				return f.broke(err)
			}
			b = b[k:]
		}
		if len(b) > 0 {
			if err := f.rotate(); err != nil {
				return f.broke(err)
			}
		}
	}
	return nil
}

// put appends b. With hold, and the file not about to rotate, it writes
// what it held before and b up to the last multiple of align in the file,
// and holds the rest of b back (kept: b is not all on disk yet). Otherwise
// it writes what it held, then all of b.
func (f *file) put(b []byte, hold bool) (kept bool, err error) {
	held := f.held
	f.held = nil
	if f.broken {
		return false, nil
	}
	if f.f == nil {
		if err := f.open(); err != nil {
			return false, f.broke(err)
		}
	}
	if cap(b) >= bigBlock {
		f.reserve(int64(len(held) + len(b)))
	}
	if end := f.size + int64(len(held)+len(b)); hold && end <= f.opts.MaxSize {
		if k := int(end&^(align-1)-f.size) - len(held); k > 0 {
			n, err := f.out().writev(held, b[:k])
			f.size += int64(n)
			if err != nil {
				return false, f.broke(err)
			}
			if k == len(b) {
				return false, nil // b ended on the boundary itself
			}
			f.held = b[k:]
			return true, nil
		}
	}
	// held ends a block, so at a line's end, and fits the file (put
	// checked before holding it); b goes as write has it, rotating
	// between lines.
	if len(held) > 0 {
		n, err := f.out().Write(held)
		f.size += int64(n)
		if err != nil {
			return false, f.broke(err)
		}
	}
	return false, f.write(b)
}

// reserve sets aside the file's next reserveStep (not past MaxSize) when
// the next need bytes would pass what is set aside; errors only stop it
// (a file system without fallocate, or a full disk, which the write
// will report).
func (f *file) reserve(need int64) {
	if f.noReserve || f.size+need <= f.reserved {
		return
	}
	n := min(reserveStep, f.opts.MaxSize-f.size)
	if n < need {
		return // the file rotates within this write or the next
	}
	var ferr error
	if rc, err := f.f.SyscallConn(); err != nil {
		ferr = err
	} else if err := rc.Control(func(fd uintptr) {
		ferr = unix.Fallocate(int(fd), unix.FALLOC_FL_KEEP_SIZE, f.size, n)
	}); err != nil {
		ferr = err
	}
	if ferr != nil {
		f.noReserve = true
		return
	}
	f.reserved = f.size + n
}

// trim gives back the space reserved past the file's end (truncating to
// its own size keeps every byte and frees the blocks beyond).
func (f *file) trim() {
	if f.reserved > f.size {
		if st, err := f.f.Stat(); err == nil {
			_ = f.f.Truncate(st.Size())
		}
	}
	f.reserved = 0
}

func (f *file) broke(err error) error {
	f.broken = true
	return fmt.Errorf("logfile: %s: %w", f.path, err)
}

// rotate moves NAME.log to NAME.log.1 (and each .k to .k+1), dropping the
// oldest, and opens a new NAME.log.
func (f *file) rotate() error {
	f.trim()
	if err := f.f.Close(); err != nil {
		return err
	}
	f.f = nil
	_ = os.Remove(f.path + "." + strconv.Itoa(f.opts.MaxFiles))
	for k := f.opts.MaxFiles - 1; k >= 1; k-- {
		_ = os.Rename(f.path+"."+strconv.Itoa(k), f.path+"."+strconv.Itoa(k+1))
	}
	if err := os.Rename(f.path, f.path+".1"); err != nil {
		return err
	}
	return f.open()
}

func (f *file) close() error {
	if f.f == nil {
		return nil
	}
	f.trim()
	err := f.f.Close()
	f.f = nil
	if err != nil && !f.broken {
		return f.broke(err)
	}
	return nil
}

// appendPlain appends already sanitised text without its colour codes: the
// sanitiser leaves only complete SGR sequences (ESC [ params m), which mean
// nothing to grep or an editor.
func appendPlain(b, text []byte) []byte {
	for len(text) > 0 {
		i := bytes.IndexByte(text, 0x1b)
		if i < 0 {
			return append(b, text...) // the rest (most lines: all) has no colour
		}
		b = append(b, text[:i]...)
		text = text[i:]
		if len(text) < 2 || text[1] != '[' {
			b = append(b, text[0]) // a lone ESC: not a colour code
			text = text[1:]
			continue
		}
		m := bytes.IndexByte(text[2:], 'm')
		if m < 0 {
			return b // cut off: drop it
		}
		text = text[2+m+1:]
	}
	return b
}

// Path is where unit name's log goes in dir: DIR/NAME.log, a group member
// GROUP/INDEX in DIR/GROUP/INDEX.log. Bytes other than letters, digits,
// '_', '-' and an inner '.' are written %XX, so no name reaches outside dir
// or makes a hidden file.
func Path(dir, name string) (string, error) {
	if name == "" {
		return "", errors.New("logfile: empty unit name")
	}
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	return filepath.Join(dir, filepath.Join(segs...)+".log"), nil
}

func escape(s string) string {
	if s == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' && i > 0
		if ok {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
