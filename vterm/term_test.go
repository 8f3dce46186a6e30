package vterm

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
)

// syncBuf is a goroutine-safe byte sink standing in for the PTY master.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// safeRow: text and SGR only.
var safeRow = regexp.MustCompile(`^(?:[^\x00-\x1f\x7f\x{80}-\x{9f}\x{202a}-\x{202e}\x{2066}-\x{2069}]|\x1b\[[0-9;:]*m)*$`)

// The fact the issue states: bare x/vt blocks in Write on a query while
// nobody reads its reply pipe.
func TestFactVTReplyPipeBlocksWrite(t *testing.T) {
	e := vt.NewEmulator(80, 24)
	done := make(chan struct{})
	go func() {
		e.Write([]byte("\x1b[6n"))
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("x/vt answered a query without a reader: the fact changed")
	case <-time.After(200 * time.Millisecond):
	}
	buf := make([]byte, 64)
	n, _ := e.Read(buf)
	<-done
	if !strings.HasSuffix(string(buf[:n]), "R") {
		t.Fatalf("reply %q", buf[:n])
	}
}

// The fact the issue states: x/vt's Render passes OSC 8 links through.
func TestFactVTRenderPassesHyperlinks(t *testing.T) {
	e := vt.NewEmulator(40, 2)
	e.Write([]byte("\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\"))
	if !strings.Contains(e.Render(), "\x1b]8;") {
		t.Fatal("Render no longer emits OSC 8: the fact changed")
	}
}

// Queries are answered while no pane reads the Term, even a flood of them
// in one Write (no deadlock), and in order.
func TestTermAnswersQueriesUnattended(t *testing.T) {
	var out syncBuf
	term := New(Options{Cols: 80, Rows: 24, Reply: &out})
	defer term.Close()
	term.Write(bytes.Repeat([]byte("\x1b[c"), 2000))
	term.Write([]byte("ab\x1b[6n"))
	waitFor(t, "replies", func() bool { return strings.HasSuffix(out.String(), "\x1b[1;3R") })
	if n := strings.Count(out.String(), "\x1b[?"); n != 2000 {
		t.Fatalf("%d device-attribute replies, want 2000", n)
	}
}

func TestTermSnapshotCellsSGRCursor(t *testing.T) {
	term := New(Options{Cols: 20, Rows: 3})
	defer term.Close()
	term.Write([]byte("\x1b[31mred\x1b[0m plain \x1b[1;38;5;200mX\x1b[m\r\n\x1b[44m  \x1b[m\x1b[38;2;1;2;3mrgb\x1b[m\x1b[?25l"))
	s := term.Snapshot()
	want := []string{
		"\x1b[0;31mred\x1b[0m plain \x1b[0;1;38;5;200mX\x1b[m",
		"\x1b[0;44m  \x1b[0;38;2;1;2;3mrgb\x1b[m",
		"",
	}
	for i := range want {
		if s.Lines[i] != want[i] {
			t.Errorf("row %d = %q, want %q", i, s.Lines[i], want[i])
		}
	}
	if s.Cols != 20 || s.Rows != 3 || s.CursorX != 5 || s.CursorY != 1 || s.CursorVisible || s.AltScreen {
		t.Fatalf("snapshot state %+v", s)
	}
	term.Write([]byte("\x1b[?1049h\x1b[?25h"))
	if s := term.Snapshot(); !s.AltScreen || !s.CursorVisible || s.Lines[0] != "" {
		t.Fatalf("alt screen: %+v", s)
	}
	term.Resize(30, 5)
	if s := term.Snapshot(); s.Cols != 30 || s.Rows != 5 || len(s.Lines) != 5 {
		t.Fatalf("after resize %dx%d, %d lines", s.Cols, s.Rows, len(s.Lines))
	}
}

// Everything a hostile child can send besides text and colour is absorbed:
// the snapshot and scrollback hold text and SGR only, the title is clean
// and goes to the callback, queries are answered to the child.
func TestTermAbsorbsHostileOutput(t *testing.T) {
	var out syncBuf
	var mu sync.Mutex
	var titles, logged []string
	term := New(Options{Cols: 40, Rows: 5, Reply: &out,
		OnTitle: func(s string) { mu.Lock(); titles = append(titles, s); mu.Unlock() },
		OnLine:  func(s string) { mu.Lock(); logged = append(logged, s); mu.Unlock() },
	})
	defer term.Close()
	// The last title set, as OnTitle (called within Write) saw it.
	title := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(titles) == 0 {
			return ""
		}
		return titles[len(titles)-1]
	}
	hostile := strings.Join([]string{
		"\x1b]0;ev\u202eil\u0085\x07",                          // title with a bidi override and a C1
		"\x1b]2;t2\u202e\x07",                                  // title with a bidi override
		"\x1b]52;c;ZWNobyBwd25lZA==\x07",                       // clipboard write
		"\x1b]52;c;?\x07",                                      // clipboard read
		"\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\", // hyperlink
		"\x1bP1$qm\x1b\\",                                      // DCS (DECRQSS)
		"\x1bPq#0;2;0;0;0#0~~@@vv\x1b\\",                       // DCS sixel
		"\x1b_Gf=24,s=1,v=1;AAAA\x1b\\",                        // APC (kitty graphics)
		"\x1b^privacy\x1b\\",                                   // PM
		"\x1bXsos\x1b\\",                                       // SOS
		"\x1b[8;100;300t\x1b[21t\x1b[14t\x1b[2t",               // window ops and reports
		"\x1b[c\x1b[>c\x1b[5n\x1b[6n\x1b[?2004$p",              // device queries
		"\x1b]10;?\x07\x1b]11;?\x07",                           // colour queries
		"a\u202eb\u2066c\u0085d\x7fe\r\n",                      // bidi, C1 and DEL in text
		strings.Repeat("E", 40),                                // a full row
		"\x1b[2J\x1b[3J\x1b[H",                                 // scroll it away
		"1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7",
	}, "")
	term.Write([]byte("\x1b]0;ev\u202eil\x1b[31m\x07")) // ESC ends the OSC
	if got := title(); got != "evil" {
		t.Errorf("title %q from an OSC cut by ESC, want evil", got)
	}
	term.Write([]byte("\x1b]0;ev\u202eil\u0085\tx\x07")) // bidi, C1, tab
	if got := title(); got != "evilx" {                  // x/vt drops the tab
		t.Errorf("title %q, want %q", got, "evilx")
	}
	term.Write([]byte(hostile))
	s := term.Snapshot()
	if s.Cols != 40 || s.Rows != 5 {
		t.Fatalf("window op resized the screen to %dx%d", s.Cols, s.Rows)
	}
	hist := term.ScrollbackLines(nil, 0, term.ScrollbackLen())
	for _, row := range append(append([]string{}, s.Lines...), hist...) {
		if !safeRow.MatchString(row) {
			t.Errorf("unsafe row %q", row)
		}
		if strings.Contains(row, "ev") || strings.Contains(row, "ZWNo") {
			t.Errorf("sequence payload on screen: %q", row)
		}
	}
	all := strings.Join(hist, "\n")
	if !strings.Contains(all, "link") || !strings.Contains(all, "abcde") {
		t.Errorf("text lost: scrollback %q", all)
	}
	if !strings.Contains(all, strings.Repeat("E", 40)) {
		t.Errorf("full row not in the scrollback after ED 2 + ED 3: %q", all)
	}
	if got := title(); got != "t2" {
		t.Errorf("title %q, want t2", got)
	}
	mu.Lock()
	if strings.Join(titles, ",") != "evil,evilx,t2" {
		t.Errorf("titles %q", titles)
	}
	if len(logged) == 0 || logged[0] != "linkabcde" {
		t.Errorf("logged %q", logged)
	}
	mu.Unlock()
	// Answered: primary and secondary DA, status, cursor position, mode.
	waitFor(t, "replies", func() bool {
		o := out.String()
		return strings.Contains(o, "\x1b[?") && strings.Contains(o, "\x1b[>") &&
			strings.Contains(o, "0n") && strings.Contains(o, "R") && strings.Contains(o, "$y")
	})
	o := out.String()
	if strings.Contains(o, "evil") || strings.Contains(o, "t2") || strings.Contains(o, "ZWNo") {
		t.Errorf("reply echoes child data back: %q", o)
	}
}

// Lines scrolled off the main screen go to the scrollback (with SGR); each
// line goes to OnLine (plain) once, when its line feed finishes it; the
// alternate screen keeps none; the cap holds.
func TestTermScrollback(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	term := New(Options{Cols: 20, Rows: 4, ScrollbackBytes: 64 * 1024,
		OnLine: func(s string) { mu.Lock(); logged = append(logged, s); mu.Unlock() }})
	defer term.Close()
	if !term.altOff {
		t.Fatal("the alternate screen's scrollback could not be turned off (x/vt changed)")
	}
	var in bytes.Buffer
	for i := range 3000 {
		in.WriteString("\x1b[32mline\x1b[m ")
		in.WriteString(strings.Repeat("x", i%7))
		in.WriteString(" \r\n")
	}
	term.Write(in.Bytes())
	mu.Lock()
	if len(logged) != 3000 || logged[0] != "line" || logged[1] != "line x" {
		t.Fatalf("%d lines logged, first %q", len(logged), logged[:2])
	}
	mu.Unlock()
	n := term.ScrollbackLen()
	if n == 0 || n >= 2997 {
		t.Fatalf("scrollback holds %d lines under a 64 KiB cap", n)
	}
	last := term.ScrollbackLines(nil, n-1, n)
	// The last line pushed is number 2996, and 2996 % 7 == 0: no x.
	if last[0] != "\x1b[0;32mline\x1b[m" {
		t.Fatalf("last scrollback line %q", last[0])
	}
	// Alternate screen: scrolling there adds nothing.
	term.Write([]byte("\x1b[?1049h"))
	term.Write(bytes.Repeat([]byte("alt\r\n"), 100))
	if term.ScrollbackLen() != n {
		t.Fatalf("alternate screen scrolled into the scrollback: %d -> %d", n, term.ScrollbackLen())
	}
	if term.emu.Scrollback().Len() != 0 {
		t.Fatal("x/vt's scrollback not drained")
	}
}

func TestTermKeysFollowModes(t *testing.T) {
	var out syncBuf
	term := New(Options{Reply: &out})
	defer term.Close()
	term.Key(Key{Code: KeyUp})
	term.Write([]byte("\x1b[?1h\x1b[?2004h"))
	if app, br := term.Modes(); !app || !br {
		t.Fatalf("modes %v %v", app, br)
	}
	term.Key(Key{Code: KeyUp})
	term.Paste("x\x1b[201~\x1b[20\x1b[201~1~y")
	term.Write([]byte("\x1bc")) // full reset
	term.Key(Key{Code: KeyUp})
	term.Paste("z")
	want := "\x1b[A" + "\x1bOA" + "\x1b[200~xy\x1b[201~" + "\x1b[A" + "z"
	waitFor(t, "keys", func() bool { return len(out.String()) >= len(want) })
	if got := out.String(); got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

// blockingWriter never returns from Write until released: a child that
// stopped reading its terminal.
type blockingWriter struct{ release chan struct{} }

func (b blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

// A child that floods queries and never reads the answers blocks neither
// Write nor input: the queue is capped and input past it is refused.
func TestTermChildNotReadingBlocksNobody(t *testing.T) {
	bw := blockingWriter{release: make(chan struct{})}
	term := New(Options{Reply: bw, InputBytes: 4096})
	done := make(chan struct{})
	go func() {
		term.Write(bytes.Repeat([]byte("\x1b[6n\x1b[c"), 20000))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Write blocked on a child that does not read")
	}
	if term.SendInput(bytes.Repeat([]byte("k"), 8192)) {
		t.Fatal("input past the cap accepted")
	}
	term.in.mu.Lock()
	dropped := term.in.dropped
	term.in.mu.Unlock()
	if dropped == 0 {
		t.Fatal("no reply counted as dropped")
	}
	close(bw.release)
	term.Close()
	if term.SendInput([]byte("x")) {
		t.Fatal("input accepted after Close")
	}
}

// Wide and combined characters come out once, in their columns.
func TestTermSnapshotWideAndCombining(t *testing.T) {
	term := New(Options{Cols: 12, Rows: 2})
	defer term.Close()
	term.Write([]byte("日本|e\u0301|🙂|\r\n\x1b[7m語\x1b[m"))
	s := term.Snapshot()
	if s.Lines[0] != "日本|e\u0301|🙂|" {
		t.Errorf("row 0 = %q", s.Lines[0])
	}
	if s.Lines[1] != "\x1b[0;7m語\x1b[m" || s.CursorX != 2 {
		t.Errorf("row 1 = %q, cursor x %d", s.Lines[1], s.CursorX)
	}
}

// Counts x/vt would loop over unbounded are ignored past the screen's
// size, so a child cannot stall the Term (and the panes drawing it) with a
// few bytes; counts within it still work.
func TestTermHugeCountsIgnored(t *testing.T) {
	term := New(Options{Cols: 10, Rows: 3})
	defer term.Close()
	done := make(chan struct{})
	go func() {
		term.Write([]byte("x\x1b[2147483647b\x1b[2147483647I\x1b[2147483647Z\x1b[2147483647X\x1b[99999999b"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a huge count stalled the Term")
	}
	term.Write([]byte("\x1b[H\x1b[2J" + "y\x1b[3b\x1b[2I|\r\x1b[1Xz"))
	// REP 3 after y, CHT 2 to the last column (tab stop 8, then the
	// margin), ECH 1 at column 0 before z.
	if got := term.Snapshot().Lines[0]; got != "zyyy     |" {
		t.Fatalf("row %q", got)
	}
}

// Modes reports the input modes the child set: application cursor keys
// (DECCKM) and bracketed paste (2004).
func (t *Term) Modes() (appCursor, bracketedPaste bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.appCursor, t.bracketed
}

// ReadFrom feeds the Term from r (the PTY master) until r ends: EOF, or
// the hang-up that IsHangup recognises, which it reports as a nil error.
// The tests' reader goroutine.
func (t *Term) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += int64(k)
			t.Write(buf[:k])
		}
		if err != nil {
			if err == io.EOF || IsHangup(err) {
				return n, nil
			}
			return n, fmt.Errorf("read terminal output: %w", err)
		}
	}
}
