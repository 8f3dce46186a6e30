package ui

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/kelpie-dev/kelpie/procs"
)

const ellipsis = "…"

// blanks is sliced for padding so padding never allocates.
var blanks = strings.Repeat(" ", 512)

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	if n <= len(blanks) {
		return blanks[:n]
	}
	return strings.Repeat(" ", n)
}

// isPlainASCII reports whether s is printable ASCII only, so its width is len(s).
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// width is the display width of s (escape sequences count zero).
func width(s string) int {
	if isPlainASCII(s) {
		return len(s)
	}
	return ansi.StringWidth(s)
}

// truncate cuts s to at most w cells, ending with "…" when it cut.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if isPlainASCII(s) {
		if len(s) <= w {
			return s
		}
		return s[:w-1] + ellipsis
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, ellipsis)
}

// fit truncates or pads s to exactly w cells; right aligns it to the right.
func fit(s string, w int, right bool) string {
	s = truncate(s, w)
	pad := w - width(s)
	if pad <= 0 {
		return s
	}
	if right {
		return spaces(pad) + s
	}
	return s + spaces(pad)
}

// humanBytes renders a byte count compactly: 812K, 12.3M, 1.2G.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + "B"
	}
	v := float64(n)
	suffix := "KMGTPE"
	i := -1
	for v >= unit && i < len(suffix)-1 {
		v /= unit
		i++
	}
	if v >= 99.95 {
		return strconv.FormatFloat(v, 'f', 0, 64) + suffix[i:i+1]
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + suffix[i:i+1]
}

// percent renders a CPU percentage: 0.0 to 99.9 with one decimal, then whole.
func percent(v float64) string {
	if v < 0 {
		v = 0
	}
	if v >= 99.95 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// compactDuration renders an uptime in at most two units: 45s, 12m03s, 3h12m, 4d07h.
func compactDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m" + two(s%60) + "s"
	case s < 86400:
		return strconv.FormatInt(s/3600, 10) + "h" + two(s%3600/60) + "m"
	case s < 100*86400:
		return strconv.FormatInt(s/86400, 10) + "d" + two(s%86400/3600) + "h"
	default:
		return strconv.FormatInt(s/86400, 10) + "d"
	}
}

func two(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// shortDuration renders how long a run lasted: 0.3s, 12s, 3m05s.
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return compactDuration(d)
}

