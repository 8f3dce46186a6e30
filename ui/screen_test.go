package ui

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// sbuf is a bytes.Buffer the screen's writer and a test can share.
type sbuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *sbuf) Write(p []byte) (int, error) { b.mu.Lock(); defer b.mu.Unlock(); return b.b.Write(p) }
func (b *sbuf) String() string              { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }
func (b *sbuf) Len() int                    { b.mu.Lock(); defer b.mu.Unlock(); return b.b.Len() }
func (b *sbuf) Reset()                      { b.mu.Lock(); defer b.mu.Unlock(); b.b.Reset() }

// submitNow submits a frame and waits until the writer has written what it
// will write now.
func submitNow(s *screen, frame string) {
	s.submit(frame)
	s.idle()
}

// noGap lets the next frame out at once, as the end of the gap does.
func noGap(s *screen) {
	s.mu.Lock()
	s.last = time.Time{}
	s.mu.Unlock()
}

func TestScreenDrawsOnlyChangedLines(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	defer s.close()
	s.resize(10, 3)
	submitNow(s, "aaa\nbbb\nccc")
	first := out.String()
	for _, want := range []string{seqClear, "\x1b[1;1H" + seqEraseLine + "aaa", "\x1b[2;1H" + seqEraseLine + "bbb", "\x1b[3;1H" + seqEraseLine + "ccc"} {
		if !strings.Contains(first, want) {
			t.Fatalf("first frame lacks %q: %q", want, first)
		}
	}
	// The same frame again writes nothing.
	out.Reset()
	noGap(s)
	submitNow(s, "aaa\nbbb\nccc")
	if out.Len() != 0 {
		t.Fatalf("an unchanged frame wrote %q", out.String())
	}
	// One changed line: only it is written, without a clear.
	submitNow(s, "aaa\nBBB\nccc")
	got := out.String()
	if strings.Contains(got, seqClear) || strings.Contains(got, "aaa") || !strings.Contains(got, "\x1b[2;1H"+seqEraseLine+"BBB") {
		t.Fatalf("partial redraw wrote %q", got)
	}
}

func TestScreenHoldsBurstsToTheFrameGap(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	defer s.close()
	s.mu.Lock()
	s.gap = time.Hour // the gap ends when the test says so
	s.mu.Unlock()
	s.resize(10, 1)
	submitNow(s, "one")
	out.Reset()
	submitNow(s, "two") // within frameGap of the first: held back
	s.mu.Lock()
	held := s.held
	s.mu.Unlock()
	if out.Len() != 0 || !held {
		t.Fatalf("drew %q at once, held %v", out.String(), held)
	}
	s.submit("three") // replaces the held frame
	s.mu.Lock()
	s.gap = 0 // what the end of the gap does
	s.mu.Unlock()
	s.poke()
	s.idle()
	if got := out.String(); strings.Contains(got, "two") || !strings.Contains(got, "three") {
		t.Fatalf("flush wrote %q", got)
	}
}

func TestScreenErasesEachRowBeforeDrawingIt(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	s.resize(3, 2)
	submitNow(s, "abc\nd")
	got := out.String()
	// Full-width or not, a row is erased whole first: nothing of the old
	// row stays where the terminal draws the new one narrower than kelpie
	// measured (an emoji sequence), and no erase follows a full-width line.
	for _, want := range []string{"\x1b[1;1H" + seqEraseLine + "abc" + seqReset, "\x1b[2;1H" + seqEraseLine + "d" + seqReset} {
		if !strings.Contains(got, want) {
			t.Fatalf("frame lacks %q: %q", want, got)
		}
	}
	if strings.Contains(got, "\x1b[K") {
		t.Fatalf("erased after a line: %q", got)
	}
	s.close()
	out.Reset()
	submitNow(s, "zzz")
	if out.Len() != 0 {
		t.Fatal("drew after close")
	}
}

func TestScreenAutowrapOffWhileUp(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	s.open()
	s.idle()
	if got := out.String(); !strings.Contains(got, "\x1b[?7l") || !strings.Contains(got, "\x1b[?2004h") {
		t.Fatalf("open wrote %q: want autowrap off and bracketed paste on", got)
	}
	out.Reset()
	s.close()
	s.close() // a second close (the deferred one after a panic) writes nothing more
	got := out.String()
	if strings.Count(got, "\x1b[?7h") != 1 || strings.Count(got, "\x1b[?2004l") != 1 {
		t.Fatalf("close wrote %q: want autowrap and paste mode restored once", got)
	}
	if i, j := strings.Index(got, "\x1b[?7h"), strings.Index(got, "\x1b[?1049l"); i > j {
		t.Fatalf("autowrap restored after leaving the alternate screen: %q", got)
	}
}

func TestScreenRedrawRepaintsEverything(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	defer s.close()
	s.mu.Lock()
	s.gap = time.Hour // a redraw must not wait for it
	s.mu.Unlock()
	s.resize(10, 2)
	submitNow(s, "aaa\nbbb")
	out.Reset()
	s.redraw()
	submitNow(s, "aaa\nbbb") // the same frame: drawn whole, at once, after a clear
	got := out.String()
	if !strings.Contains(got, seqClear) || !strings.Contains(got, "aaa") || !strings.Contains(got, "bbb") {
		t.Fatalf("redraw wrote %q", got)
	}
}

func TestScreenWritesOnlyTextAndColour(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	defer s.close()
	s.resize(40, 1)
	submitNow(s, "\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07x \u009b2J y \x1b[2J z \x9b")
	got := out.String()
	for _, bad := range []string{"\x1b]", "\u009b", "\x1b[2J z", "\x9b"} {
		if strings.Contains(got, bad) {
			t.Fatalf("frame wrote %q: %q", bad, got)
		}
	}
	if !strings.Contains(got, "\x1b[31mred") {
		t.Fatalf("colour lost: %q", got)
	}
}

