package demo

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
)

// top is the demo's tty unit: a small, interactive top. On a terminal
// (the unit's pseudo-terminal, or yours: `kelpie __demo top`) it reads its
// keys in raw mode and draws a full screen on the alternate screen, with
// colours, a title and a selection that the arrow keys move; it redraws
// on SIGWINCH. On a pipe (an engine without terminals) it prints a summary
// line every two seconds instead.
func top() int {
	in, out := os.Stdin, os.Stdout
	if !term.IsTerminal(in.Fd()) || !term.IsTerminal(out.Fd()) {
		return topPlain(out)
	}
	saved, err := term.MakeRaw(in.Fd())
	if err != nil {
		fmt.Fprintln(os.Stderr, "top: raw mode:", err)
		return topPlain(out)
	}
	defer func() { _ = term.Restore(in.Fd(), saved) }()
	_, _ = io.WriteString(out, "\x1b[?1049h\x1b[?25l\x1b[?1h") // alternate screen, no cursor, application cursor keys
	defer func() { _, _ = io.WriteString(out, "\x1b[?1l\x1b[0m\x1b[?25h\x1b[?1049l") }()

	keys := make(chan []byte)
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := in.Read(buf)
			if err != nil {
				close(keys)
				return
			}
			keys <- bytes.Clone(buf[:n])
		}
	}()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)

	v := &topView{sortBy: "cpu", last: "none yet"}
	v.sample()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		w, h, err := term.GetSize(out.Fd())
		if err != nil {
			w, h = 80, 24
		}
		_, _ = out.Write(v.frame(w, h))
		select {
		case b, ok := <-keys:
			if !ok || !v.key(b) {
				return 0
			}
		case <-winch:
		case <-quit:
			return 0
		case <-tick.C:
			if !v.paused {
				v.sample()
			}
		}
	}
}

// topPlain is top without a terminal: a summary line now and then.
func topPlain(out io.Writer) int {
	v := &topView{sortBy: "cpu"}
	v.sample()
	for {
		time.Sleep(2 * time.Second)
		v.sample()
		busiest := "-"
		if len(v.procs) > 0 {
			p := v.procs[0]
			busiest = fmt.Sprintf("%s %.1f%%", p.comm, p.cpu)
		}
		fmt.Fprintf(out, "top: load %s · %d processes · busiest: %s (no terminal: run me with tty: true)\n",
			v.load, len(v.procs), busiest)
	}
}

// topProc is one process as top shows it.
type topProc struct {
	pid   int
	state string
	comm  string
	ticks uint64  // utime + stime
	rss   uint64  // bytes
	cpu   float64 // % of one core since the last sample
}

// topView is top's state: the processes sampled, the selection, the
// sort, the last key read.
type topView struct {
	procs    []topProc
	prev     map[int]uint64
	at       time.Time
	load     string
	mem      string
	sortBy   string // "cpu" or "mem"
	sel      int
	top      int
	paused   bool
	last     string // the last key read, named, with its bytes
	lastBody []byte
	// What the terminal shows: its size, the rows and the title written.
	w, h  int
	shown []string
	title string
}

// sample reads every process's CPU time and memory from /proc.
func (v *topView) sample() {
	now := time.Now()
	dt := now.Sub(v.at).Seconds()
	prev := v.prev
	v.prev = make(map[int]uint64, len(v.procs))
	v.procs = v.procs[:0]
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	page := uint64(os.Getpagesize())
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		p, ok := parseStat(b, page)
		if !ok {
			continue
		}
		if old, ok := prev[p.pid]; ok && dt > 0 && p.ticks >= old {
			p.cpu = float64(p.ticks-old) / 100 / dt * 100 // USER_HZ is 100 on Linux
		}
		v.prev[p.pid] = p.ticks
		v.procs = append(v.procs, p)
	}
	v.at = now
	v.sort()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			v.load = strings.Join(f[:3], " ")
		}
	}
	v.mem = memLine()
}

func (v *topView) sort() {
	slices.SortStableFunc(v.procs, func(a, b topProc) int {
		if v.sortBy == "mem" {
			return cmp.Or(cmp.Compare(b.rss, a.rss), cmp.Compare(a.pid, b.pid))
		}
		return cmp.Or(cmp.Compare(b.cpu, a.cpu), cmp.Compare(b.rss, a.rss), cmp.Compare(a.pid, b.pid))
	})
}

// parseStat reads /proc/PID/stat: pid, (comm), state, and fields 14, 15
// (utime, stime) and 24 (rss in pages). comm may hold spaces and parens:
// it ends at the last ')'.
func parseStat(b []byte, page uint64) (topProc, bool) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return topProc{}, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	if err != nil {
		return topProc{}, false
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 22 {
		return topProc{}, false
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	rss, _ := strconv.ParseUint(f[21], 10, 64)
	return topProc{pid: pid, state: f[0], comm: printable(string(b[open+1 : end])), ticks: ut + st, rss: rss * page}, true
}

// printable keeps a process's name fit for a terminal: any process can
// name itself with escape sequences.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

// memLine is "used / total" from /proc/meminfo.
func memLine() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "?"
	}
	var total, avail uint64
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseUint(f[1], 10, 64)
		switch f[0] {
		case "MemTotal:":
			total = n << 10
		case "MemAvailable:":
			avail = n << 10
		}
	}
	return size(total-min(avail, total)) + " / " + size(total)
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0fM", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%dK", n>>10)
}

