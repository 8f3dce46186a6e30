package logfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// maxLine bounds one line read back; the writer never writes longer ones
// (the ring splits output lines well below this), so a longer one was not
// written by kelpie, and only its first maxLine bytes are kept.
const maxLine = 1 << 20

// Read returns the newest n lines of unit name's log in dir, oldest first,
// reading back into rotated files (NAME.log.1, ...) as far as needed; n < 0
// reads them all. A unit with no file is an error wrapping fs.ErrNotExist.
// The files are outside text (anyone could have written there): each line's
// text goes through procs.Clean, and a line that is not in the writer's
// format is kept whole as stdout text.
func Read(dir, name string, n int) ([]procs.Line, error) {
	path, err := Path(dir, name)
	if err != nil {
		return nil, err
	}
	var out []procs.Line
	for k := 0; ; k++ {
		p := path
		if k > 0 {
			p += "." + strconv.Itoa(k)
		}
		want := -1
		if n >= 0 {
			want = n - len(out)
		}
		lines, err := readFile(p, want)
		if errors.Is(err, fs.ErrNotExist) {
			if k == 0 {
				return nil, fmt.Errorf("logfile: no log of %q in %s: %w", name, dir, err)
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("logfile: %w", err)
		}
		out = append(lines, out...)
		if n >= 0 && len(out) >= n {
			break
		}
	}
	if n >= 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	for i := range out {
		out[i].Seq = uint64(i + 1)
	}
	return out, nil
}

// readFile reads the newest want lines of the file at path (want < 0: all).
// Only those are read and parsed: the file is searched for their start from
// its end, so `kelpie logs NAME -n 100` of a 1 GiB file reads a block or two.
func readFile(path string, want int) ([]procs.Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if want >= 0 {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		from, err := tailStart(f, st.Size(), want)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if _, err := f.Seek(from, io.SeekStart); err != nil {
			return nil, err
		}
	}
	var out []procs.Line
	br := bufio.NewReaderSize(f, 64<<10)
	var long []byte // a line longer than the reader's buffer, so far
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) < maxLine {
				long = append(long, chunk[:min(len(chunk), maxLine-len(long))]...)
			}
			continue
		}
		line := chunk
		if long != nil {
			if len(long) < maxLine {
				long = append(long, chunk[:min(len(chunk), maxLine-len(long))]...)
			}
			line, long = long, nil
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) > 0 || err == nil {
			out = append(out, parseLine(string(line)))
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("reading %s: %w", path, err)
		}
	}
}

// tailStart is the offset in f (size bytes long) where its last n lines
// begin: after the (n+1)th newline from the end, a last newline ending the
// last line rather than starting one. It reads f backwards a block at a time.
func tailStart(f *os.File, size int64, n int) (int64, error) {
	if n == 0 {
		return size, nil
	}
	buf := make([]byte, 64<<10)
	seen := 0
	for pos := size; pos > 0; {
		k := min(int64(len(buf)), pos)
		pos -= k
		if _, err := f.ReadAt(buf[:k], pos); err != nil {
			return 0, err
		}
		for i := k - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 {
				continue
			}
			if seen++; seen == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}

// parseLine reads "TIME STREAM TEXT" back into a Line.
func parseLine(s string) procs.Line {
	l := procs.Line{Stream: procs.Stdout, Text: procs.Clean(s)}
	ts, rest, ok := strings.Cut(s, " ")
	if !ok {
		return l
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return l
	}
	name, text, _ := strings.Cut(rest, " ")
	st, ok := procs.ParseStream(name)
	if !ok {
		return l
	}
	return procs.Line{Time: t, Stream: st, Text: procs.Clean(text)}
}

// Units lists the units with a log in dir (NAME.log, a group member's in
// GROUP/INDEX.log), sorted, their names as Path wrote them.
func Units(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 || !d.Type().IsRegular() || !strings.HasSuffix(p, ".log") {
			return nil
		}
		rel, err := filepath.Rel(dir, strings.TrimSuffix(p, ".log"))
		if err != nil {
			return nil
		}
		segs := strings.Split(filepath.ToSlash(rel), "/")
		for i, s := range segs {
			u, err := url.PathUnescape(s)
			if err != nil {
				return nil // not a name Path writes
			}
			segs[i] = u
		}
		out = append(out, strings.Join(segs, "/"))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	slices.Sort(out)
	return out, nil
}
