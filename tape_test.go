package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoTapeReplaysInTmux plays demo.tape's keystrokes against the real
// binary in tmux and checks every "# expect: TEXT" line in the tape against
// the screen at that point, so the recorded demo cannot rot unnoticed.
func TestDemoTapeReplaysInTmux(t *testing.T) {
	steps, err := parseTape("demo.tape")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	dir := t.TempDir()
	// The tape types `kelpie`: put the freshly built binary first on PATH.
	path := filepath.Dir(kelpieBin) + ":" + os.Getenv("PATH")
	s := newScreen(t, dir, 120, 36, "env", "PATH="+path, "PS1=$ ", "bash", "--norc", "--noprofile")
	for i, st := range steps {
		switch st.cmd {
		case "expect":
			s.waitFor(st.arg)
		case "type":
			s.tmux("send-keys", "-t", "k", "-l", st.arg)
		case "key":
			for n := 0; n < st.n; n++ {
				s.keys(st.arg)
			}
		case "sleep":
			// The expectations synchronise; a short pause keeps the pace a
			// person (and the recording) would have between keystrokes.
			time.Sleep(min(st.d, 200*time.Millisecond))
		default:
			t.Fatalf("step %d: unknown %q", i, st.cmd)
		}
	}
}

type tapeStep struct {
	cmd string
	arg string
	n   int
	d   time.Duration
}

// tmuxKey maps VHS key commands to tmux key names.
func tmuxKey(cmd string) (string, bool) {
	switch cmd {
	case "Enter":
		return "Enter", true
	case "Tab":
		return "Tab", true
	case "Escape":
		return "Escape", true
	case "Space":
		return "Space", true
	case "Backspace":
		return "BSpace", true
	case "Up", "Down", "Left", "Right":
		return cmd, true
	case "PageUp":
		return "PPage", true
	case "PageDown":
		return "NPage", true
	}
	return "", false
}

// parseTape reads the subset of VHS's language demo.tape uses.
func parseTape(name string) ([]tapeStep, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var steps []tapeStep
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(text, "# expect:"); ok {
			steps = append(steps, tapeStep{cmd: "expect", arg: strings.TrimSpace(rest)})
			continue
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		word, rest, _ := strings.Cut(text, " ")
		word = strings.Split(word, "@")[0]
		rest = strings.TrimSpace(rest)
		switch {
		case word == "Output" || word == "Set" || word == "Require" || word == "Hide" || word == "Show":
		case word == "Type":
			s, err := strconv.Unquote(rest)
			if err != nil {
				if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' {
					s, err = rest[1:len(rest)-1], nil
				} else if len(rest) >= 2 && rest[0] == '`' {
					s, err = strings.Trim(rest, "`"), nil
				}
			}
			if err != nil {
				return nil, &tapeError{line, "Type wants a quoted string"}
			}
			steps = append(steps, tapeStep{cmd: "type", arg: s})
		case word == "Sleep":
			d, err := time.ParseDuration(rest)
			if err != nil {
				return nil, &tapeError{line, "bad Sleep duration"}
			}
			steps = append(steps, tapeStep{cmd: "sleep", d: d})
		case strings.HasPrefix(word, "Ctrl+"):
			steps = append(steps, tapeStep{cmd: "key", arg: "C-" + strings.ToLower(strings.TrimPrefix(word, "Ctrl+")), n: 1})
		default:
			key, ok := tmuxKey(word)
			if !ok {
				return nil, &tapeError{line, "command " + word + " is not replayed by this test"}
			}
			n := 1
			if rest != "" {
				if n, err = strconv.Atoi(rest); err != nil {
					return nil, &tapeError{line, "bad repeat count"}
				}
			}
			steps = append(steps, tapeStep{cmd: "key", arg: key, n: n})
		}
	}
	return steps, sc.Err()
}

type tapeError struct {
	line int
	msg  string
}

func (e *tapeError) Error() string { return "demo.tape:" + strconv.Itoa(e.line) + ": " + e.msg }
