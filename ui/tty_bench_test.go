package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
	vt "github.com/kelpie-dev/kelpie/vterm"
)

// BenchmarkTTYKeyToFrame is a key typed into a tty unit's pane until the
// frame shows it: Update, the Keys command (a fake engine that echoes the
// key into the screen's last row), the screen fetched after it, the frame
// built. The pane is 200x56 of colourful rows (an htop), beside 999 other
// units; under "flood" the unit's screen changes and its log grows between
// any two keys (a batch announcing its lines, a new top row). p50-us and
// p99-us are the latencies per key.
func BenchmarkTTYKeyToFrame(b *testing.B) {
	for _, flood := range []bool{false, true} {
		name := "idle"
		if flood {
			name = "flood"
		}
		b.Run(name, func(b *testing.B) { benchKeyToFrame(b, flood) })
	}
}

func benchKeyToFrame(b *testing.B, flood bool) {
	sh := running("shell", 4300, 0.1, 4<<20, time.Minute)
	sh.TTY = true
	infos := []procs.Info{sh}
	for i := range 999 {
		infos = append(infos, running(fmt.Sprintf("svc-%04d", i), 10000+i, 1, 1<<20, time.Minute))
	}
	fb := newFake(infos...)
	fb.echo = true
	lines := make([]string, 56)
	for i := range lines[:55] {
		lines[i] = fmt.Sprintf("\x1b[0;32m%5d\x1b[0m root \x1b[0;1;34m%4.1f\x1b[0m %s", 1000+i, float64(i)/3, strings.Repeat("▇", i%60))
	}
	lines[55] = "$ "
	screen := procs.Screen{Snapshot: vt.Snapshot{Cols: 200, Rows: 56, Lines: lines, CursorX: 2, CursorY: 55, CursorVisible: true}}
	fb.setScreen("shell", screen)
	hs := newHarness(b, fb, 200, 60)
	hs.key("i")
	if !hs.m.tty.typing.on {
		b.Fatal("not typing")
	}
	lat := make([]time.Duration, 0, 4096)
	n := 0
	var seq uint64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if n%100 == 0 { // a fresh prompt line now and then
			fb.setScreen("shell", screen)
		}
		if flood {
			s, _ := fb.Screen("shell")
			s.Lines[0] = fmt.Sprintf("\x1b[0;33mflood line %d\x1b[0m", n)
			fb.setScreen("shell", s)
			seq += 100
			hs.deliver(procs.Batch{Logs: map[string]uint64{"shell": seq}})
		}
		b.StartTimer()
		r := rune('a' + n%26)
		n++
		start := time.Now()
		hs.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		lat = append(lat, time.Since(start))
		if row := hs.m.tty.scr.Lines[55]; !strings.HasSuffix(row, string(r)) {
			b.Fatalf("the frame does not show the key %q: %q", r, row)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-us")
}

// BenchmarkTTYIdleFetch is what an idle full-screen program's pane costs
// per fetch on a tick: the tick through Update, the Screen command (a fake
// engine: a copy of 56 rows), the screen found unchanged (no frame).
func BenchmarkTTYIdleFetch(b *testing.B) {
	fb := ttyFake()
	lines := make([]string, 56)
	for i := range lines {
		lines[i] = fmt.Sprintf("\x1b[0;32m%5d\x1b[0m root \x1b[0;1;34m%4.1f\x1b[0m %s", 1000+i, float64(i)/3, strings.Repeat("▇", i%60))
	}
	fb.setScreen("shell", procs.Screen{Snapshot: vt.Snapshot{Cols: 200, Rows: 56, Lines: lines}})
	hs := newHarness(b, fb, 200, 60)
	m := hs.m
	renders := m.renders
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t := &m.tty
		nm, cmd := m.Update(ttyTickMsg{tag: t.tickTag})
		m = nm.(Model)
		msg := cmd()
		if bm, ok := msg.(tea.BatchMsg); ok {
			for _, c := range bm {
				if c != nil {
					if r := c(); r != nil {
						msg = r
					}
				}
			}
		}
		nm, _ = m.Update(msg)
		m = nm.(Model)
	}
	b.StopTimer()
	if m.renders != renders {
		b.Fatalf("an unchanged screen built %d frames", m.renders-renders)
	}
}