func TestScreenDrawsAKeysFrameAtOnce(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	defer s.close()
	s.mu.Lock()
	s.gap = time.Hour
	s.mu.Unlock()
	s.resize(10, 1)
	submitNow(s, "one") // a frame just went out
	out.Reset()
	s.expectKey()
	submitNow(s, "two") // inside frameGap, but it answers a key
	if !strings.Contains(out.String(), "two") {
		t.Fatalf("a key's frame waited: %q", out.String())
	}
	out.Reset()
	submitNow(s, "three") // output again: held back
	if out.Len() != 0 {
		t.Fatalf("drew %q inside the gap", out.String())
	}
}

// A frame of output held in the gap while a key is being handled must not
// take the key's mark: the key's own frame is still drawn at once.
func TestHeldOutputFrameDoesNotTakeTheKeysMark(t *testing.T) {
	var out sbuf
	s := newScreen(&out)
	defer s.close()
	s.mu.Lock()
	s.gap = time.Hour
	s.mu.Unlock()
	s.resize(10, 1)
	submitNow(s, "one") // a frame just went out
	submitNow(s, "out") // output: held in the gap
	out.Reset()
	s.expectKey() // a key arrives; the writer may take the held frame now
	s.poke()
	s.idle()
	submitNow(s, "key") // the key's frame
	if !strings.Contains(out.String(), "key") {
		t.Fatalf("the key's frame waited out the gap: %q", out.String())
	}
}

// stallWriter is a terminal that takes nothing until released (ssh over a
// dead link): its first Write blocks.
type stallWriter struct {
	entered, release chan struct{}
	once             sync.Once
	out              sbuf // what got through once released
}

func (w *stallWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return w.out.Write(p)
}

// TestStalledTerminalNeverBlocksAKey: while the terminal takes nothing, keys
// still change the model's state and every View returns; once it takes
// again, the newest frame is drawn and the ones in between are not.
func TestStalledTerminalNeverBlocksAKey(t *testing.T) {
	w := &stallWriter{entered: make(chan struct{}), release: make(chan struct{})}
	scr := newScreen(w)
	defer scr.close()
	var f tea.Model = &framed{Model: New(newFake(fixture()...), Options{}), scr: scr}
	f, _ = f.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	f.View()
	select {
	case <-w.entered: // the writer is stuck in its first write
	case <-time.After(10 * time.Second):
		close(w.release)
		t.Fatal("the writer never wrote")
	}
	done := make(chan tea.Model)
	go func() {
		g := f
		for _, k := range []string{"?", "esc", "@", "?"} {
			g, _ = g.Update(keyMsg(k))
			g.View()
		}
		g, _ = g.Update(mouseMsg(true)) // what "@" asks of the screen
		g.View()
		done <- g
	}()
	select {
	case g := <-done:
		m := g.(*framed).Model
		if !m.helpOpen || !m.mouse {
			t.Fatalf("keys did not apply: help %v, mouse %v", m.helpOpen, m.mouse)
		}
		f = g
	case <-time.After(10 * time.Second):
		close(w.release)
		t.Fatal("a key waited for the stalled terminal")
	}
	// Released: the writer catches up with the newest frame only.
	close(w.release)
	scr.idle()
	got := w.out.String()
	if !strings.Contains(got, seqMouseOn) {
		t.Fatalf("the mouse sequence was lost: %q", got)
	}
	if n := strings.Count(got, seqClear); n != 1 {
		t.Fatalf("%d full frames drawn after the stall, want the first and then only changes", n)
	}
	if !strings.Contains(ansi.Strip(got), "close help") {
		t.Fatalf("the newest frame (help open) was not drawn: %q", got)
	}
}

// TestScreenSuspendGivesTheTerminalBack: suspend restores the terminal and
// holds frames; resume sets it up again (mouse included) and draws the
// whole frame; ctrl+z runs the suspend whatever has the keyboard.
func TestScreenSuspendGivesTheTerminalBack(t *testing.T) {
	var out sbuf
	scr := newScreen(&out)
	defer scr.close()
	ran := 0
	var f tea.Model = &framed{Model: New(newFake(), Options{}), scr: scr,
		suspend: func() tea.Msg { ran++; return nil }}
	f, _ = f.Update(tea.WindowSizeMsg{Width: 20, Height: 3})
	f.View()
	scr.setMouse(true)
	scr.idle()
	out.Reset()
	scr.suspend()
	if got := out.String(); !strings.Contains(got, seqLeave) {
		t.Fatalf("suspend wrote %q", got)
	}
	out.Reset()
	scr.redraw()
	submitNow(scr, "held")
	if out.Len() != 0 {
		t.Fatalf("drew while suspended: %q", out.String())
	}
	scr.resume()
	scr.idle()
	got := out.String()
	for _, want := range []string{seqEnter, seqMouseOn, seqClear, "held"} {
		if !strings.Contains(got, want) {
			t.Fatalf("resume lacks %q: %q", want, got)
		}
	}
	for _, k := range []string{"/", "ctrl+z"} { // in the filter input too
		var cmd tea.Cmd
		msg := keyMsg(k)
		if k == "ctrl+z" {
			msg = tea.KeyMsg{Type: tea.KeyCtrlZ}
		}
		f, cmd = f.Update(msg)
		if k == "ctrl+z" && cmd != nil {
			cmd()
		}
	}
	if ran != 1 {
		t.Fatalf("ctrl+z ran the suspend %d times", ran)
	}
}
