// Package logfile keeps every unit's output and events on disk as they
// arrive: DIR/NAME.log, one line per line (RFC 3339 time with milliseconds,
// the stream, the text without colour codes), rotated by size.
//
// A Writer follows the engine with a procs.Cursor, the same follower as the
// screen and `kelpie logs --follow`, made lossless: a unit's ring keeps every
// line until the Writer has it, so a unit that writes faster than the disk
// takes waits for it (its pipe fills and its writes block, as under
// `| cat > file`) and every line reaches its file. Not for a slow disk: a
// write slower than Options.SlowWrite (or a writer stuck for a second) lets
// the units go on, and the file gets a line saying how many it lost, as it
// does where the engine cannot hold lines for it (a remote one). Reading a
// unit's file back (Read) is how `kelpie logs NAME` works when no kelpie is
// running.
package logfile

import (
	"bufio"
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
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
	// (Cursor.Lapse) until a write is quick again; what the writer then
	// cannot read in time is lost, and the file says how many lines.
	SlowWrite time.Duration
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
	return o
}

// Writer appends every unit's lines to its file until Close.
type Writer struct {
	opts   Options
	cur    *procs.Cursor
	cancel context.CancelFunc
	done   chan struct{}
	files  map[string]*file // owned by the run goroutine, as is open
	// open is the files that may hold a descriptor, most recently written
	// first: the last is closed when a file past Options.MaxOpen opens.
	open  list.List
	spare *bufio.Writer // a closed file's buffer, for the next to open
	mu    sync.Mutex
	err   error // the first write error, kept for Close
	// slow: the last write to a file took longer than Options.SlowWrite.
	slow bool
}

// Start makes dir if needed and starts following every unit of e (those
// added later too) from its first line still in memory.
func Start(e procs.Engine, opts Options) (*Writer, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, errors.New("logfile: no directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	cur, err := procs.Follow(e, nil, -1)
	if err != nil {
		return nil, fmt.Errorf("logfile: following the units: %w", err)
	}
	cur.Lossless()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{opts: opts, cur: cur, cancel: cancel, done: make(chan struct{}), files: map[string]*file{}}
	go w.run(ctx)
	return w, nil
}

// Close stops following once every line already announced is written (the
// engine's shutdown ends the cursor; Close also works before that), closes
// the files and returns the first error writing met.
func (w *Writer) Close() error {
	w.cancel()
	return w.Wait()
}

// Wait waits until the engine has shut down and every line is on disk.
func (w *Writer) Wait() error {
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) run(ctx context.Context) {
	// One thread for the writer's life: a flood's batches are formatted
	// where the last one's buffers are still in cache, not on whichever
	// thread the scheduler picks each time.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(w.done)
	defer w.cur.Close()
	var rb procs.RawBatch
	for {
		err := w.cur.NextRaw(ctx, &rb)
		for _, u := range rb.Units {
			w.write(u, rb.Buf)
		}
		for e := w.open.Front(); e != nil; e = e.Next() {
			f := e.Value.(*file)
			w.fail(f.unit, f.flush())
		}
		// A disk slower than the units: they go on without waiting for it
		// (the file notes what it lost) until a write is quick again.
		w.cur.Lapse(w.slow)
		// After the batch's lines: a removed unit's last ones are in it.
		for _, name := range rb.Removed {
			if f := w.files[name]; f != nil {
				w.shut(f)
				delete(w.files, name)
			}
		}
		if err != nil {
			break
		}
	}
	for w.open.Len() > 0 {
		w.shut(w.open.Back().Value.(*file))
	}
}

// use marks f as written now, making room for its descriptor first if it
// has none: the least recently written open file is closed (its lines are
// flushed; it reopens, appending, when written again).
func (w *Writer) use(f *file) {
	if f.elem != nil {
		w.open.MoveToFront(f.elem)
		return
	}
	for w.open.Len() >= w.opts.MaxOpen {
		w.shut(w.open.Back().Value.(*file))
	}
	f.elem = w.open.PushFront(f)
	if f.bw == nil {
		f.bw, w.spare = w.spare, nil // nil: open makes one
	}
}

// shut flushes and closes f's descriptor, if it has one.
func (w *Writer) shut(f *file) {
	if f.elem != nil {
		w.open.Remove(f.elem)
		f.elem = nil
	}
	w.fail(f.unit, f.close())
	// Only open files hold a buffer (64 KiB): thousands of units' closed
	// files hold none, and the next to open reuses this one.
	w.spare, f.bw = f.bw, nil
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

// write appends one unit's share of a batch to its file.
func (w *Writer) write(u procs.RawOutput, buf []byte) {
	f := w.files[u.Unit]
	if f == nil {
		path, err := Path(w.opts.Dir, u.Unit)
		if err != nil {
			w.fail(u.Unit, err)
			return
		}
		f = &file{unit: u.Unit, path: path, opts: w.opts, slow: &w.slow}
		w.files[u.Unit] = f
	}
	if f.broken {
		return // kept, without a descriptor, so that it is not retried
	}
	w.use(f)
	if u.Missed > 0 {
		note := fmt.Sprintf("kelpie: %d lines lost here (the disk was slower than the unit)", u.Missed)
		w.fail(u.Unit, f.line(time.Now().UnixNano(), procs.Event, []byte(note), true))
	}
	if len(u.Lines) == 0 {
		return
	}
	// A unit's texts are one run of buf, and most runs hold no colour at
	// all: one scan of the run spares a scan of each line.
	first, last := u.Lines[0], u.Lines[len(u.Lines)-1]
	colour := bytes.IndexByte(buf[first.Off:last.Off+last.Len], 0x1b) >= 0
	for _, l := range u.Lines {
		w.fail(u.Unit, f.line(l.Time, l.Stream, buf[l.Off:l.Off+l.Len], colour))
	}
}

// file is one unit's open log file.
type file struct {
	unit    string
	elem    *list.Element // in Writer.open (nil: no descriptor)
	path    string
	opts    Options
	f       *os.File
	bw      *bufio.Writer
	size    int64
	broken  bool   // a write failed: say so once, then stop trying
	scratch []byte // the line being built, reused
	// stamp is the formatted time of millisecond stampMS: a flooding unit
	// writes hundreds of lines per millisecond, and formatting the time
	// was a third of a line's cost (BenchmarkLine).
	stamp   []byte
	stampMS int64
	slow    *bool // the Writer's: set by each write (timed)
}

// timed is a file's descriptor as its buffer writes to it: each write is
// timed, and one slower than Options.SlowWrite says the disk is slow.
type timed struct {
	f     *os.File
	limit time.Duration
	slow  *bool
}

func (t timed) Write(b []byte) (int, error) {
	start := time.Now()
	n, err := t.f.Write(b)
	if t.slow != nil {
		*t.slow = time.Since(start) > t.limit
	}
	return n, err
}

func (f *file) open() error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o750); err != nil {
		return err
	}
	// O_NOFOLLOW: a symlink planted where the log goes is refused, not
	// written through.
	fd, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o640)
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
	f.f, f.size = fd, st.Size()
	tw := timed{f: fd, limit: f.opts.SlowWrite, slow: f.slow}
	if f.bw == nil {
		f.bw = bufio.NewWriterSize(tw, 64<<10)
	} else {
		f.bw.Reset(tw)
	}
	return nil
}

