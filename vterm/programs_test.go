package vterm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// session is a real program on a PTY with a Term fed from it.
type session struct {
	pty    *PTY
	proc   *os.Process
	term   *Term
	fed    chan struct{}
	exited chan *os.ProcessState
}

func startSession(t *testing.T, argv, env []string, cols, rows int) *session {
	t.Helper()
	if _, err := exec.LookPath(argv[0]); err != nil {
		t.Skipf("%s not installed", argv[0])
	}
	p, proc, err := Start(argv, append(os.Environ(), env...), t.TempDir(), cols, rows)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{pty: p, proc: proc, fed: make(chan struct{}), exited: make(chan *os.ProcessState, 1)}
	s.term = New(Options{Cols: cols, Rows: rows, Reply: p})
	go func() { defer close(s.fed); s.term.ReadFrom(p) }()
	go func() { st, _ := proc.Wait(); s.exited <- st }()
	t.Cleanup(func() {
		syscall.Kill(-proc.Pid, syscall.SIGKILL)
		p.Close()
		<-s.fed
		s.term.Close()
	})
	return s
}

// screen is the snapshot's rows as plain text.
func (s *session) screen() string {
	snap := s.term.Snapshot()
	return stripSGR(strings.Join(snap.Lines, "\n"))
}

func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			i += j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (s *session) waitScreen(t *testing.T, what string, cond func(screen string) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		scr := s.screen()
		if cond(scr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; screen:\n%s", what, scr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *session) waitExit(t *testing.T) *os.ProcessState {
	t.Helper()
	select {
	case st := <-s.exited:
		return st
	case <-time.After(15 * time.Second):
		t.Fatalf("program did not exit; screen:\n%s", s.screen())
		return nil
	}
}

func (s *session) keys(t *testing.T, names ...string) {
	t.Helper()
	for _, k := range ParseKeys(names) {
		if !s.term.Key(k) {
			t.Fatalf("key %+v dropped", k)
		}
	}
}

// prompted reports whether the shell's prompt is the screen's last line:
// it has finished the last command and reads the next. Typing before it
// would put the echo of the next command before the prompt ("$ 30 100").
func prompted(scr string) bool {
	lines := strings.Split(strings.TrimRight(scr, " \n"), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ") == "$"
}

func hasLine(scr, want string) bool {
	for _, l := range strings.Split(scr, "\n") {
		if strings.TrimRight(l, " ") == want {
			return true
		}
	}
	return false
}

// An interactive shell: type a command, read its output off the screen,
// see the size and its change, and a colour a program printed because it
// saw a terminal.
func TestProgramShell(t *testing.T) {
	s := startSession(t, []string{"sh", "-i"}, []string{"PS1=$ ", "ENV="}, 80, 24)
	s.waitScreen(t, "prompt", func(scr string) bool { return strings.HasPrefix(scr, "$") })
	s.keys(t, "echo hel''lo", "Enter")
	s.waitScreen(t, "echo output", func(scr string) bool { return hasLine(scr, "hello") && prompted(scr) })
	s.keys(t, `if [ -t 1 ]; then printf '\033[32mTTY\033[0m\n'; else echo PIPE; fi`, "Enter")
	waitFor(t, "green TTY", func() bool {
		return strings.Contains(strings.Join(s.term.Snapshot().Lines, "\n"), "\x1b[0;32mTTY\x1b[m")
	})
	s.waitScreen(t, "the prompt", prompted)
	s.keys(t, "stty size", "Enter")
	s.waitScreen(t, "size 24 80", func(scr string) bool { return hasLine(scr, "24 80") && prompted(scr) })
	s.term.Resize(100, 30)
	if err := s.pty.Resize(100, 30); err != nil {
		t.Fatal(err)
	}
	s.keys(t, "stty size; echo $TERM", "Enter")
	s.waitScreen(t, "size 30 100", func(scr string) bool {
		return hasLine(scr, "30 100") && hasLine(scr, "xterm-256color")
	})
	s.keys(t, "exit", "Enter")
	if st := s.waitExit(t); !st.Success() {
		t.Fatalf("shell: %v", st)
	}
}

// Ctrl-C reaches the foreground job through the terminal's line
// discipline: the shell survives, the sleep does not.
func TestProgramCtrlC(t *testing.T) {
	s := startSession(t, []string{"sh", "-i"}, []string{"PS1=$ ", "ENV="}, 80, 24)
	s.waitScreen(t, "prompt", func(scr string) bool { return strings.HasPrefix(scr, "$") })
	s.keys(t, "sleep 30; echo NOT-INTERRUPTED", "Enter")
	s.waitScreen(t, "sleep running", func(scr string) bool { return strings.Contains(scr, "sleep 30") })
	// The sleep is a child of the shell once it shows in /proc, and ctrl-c
	// reaches it once it runs sleep and its group is the terminal's
	// foreground group (the shell sets that after the fork: a ctrl-c
	// before it goes to the shell).
	waitFor(t, "sleep in the foreground", func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", s.proc.Pid, s.proc.Pid))
		kids := strings.Fields(string(b))
		if len(kids) == 0 {
			return false
		}
		// And it is sleep itself: the forked shell before its exec may
		// still have the shell's own ctrl-c handling.
		st, _ := os.ReadFile("/proc/" + kids[0] + "/stat")
		comm, rest, ok := strings.Cut(string(st), ") ")
		f := strings.Fields(rest) // state ppid pgrp session tty_nr tpgid ...
		return ok && strings.HasSuffix(comm, "(sleep") && len(f) > 5 && f[2] == f[5]
	})
	s.keys(t, "C-c")
	// The shell is back at its prompt before the next line is typed: a
	// line typed at once may be flushed with the interrupt's input.
	s.waitScreen(t, "the prompt after ^C", prompted)
	s.keys(t, "echo after", "Enter")
	s.waitScreen(t, "after", func(scr string) bool { return hasLine(scr, "after") })
	if strings.Count(s.screen(), "NOT-INTERRUPTED") != 1 {
		t.Fatal("ctrl-c did not interrupt the sleep")
	}
}

// htop opens on the alternate screen, redraws at a new size, and quits.
func TestProgramHtop(t *testing.T) {
	s := startSession(t, []string{"htop", "-d", "10"}, []string{"HOME=" + t.TempDir()}, 100, 30)
	s.waitScreen(t, "htop's footer", func(scr string) bool { return strings.Contains(scr, "F10Quit") })
	if !s.term.AltScreen() {
		t.Fatal("htop is not on the alternate screen")
	}
	s.term.Resize(120, 40)
	if err := s.pty.Resize(120, 40); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(t, "footer on row 40", func(scr string) bool {
		rows := strings.Split(scr, "\n")
		return len(rows) == 40 && strings.Contains(rows[39], "F10Quit")
	})
	s.keys(t, "q")
	if st := s.waitExit(t); !st.Success() {
		t.Fatalf("htop: %v", st)
	}
	waitFor(t, "main screen back", func() bool { return !s.term.AltScreen() })
}

// vim: open, type text, write and quit; the file has it.
func TestProgramVim(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "note.txt")
	s := startSession(t, []string{"vim", "-u", "NONE", "-i", "NONE", "-n", "-N", file}, nil, 80, 24)
	s.waitScreen(t, "vim's empty buffer", func(scr string) bool { return strings.Count(scr, "\n~") > 10 })
	if !s.term.AltScreen() {
		t.Fatal("vim is not on the alternate screen")
	}
	s.keys(t, "i", "hello kelpie", "Esc")
	s.waitScreen(t, "typed text", func(scr string) bool { return strings.HasPrefix(scr, "hello kelpie") })
	s.term.Resize(60, 15)
	if err := s.pty.Resize(60, 15); err != nil {
		t.Fatal(err)
	}
	s.waitScreen(t, "redraw at 60x15", func(scr string) bool {
		rows := strings.Split(scr, "\n")
		return len(rows) == 15 && strings.HasPrefix(rows[0], "hello kelpie") && strings.Count(scr, "\n~") == 13
	})
	s.keys(t, ":wq", "Enter")
	if st := s.waitExit(t); !st.Success() {
		t.Fatalf("vim: %v", st)
	}
	b, err := os.ReadFile(file)
	if err != nil || string(b) != "hello kelpie\n" {
		t.Fatalf("file: %q, %v", b, err)
	}
}