// key applies the keys read in one go; it returns false to quit.
func (v *topView) key(b []byte) bool {
	for len(b) > 0 {
		name, n := keyName(b)
		v.last, v.lastBody = name, b[:n]
		b = b[n:]
		switch name {
		case "q", "ctrl+c", "ctrl+d":
			return false
		case "up", "k":
			v.sel = max(v.sel-1, 0)
		case "down", "j":
			v.sel = min(v.sel+1, max(len(v.procs)-1, 0))
		case "home", "g":
			v.sel = 0
		case "end", "G":
			v.sel = max(len(v.procs)-1, 0)
		case "s":
			if v.sortBy == "cpu" {
				v.sortBy = "mem"
			} else {
				v.sortBy = "cpu"
			}
			v.sort()
		case "space":
			v.paused = !v.paused
		}
	}
	return true
}

// seqName names the key an xterm sends as seq, or "".
func seqName(seq string) string {
	switch seq {
	case "\x1b[A", "\x1bOA":
		return "up"
	case "\x1b[B", "\x1bOB":
		return "down"
	case "\x1b[C", "\x1bOC":
		return "right"
	case "\x1b[D", "\x1bOD":
		return "left"
	case "\x1b[H", "\x1bOH":
		return "home"
	case "\x1b[F", "\x1bOF":
		return "end"
	case "\x1b[5~":
		return "pgup"
	case "\x1b[6~":
		return "pgdn"
	case "\x1bOP":
		return "F1"
	case "\x1b[15~":
		return "F5"
	}
	return ""
}

// keyName names the key at the start of b and says how many bytes it
// took: the sequences an xterm sends for the keys top knows, else one
// character.
func keyName(b []byte) (string, int) {
	if b[0] == 0x1b {
		// No sequence is the start of a longer one: the shortest that
		// matches is the key.
		for n := 3; n <= min(len(b), 5); n++ {
			if name := seqName(string(b[:n])); name != "" {
				return name, n
			}
		}
	}
	switch c := b[0]; {
	case c == ' ':
		return "space", 1
	case c == '\r':
		return "enter", 1
	case c == 0x7f:
		return "backspace", 1
	case c == 0x1b:
		return "esc", 1
	case c < 0x20:
		return "ctrl+" + string(rune('a'+c-1)), 1
	}
	r, n := utf8.DecodeRune(b)
	return printable(string(r)), n
}

// frame draws the screen, w x h: a header, the processes with the
// selection, a footer naming the last key read. Only the rows that changed
// since the last frame of that size are written (and the title when it
// changed): a terminal emulator parses little when little changes.
func (v *topView) frame(w, h int) []byte {
	var out []string
	line := func(s string) { out = append(out, s) }
	state := ""
	if v.paused {
		state = "  \x1b[0;33m‖ paused"
	}
	line(fit(fmt.Sprintf("\x1b[0;1;36m kelpie demo · top\x1b[0m   load \x1b[1m%s\x1b[0m   mem \x1b[1m%s\x1b[0m%s", v.load, v.mem, state), w))
	line(fit(fmt.Sprintf("\x1b[0;2m %d processes · sorted by %s · ↑↓/jk move · s sort · space pause · q quit", len(v.procs), v.sortBy), w))
	line("")
	line(fit("\x1b[0;7m"+pad(fmt.Sprintf("%7s %s %6s %8s  %s", "PID", "S", "CPU%", "MEM", "COMMAND"), w), w))
	rows := max(h-6, 1)
	v.sel = min(v.sel, max(len(v.procs)-1, 0))
	if v.sel < v.top {
		v.top = v.sel
	}
	if v.sel >= v.top+rows {
		v.top = v.sel - rows + 1
	}
	for i := v.top; i < v.top+rows; i++ {
		if i >= len(v.procs) {
			line("")
			continue
		}
		p := v.procs[i]
		c := "32"
		switch {
		case p.cpu >= 50:
			c = "31"
		case p.cpu >= 5:
			c = "33"
		}
		base := "0"
		if i == v.sel {
			base = "0;1;44" // the selection: bold on blue, the whole row
			c = base
		}
		text := pad(fmt.Sprintf("\x1b[%sm%7d %s \x1b[0;%sm%6.1f\x1b[%sm %8s  %s", base, p.pid, p.state, c, p.cpu, base, size(p.rss), p.comm), w)
		line(fit(text, w))
	}
	line("")
	line(fit(fmt.Sprintf("\x1b[0;2m last key: \x1b[0;1m%s\x1b[0;2m  (%q)", v.last, v.lastBody), w))
	var b bytes.Buffer
	if title := fmt.Sprintf("top · %d processes · sorted by %s", len(v.procs), v.sortBy); title != v.title {
		v.title = title
		b.WriteString("\x1b]2;" + title + "\x07")
	}
	if v.w != w || v.h != h {
		v.w, v.h, v.shown = w, h, nil
		b.WriteString("\x1b[0m\x1b[2J")
	}
	for i, r := range out[:min(len(out), h)] {
		if i < len(v.shown) && v.shown[i] == r {
			continue
		}
		fmt.Fprintf(&b, "\x1b[%d;1H%s\x1b[0m\x1b[K", i+1, r)
	}
	v.shown = out
	return b.Bytes()
}

// fit cuts s to w cells (its escape sequences kept, a wide character
// counted as two).
func fit(s string, w int) string { return ansi.Truncate(s, w, "") }

// pad fills s with spaces to w cells.
func pad(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