// countdown is the whole seconds left until t, rounded up.
func countdown(t, now time.Time) int64 {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// grouped renders n with thin thousands separators: 1 234 567.
func grouped(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// stateText describes a unit's state for the STATE column: a glyph, words
// and the colour family (toneOf the state; an exit with a failing code is
// coloured as a crash).
func stateText(in *procs.Info, now time.Time) (glyph, words string, tone stateTone) {
	glyph, words, tone = "◌", string(in.State), toneOf(in.State)
	switch in.State {
	case procs.Running:
		glyph = "●"
		if in.Ready {
			// Its own mark: running is not ready (a probe, a cluster
			// member's listen, {"ready":true} or sd_notify said so).
			words = "running ✓ ready"
		}
	case procs.Starting, procs.Stopping, procs.Waiting:
		// Waiting for its dependencies: the pane's reason says which.
	case procs.Backoff:
		if !in.NextStart.IsZero() {
			words += " " + strconv.FormatInt(countdown(in.NextStart, now), 10) + "s"
		}
	case procs.Crashed:
		glyph = "✖"
		if end := endedBy(in); end != "" {
			words += " " + end
		}
	case procs.Exited:
		glyph = "✔"
		if end := endedBy(in); end != "" {
			words += " " + strings.TrimPrefix(end, "exit ")
		}
		if !in.StartedAt.IsZero() && in.ExitedAt.After(in.StartedAt) {
			words += " (" + shortDuration(in.ExitedAt.Sub(in.StartedAt)) + ")"
		}
		if in.ExitCode != nil && *in.ExitCode != 0 {
			glyph, tone = "✖", toneCrashed
		}
	case procs.Stopped:
		glyph = "■"
	case procs.Stuck:
		// A worker that did not return when asked: it cannot be killed,
		// and says so in its reason.
		glyph = "!"
	case procs.Paused:
		// "‖" rather than the emoji-capable ⏸, which terminals draw one or
		// two cells wide.
		glyph = "‖"
	default:
		glyph, words = "?", safe(string(in.State))
	}
	return glyph, words, tone
}

// unitNote is what the table's COMMAND cell and the pane's title say
// before the command: what a waiting unit waits for, the unit's own
// sd_notify STATUS text and a scheduled unit's next run. The reason and
// status are made safe where the row stores them.
func unitNote(in *procs.Info, now time.Time) string {
	var parts []string
	if in.State == procs.Waiting && in.Reason != "" {
		parts = append(parts, in.Reason)
	}
	if in.Status != "" {
		parts = append(parts, "“"+in.Status+"”")
	}
	if !in.NextRun.IsZero() {
		parts = append(parts, "next "+nextRunText(in.NextRun, now))
	}
	return strings.Join(parts, " · ")
}

// nextRunText says when a scheduled run is due: the time of day within a
// day, the weekday too within a week, else the date.
func nextRunText(t, now time.Time) string {
	t = t.Local()
	switch d := t.Sub(now); {
	case d < 24*time.Hour && t.Second() == 0:
		return t.Format("15:04")
	case d < 24*time.Hour:
		return t.Format("15:04:05")
	case d < 7*24*time.Hour:
		return t.Format("Mon 15:04")
	}
	return t.Format("Jan 2 15:04")
}

// endedBy says how the last run ended: "exit 1", "SIGKILL" or "".
func endedBy(in *procs.Info) string {
	switch {
	case in.Signal != "":
		return safe(in.Signal)
	case in.ExitCode != nil:
		return "exit " + strconv.Itoa(*in.ExitCode)
	}
	return ""
}

// toneOf gives the colour family of a state without rendering its words.
func toneOf(s procs.State) stateTone {
	switch s {
	case procs.Running:
		return toneRunning
	case procs.Starting, procs.Stopping, procs.Backoff, procs.Waiting:
		return toneStarting
	case procs.Crashed, procs.Stuck:
		return toneCrashed
	case procs.Exited:
		return toneExited
	case procs.Paused:
		return tonePaused
	}
	return toneStopped
}

// shownReason is the unit's reason as the pane shows it. A unit that is no
// longer in backoff (stopped meanwhile, say) keeps the words of its last
// failure but not its "restarting in": nothing is going to restart it.
func shownReason(in *procs.Info) string {
	r := in.Reason
	if in.State == procs.Backoff {
		return r
	}
	if i := strings.Index(r, "; restarting in "); i >= 0 {
		return r[:i]
	}
	if strings.HasPrefix(r, "restarting in ") {
		return ""
	}
	return r
}

// safe makes outside text (a unit's name from the config, a process name or
// argv from /proc, an error quoting a file name) fit for one line of the
// screen: procs.Clean takes out every control sequence but colour, and safe
// then takes out the colour too (a name's colour would fight the row's
// style), C1 controls, line breaks and bytes that are not UTF-8. Printable
// ASCII, nearly every name, costs one scan.
func safe(s string) string {
	if isPlainASCII(s) {
		return s
	}
	if strings.ContainsAny(s, "\r\n\t") {
		// Line breaks and tabs become spaces: procs.Clean would drop a
		// line break (gluing words) and take a CR as "rewind the line".
		s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	}
	s = procs.Clean(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b { // only SGR is left: ESC [ params m
			j := i + 1
			if j < len(s) && s[j] == '[' {
				for j++; j < len(s) && s[j] != 'm'; j++ {
				}
			}
			i = j + 1
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteRune(utf8.RuneError)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// controls left by an older sanitiser: dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// termSafe is the screen's last guard on a line about to be written: what
// it returns is printable text and SGR colour only (procs.Clean), with no
// C1 controls and no bytes that are not UTF-8, which some terminals would
// act on.
func termSafe(line string) string {
	if termClean(line) { // every frame's lines, nearly always: no copy
		return line
	}
	line = procs.Clean(line)
	if utf8.ValidString(line) && !hasC1(line) {
		return line
	}
	var b strings.Builder
	b.Grow(len(line))
	for i := 0; i < len(line); {
		r, n := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteRune(utf8.RuneError)
		case r >= 0x80 && r <= 0x9f:
		default:
			b.WriteString(line[i : i+n])
		}
		i += n
	}
	return b.String()
}

// termClean reports whether line is already what termSafe returns:
// printable UTF-8 (tabs allowed) and complete SGR sequences, no C1.
func termClean(s string) bool {
	if !utf8.ValidString(s) || hasC1(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != 0x7f || c == '\t' {
			continue // UTF-8 continuation bytes are >= 0x80 too
		}
		if c != 0x1b || i+1 >= len(s) || s[i+1] != '[' {
			return false
		}
		j := i + 2
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
			j++
		}
		if j >= len(s) || s[j] != 'm' {
			return false
		}
		i = j
	}
	return true
}

// hasC1 reports whether s holds a C1 control encoded as UTF-8 (C2 80..C2 9F).
func hasC1(s string) bool {
	for i := strings.IndexByte(s, 0xc2); i >= 0 && i+1 < len(s); {
		if c := s[i+1]; c >= 0x80 && c <= 0x9f {
			return true
		}
		j := strings.IndexByte(s[i+1:], 0xc2)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
