package ui

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// pipeReader is an answerReader over a pipe the test writes the
// terminal's side into.
func pipeReader(t *testing.T) (*answerReader, *os.File, *[]bool) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	var got []bool
	ar := newAnswerReader(r, func(dark bool) { got = append(got, dark) })
	return ar, w, &got
}

func readOnce(t *testing.T, ar *answerReader, w *os.File, chunk string) string {
	t.Helper()
	if _, err := w.WriteString(chunk); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := ar.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestAnswersAreTakenOutOfTheKeys(t *testing.T) {
	ar, w, got := pipeReader(t)
	// Keys around a light background's answer and the DA1 that ends them.
	if s := readOnce(t, ar, w, "x\x1b]11;rgb:ffff/ffff/ffff\x07y\x1b[A"); s != "xy\x1b[A" {
		t.Fatalf("read %q", s)
	}
	if len(*got) != 1 || (*got)[0] {
		t.Fatalf("answers %v, want one light", *got)
	}
	if s := readOnce(t, ar, w, "\x1b[?62;22cz"); s != "z" || !ar.done {
		t.Fatalf("read %q done %v", s, ar.done)
	}
	// Once DA1 came, the input passes untouched.
	if s := readOnce(t, ar, w, "\x1b]11;rgb:0/0/0\x07"); s != "\x1b]11;rgb:0/0/0\x07" {
		t.Fatalf("after DA1 read %q", s)
	}
}

func TestAnAnswerSplitAcrossReadsIsNotKeys(t *testing.T) {
	ar, w, got := pipeReader(t)
	if s := readOnce(t, ar, w, "a\x1b]11;rgb:1e1e/1e"); s != "a" {
		t.Fatalf("read %q", s)
	}
	if s := readOnce(t, ar, w, "1e/1e1e\x1b\\b"); s != "b" {
		t.Fatalf("read %q", s)
	}
	// Split right after the ESC: the ESC goes out (the esc key), the body
	// does not.
	if s := readOnce(t, ar, w, "c\x1b"); s != "c\x1b" {
		t.Fatalf("read %q", s)
	}
	if s := readOnce(t, ar, w, "[?1;2"); s != "" {
		t.Fatalf("read %q", s)
	}
	if s := readOnce(t, ar, w, "cd"); s != "d" {
		t.Fatalf("read %q", s)
	}
	if len(*got) != 1 || !(*got)[0] {
		t.Fatalf("answers %v, want one dark", *got)
	}
}

func TestAnswerWindowCloses(t *testing.T) {
	ar, w, _ := pipeReader(t)
	ar.now = func() time.Time { return ar.until.Add(time.Second) }
	if s := readOnce(t, ar, w, "\x1b[?62c"); s != "\x1b[?62c" {
		t.Fatalf("after the window read %q", s)
	}
}

func TestParseBackground(t *testing.T) {
	for in, want := range map[string]bool{
		"rgb:0000/0000/0000": true, "rgb:ffff/ffff/ffff": false, "rgb:ff/ff/ff": false,
		"rgb:1e1e/1e1e/2e2e": true, "#fdf6e3": false, "rgba:0000/0000/0000/ffff": true,
	} {
		dark, ok := parseBackground(in)
		if !ok || dark != want {
			t.Errorf("%s: dark %v ok %v", in, dark, ok)
		}
	}
	for _, bad := range []string{"", "rgb:", "rgb:12/34", "rgb:zz/zz/zz", "red"} {
		if _, ok := parseBackground(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestFirstFrameDoesNotWaitForTheBackground: the screen draws in the dark
// palette before the terminal has said anything; a light answer redraws
// it in the light one.
func TestFirstFrameDoesNotWaitForTheBackground(t *testing.T) {
	t.Cleanup(func() { lipgloss.SetHasDarkBackground(true) })
	var out sbuf
	scr := newScreen(&out)
	defer scr.close()
	fb := newFake(fixture()...)
	var f tea.Model = &framed{Model: New(fb, Options{Now: func() time.Time { return epoch }}), scr: scr}
	f, _ = f.Update(subscribedMsg{infos: fb.infos, sub: fb.sub})
	f, _ = f.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	f.View()
	scr.idle() // the writer draws from its own goroutine
	first := out.String()
	if !strings.Contains(first, "api") {
		t.Fatalf("no first frame before the answer: %q", first)
	}
	darkRun := f.(*framed).pal.rows[rowNormal].state[toneRunning].open
	if !strings.Contains(first, darkRun) {
		t.Fatal("the first frame is not in the dark palette")
	}
	out.Reset()
	f, _ = f.Update(backgroundMsg{dark: false})
	scr.expectKey() // draw at once rather than after the frame gap
	f.View()
	scr.idle()
	lightRun := f.(*framed).pal.rows[rowNormal].state[toneRunning].open
	if lightRun == darkRun || !strings.Contains(out.String(), lightRun) {
		t.Fatalf("a light answer did not repaint in the light palette: %q", out.String())
	}
}