// line appends one line written at unix nanoseconds ns, rotating first when
// it would not fit; colour says text may hold colour codes to strip.
func (f *file) line(ns int64, s procs.Stream, text []byte, colour bool) error {
	if f.broken {
		return nil
	}
	if f.f == nil {
		if err := f.open(); err != nil {
			return f.broke(err)
		}
	}
	if ms := ns / int64(time.Millisecond); ms != f.stampMS || f.stamp == nil {
		f.stamp, f.stampMS = time.Unix(0, ns).AppendFormat(f.stamp[:0], TimeFormat), ms
	}
	// Built in the buffer's free space when it fits (Write then copies
	// nothing), else aside in scratch.
	st := s.String()
	b := f.bw.AvailableBuffer()
	inBuf := cap(b) >= len(f.stamp)+len(st)+len(text)+3
	if !inBuf {
		b = f.scratch[:0]
	}
	b = append(b, f.stamp...)
	b = append(append(append(b, ' '), st...), ' ')
	if colour {
		b = appendPlain(b, text)
	} else {
		b = append(b, text...)
	}
	b = append(b, '\n')
	if !inBuf {
		f.scratch = b[:0] // keep it if it grew
	}
	if f.size > 0 && f.size+int64(len(b)) > f.opts.MaxSize {
		if inBuf {
			// The rotation's flush reuses the buffer's free space.
			f.scratch = append(f.scratch[:0], b...)
			b = f.scratch
		}
		if err := f.rotate(); err != nil {
			return f.broke(err)
		}
	}
	n, err := f.bw.Write(b)
	f.size += int64(n)
	if err != nil {
		return f.broke(err)
	}
	return nil
}

func (f *file) broke(err error) error {
	f.broken = true
	return fmt.Errorf("logfile: %s: %w", f.path, err)
}

// rotate moves NAME.log to NAME.log.1 (and each .k to .k+1), dropping the
// oldest, and opens a new NAME.log.
func (f *file) rotate() error {
	if err := f.bw.Flush(); err != nil {
		return err
	}
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

func (f *file) flush() error {
	if f.f == nil || f.broken {
		return nil
	}
	if err := f.bw.Flush(); err != nil {
		return f.broke(err)
	}
	return nil
}

func (f *file) close() error {
	if f.f == nil {
		return nil
	}
	err := f.bw.Flush()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
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
