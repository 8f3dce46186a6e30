package ui

import (
	"strconv"
	"syscall"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// signalMenu lists the common signals for the selected unit; enter sends
// the one under the cursor to the unit's process group.
type signalMenu struct {
	open   bool
	target string
	sigs   []syscall.Signal
	cursor int
	offset int
	height int // rows for signals, from SetSize

	// Its keys, enabled by updateKeys: moving, and closing it. Submit is
	// the root's: sending reaches the engine and may ask first.
	moves MoveKeys
	keys  InputKeys
}

// signalWords says what each common signal usually does.
var signalWords = map[syscall.Signal]string{
	syscall.SIGTERM:  "terminate (asks to stop)",
	syscall.SIGINT:   "interrupt (as ctrl+c)",
	syscall.SIGHUP:   "hang up (often: reload config)",
	syscall.SIGKILL:  "kill now (cannot be caught)",
	syscall.SIGQUIT:  "quit with a core dump",
	syscall.SIGUSR1:  "user signal 1",
	syscall.SIGUSR2:  "user signal 2",
	syscall.SIGSTOP:  "pause (cannot be caught)",
	syscall.SIGCONT:  "continue after a pause",
	syscall.SIGWINCH: "window size changed",
	syscall.SIGALRM:  "alarm clock",
	syscall.SIGABRT:  "abort",
	syscall.SIGPIPE:  "broken pipe",
	syscall.SIGTSTP:  "stop from the terminal (ctrl+z)",
}

// harmless are the signals whose default action neither ends nor pauses a
// process; the others ask first when sent to a group.
func harmless(sig syscall.Signal) bool { return sig == syscall.SIGCONT || sig == syscall.SIGWINCH }

func (s *signalMenu) show(target string) {
	*s = signalMenu{open: true, target: target, sigs: procs.CommonSignals(), height: s.height, moves: s.moves, keys: s.keys}
}

// SetSize gives the menu the pane's place: a title and h-1 signals.
func (s *signalMenu) SetSize(w, h int) { s.height = max(h-1, 1) }

// bindings are the menu's keys, for routing.
func (s *signalMenu) bindings() []*key.Binding { return append(s.moves.list(), &s.keys.Cancel) }

// Update applies a key meant for the menu: moving, or esc to close it.
func (s *signalMenu) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if key.Matches(km, s.keys.Cancel) {
		s.open = false
		return nil
	}
	delta, top, bottom := s.moves.distance(km, s.height)
	switch {
	case top:
		s.cursor = 0
	case bottom:
		s.cursor = len(s.sigs) - 1
	default:
		s.move(delta)
	}
	return nil
}

// updateKeys enables the menu's keys while it is open.
func (s *signalMenu) updateKeys() {
	s.moves.enable(false)
	for _, b := range []*key.Binding{&s.moves.Up, &s.moves.Down, &s.moves.PageUp, &s.moves.PageDown, &s.moves.Top, &s.moves.Bottom} {
		b.SetEnabled(s.open)
	}
	s.moves.Up.SetHelp("↑/k", "up")
	s.moves.Down.SetHelp("↓/j", "down")
	s.moves.Top.SetHelp("g/home", "first")
	s.moves.Bottom.SetHelp("G/end", "last")
	s.keys.Submit.SetEnabled(s.open)
	s.keys.Submit.SetHelp("enter", "send")
	s.keys.Cancel.SetEnabled(s.open)
	s.keys.Cancel.SetHelp("esc", "close")
}

func (s *signalMenu) move(delta int) {
	s.cursor = max(0, min(s.cursor+delta, len(s.sigs)-1))
}

func (s *signalMenu) selected() syscall.Signal { return s.sigs[s.cursor] }

// View draws the menu in the pane's place: a title rule, then one line
// per signal, scrolled to keep the cursor in view.
func (s *signalMenu) View(pal *palette, w, h int) []string {
	lines := []string{ruleLine(pal.ruleFocused, w,
		[]segment{{"send a signal to ", pal.dim}, {safe(s.target), pal.title}},
		[]segment{{" enter send · esc close ", pal.dim}, {"──", pal.ruleFocused}})}
	rows := max(h-1, 1)
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+rows {
		s.offset = s.cursor - rows + 1
	}
	for i := s.offset; i < len(s.sigs) && len(lines) < h; i++ {
		sig := s.sigs[i]
		text := "  " + fit(procs.SignalName(sig), 9, false) + fit(strconv.Itoa(int(sig)), 4, true) + "  " + signalWords[sig]
		if i == s.cursor {
			lines = append(lines, pal.rows[rowSelected].base.on(fit(cursorMark+text[1:], w, false)))
		} else {
			lines = append(lines, truncate(text, w))
		}
	}
	return lines
}

// confirmation is a question the status line asks before an action that
// reaches more than one process; y runs it.
type confirmation struct {
	question string
	run      tea.Cmd
}

// groupSize says what else an action on r reaches: the members of a group
// row, or the other processes of a unit's tree. n is 0 for a lone process.
func groupSize(r *unitRow) (n int, what string) {
	switch {
	case r.group:
		return len(r.members), "member"
	case len(r.tree) > 1:
		return len(r.tree) - 1, "child process"
	}
	return 0, ""
}
