package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

// nastyOutput is output built to break layouts.
func nastyOutput(fb *fakeBackend, name string) uint64 {
	fb.addLines(name, procs.Stdout,
		strings.Repeat("x", 16<<10)+" ↩",
		strings.Repeat("界", 300),
		strings.Repeat("\x1b[1;31mred\x1b[0m and \x1b[38;5;42mgreen ", 40),
		"\x1b[44mopen background never closed "+strings.Repeat("word ", 50),
		"tabs\tin\tthe\tmiddle\t\t\tof\tit"+strings.Repeat("\t", 30)+"end",
		"emoji 👩‍👩‍👧‍👦 family 🇫🇷 flag é combining e\u0301",
		"",
	)
	return fb.addLines(name, procs.Stderr, strings.Repeat("stderr ", 500))
}

func TestNoLineWiderThanTheTerminal(t *testing.T) {
	infos := fixture()
	long := running(strings.Repeat("very-long-unit-name-", 6), 1, 1, 1, time.Second)
	long.Command = strings.Repeat("a-very-long-command ", 30)
	long.Reason = strings.Repeat("a long reason ", 40)
	infos = append([]procs.Info{long}, infos...)
	fb := newFake(infos...)
	last := nastyOutput(fb, long.Name)
	sizes := [][2]int{
		{80, 24}, {120, 40}, {200, 60}, {159, 40}, {160, 40}, {161, 30},
		{30, 8}, {31, 7}, {40, 10}, {60, 15}, {100, 12}, {250, 80}, {29, 24}, {80, 6}, {5, 3}, {1, 1},
	}
	hs := newHarness(t, fb, 80, 24)
	hs.deliver(procs.Batch{Stats: stats(infos), Logs: map[string]uint64{long.Name: last}})
	for _, ts := range []bool{false, true} {
		if ts {
			hs.key("t")
		}
		for _, sz := range sizes {
			hs.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			checkFrame(t, hs.m.View(), sz[0], sz[1])
			// and scrolled, and with the help open, and on another unit
			hs.key("tab", "pgup", "ctrl+u")
			checkFrame(t, hs.m.View(), sz[0], sz[1])
			hs.key("?")
			checkFrame(t, hs.m.View(), sz[0], sz[1])
			hs.key("esc", "tab", "j")
			checkFrame(t, hs.m.View(), sz[0], sz[1])
			hs.key("k")
		}
	}
}

func TestEveryRowOfTheTableIsExactlyItsWidth(t *testing.T) {
	fb := newFake(fixture()...)
	hs := newHarness(t, fb, 80, 24)
	for w := 30; w <= 220; w += 7 {
		hs.send(tea.WindowSizeMsg{Width: w, Height: 30})
		for i, l := range hs.m.table.lines {
			if lw := ansi.StringWidth(l); lw != hs.m.lay.tableW {
				t.Errorf("width %d: table line %d is %d wide, want %d: %q", w, i, lw, hs.m.lay.tableW, ansi.Strip(l))
			}
		}
	}
}

func TestNarrowTablesDropColumns(t *testing.T) {
	hs := newHarness(t, newFake(fixture()...), 50, 20)
	head := strings.Split(hs.screen(), "\n")[1]
	if !strings.Contains(head, "NAME") || !strings.Contains(head, "STATE") || strings.Contains(head, "PID") {
		t.Errorf("50 columns: header %q", head)
	}
	hs.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	head = strings.Split(hs.screen(), "\n")[1]
	for _, c := range []string{"NAME", "STATE", "PID", "CPU%", "MEM", "RESTARTS", "UPTIME"} {
		if !strings.Contains(head, c) {
			t.Errorf("80 columns: header %q lacks %s", head, c)
		}
	}
}

func TestWrapText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"", 10, []string{""}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"a\tb", 10, []string{"a       b"}},
		{"abc\tb", 5, []string{"abc  ", "b"}},
		{"界界界", 5, []string{"界界", "界"}},
		{"\x1b[31mredred\x1b[0m", 3, []string{"\x1b[31mred" + sgrReset, "\x1b[31mred\x1b[0m" + sgrReset}},
		{"\x1b[31mab\x1b[0mcd", 2, []string{"\x1b[31mab\x1b[0m" + sgrReset, "cd"}},
		{"ab\x00c", 10, []string{"abc"}},
	} {
		got := wrapText(nil, tc.in, tc.w)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("wrapText(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
		for _, r := range got {
			if ansi.StringWidth(r) > tc.w {
				t.Errorf("row %q wider than %d", r, tc.w)
			}
		}
	}
}

func TestWrapTextNeverLeaksColour(t *testing.T) {
	in := "\x1b[44mopen background " + strings.Repeat("word ", 40)
	for _, r := range wrapText(nil, in, 17) {
		if !strings.HasSuffix(r, sgrReset) {
			t.Errorf("row %q does not reset its colour", r)
		}
		if !strings.HasPrefix(r, "\x1b[44m") {
			t.Errorf("row %q lost the colour carried over", r)
		}
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.0K", 48 << 20: "48.0M", 101 << 20: "101M", 3 << 30: "3.0G"} {
		if got := humanBytes(in); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{
		0: "0s", 45 * time.Second: "45s", 95 * time.Second: "1m35s", 3*time.Hour + 12*time.Minute: "3h12m",
		(4*24 + 7) * time.Hour: "4d07h", 200 * 24 * time.Hour: "200d",
	} {
		if got := compactDuration(in); got != want {
			t.Errorf("compactDuration(%v) = %q, want %q", in, got, want)
		}
	}
	if got := grouped(1234567); got != "1,234,567" {
		t.Errorf("grouped = %q", got)
	}
}
