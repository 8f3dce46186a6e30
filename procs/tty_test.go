package procs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/vterm"
)

// screenText is the unit's screen as plain text, one row a line.
func screenText(t *testing.T, s *Supervisor, name string) string {
	t.Helper()
	sc, err := s.Screen(name)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range sc.Lines {
		b.WriteString(stripSGR(l))
		b.WriteByte('\n')
	}
	return b.String()
}

// waitScreen polls the unit's screen until it holds want (a hang, not a
// timing assertion: the screen has no events of its own).
func waitScreen(t *testing.T, s *Supervisor, name, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		txt := screenText(t, s, name)
		if strings.Contains(txt, want) {
			return txt
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen of %s never showed %q:\n%s", name, want, txt)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startTTY adds and starts a tty unit running shell.
func startTTYUnit(t *testing.T, s *Supervisor, name, shell string) *watcher {
	t.Helper()
	if err := s.Add(Spec{Name: name, Shell: shell, TTY: true, Restart: RestartNever, StopTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	if err := s.Start(name); err != nil {
		t.Fatal(err)
	}
	w.state(name, Running)
	return w
}

// A tty unit's child has a terminal (80x24, TERM=xterm-256color) as its
// stdin and stdout and leads its own session; keys typed reach it and its
// echo shows on the screen; a resize reaches the PTY.
func TestTTYUnitRunsOnATerminal(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	startTTYUnit(t, s, "sh", `test -t 0 && test -t 1 && echo "tty:$TERM"; while read l; do echo "got:$l"; stty size; done`)
	in, _ := s.Get("sh")
	if !in.TTY {
		t.Fatal("Info.TTY not set")
	}
	waitScreen(t, s, "sh", "tty:xterm-256color")
	if st, ok := readStat(in.PID); !ok || st.sid != in.PID || st.pgrp != in.PID {
		t.Fatalf("child %d: session %d group %d, want both its pid", in.PID, st.sid, st.pgrp)
	}
	if d, err := s.Details("sh"); err != nil || !strings.Contains(d.Cleanup, "session (pid "+strconv.Itoa(in.PID)+")") {
		t.Fatalf("details' cleanup %q (%v) does not name the session", d.Cleanup, err)
	}
	if err := s.Keys("sh", vterm.ParseKeys([]string{"hello", "Enter"})); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, s, "sh", "got:hello\n24 80\n")
	if err := s.Resize("sh", 100, 30); err != nil {
		t.Fatal(err)
	}
	if sc, _ := s.Screen("sh"); sc.Cols != 100 || sc.Rows != 30 {
		t.Fatalf("screen %dx%d after resize, want 100x30", sc.Cols, sc.Rows)
	}
	_ = s.Paste("sh", "again\n")
	waitScreen(t, s, "sh", "got:again\n30 100\n")
}

// Lines scrolling off the screen become log lines; at the end of the run,
// what was left on the screen is logged too; the screen stays readable.
func TestTTYLinesGoToTheLog(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := startTTYUnit(t, s, "seq", `printf '\033[31mred\033[0m\n'; seq 1 100; printf '\033[32mgreen\033[0m\n'; echo done; read x`)
	w.waitLine(s, "seq", "70")
	waitScreen(t, s, "seq", "done")
	_ = s.Stop("seq")
	w.state("seq", Stopped)
	// The reader logs the screen left once the terminal hangs up, as a
	// pipe's last lines are read after the exit: await it.
	w.waitLine(s, "seq", "done")
	log := logText(s, "seq")
	for i := 1; i <= 100; i++ {
		if !strings.Contains(log, "\n"+strconv.Itoa(i)+"\n") && !strings.HasPrefix(log, strconv.Itoa(i)+"\n") {
			t.Fatalf("line %d not in the log:\n%s", i, log)
		}
	}
	// Colours are kept, as on a pipe.
	if !strings.Contains(log, "31mred\x1b[") || !strings.Contains(log, "32mgreen\x1b[") || !strings.Contains(log, "\ndone\n") {
		t.Fatalf("the screen's last lines not in the log, with their colour:\n%q", log)
	}
	sc, _ := s.Screen("seq")
	if sc.Scrollback < 70 {
		t.Fatalf("scrollback holds %d lines, want the ones that scrolled off", sc.Scrollback)
	}
	old, _ := s.Scrollback("seq", 0, 2)
	if len(old) != 2 || !strings.Contains(old[0], "31mred") || old[1] != "1" {
		t.Fatalf("oldest scrollback lines %q, want red and 1", old)
	}
	// The next run gets a fresh PTY and a clean screen; the old one is in
	// the scrollback, not logged twice.
	_ = s.Start("seq")
	w.state("seq", Running)
	waitScreen(t, s, "seq", "done")
	txt := screenText(t, s, "seq")
	if strings.Count(txt, "done") != 1 {
		t.Fatalf("the old run's screen is still on the new one:\n%s", txt)
	}
	// The second run logs its own "done" when its line feed comes.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logText(s, "seq"), "\ndone\n") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_ = s.Stop("seq")
	w.state("seq", Stopped)
	if n := strings.Count(logText(s, "seq"), "\ndone\n"); n != 2 {
		t.Fatalf("done logged %d times over two runs, want 2", n)
	}
}

// What a hostile child writes is absorbed: the title is cleaned into
// Info.Title; clipboard, hyperlink and DCS sequences never reach the screen
// or the log; a device-attributes query is answered to the child by the
// emulator.
func TestTTYHostileChildIsAbsorbed(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	shell := `printf '\033]0;ev\til\342\200\256 \177title\a'; ` +
		`printf '\033]52;c;aGVsbG8=\a\033]8;;http://x.example/\alink\033]8;;\a\033P1$qm\033\\ok\n'; ` +
		`stty -echo -icanon; printf '\033[c'; printf 'reply:'; head -c 3 | od -An -c; read x`
	w := startTTYUnit(t, s, "evil", shell)
	in := w.until("evil", "titled", func(in Info) bool { return in.Title != "" })
	t.Logf("title %q", in.Title)
	if !strings.HasPrefix(in.Title, "ev") || !strings.HasSuffix(in.Title, "title") || strings.ContainsAny(in.Title, "\t\x7f\u202e\x1b\a") {
		t.Fatalf("title %q not cleaned", in.Title)
	}
	txt := waitScreen(t, s, "evil", "033   [   ?")
	if !strings.Contains(txt, "linkok") {
		t.Fatalf("link text or line lost:\n%s", txt)
	}
	sc, _ := s.Screen("evil")
	for _, l := range sc.Lines {
		if Clean(l) != l || strings.Contains(l, "\x1b]") || strings.Contains(l, "\x1bP") {
			t.Fatalf("screen row %q holds more than text and SGR", l)
		}
	}
	if sc.Title != in.Title {
		t.Fatalf("Screen.Title %q, Info.Title %q", sc.Title, in.Title)
	}
	// The screen left at the end goes to the log: text only there too.
	_ = s.Stop("evil")
	w.state("evil", Stopped)
	w.waitLine(s, "evil", "linkok")
	log := logText(s, "evil")
	if !strings.Contains(log, "linkok") || strings.Contains(log, "x.example") || strings.Contains(log, "aGVsbG8") ||
		strings.Contains(log, "evil") || strings.Contains(log, "\x1b]") {
		t.Fatalf("the log holds more than the text:\n%q", log)
	}
}

// Stopping a tty unit stops its whole session: a background job in another
// process group that ignores SIGHUP and SIGTERM, carries no tag and sits in
// no cgroup of the run gets SIGKILL at the stop timeout, and the unit is
// stopped only once the rest of the session has been killed.
func TestTTYStopEndsTheWholeSession(t *testing.T) {
	s := newTestSupervisor(t, Options{NoCgroup: true})
	shell := `set -m; (trap '' HUP TERM; exec env -i sleep 1000) & echo "bg:$!"; wait`
	if err := s.Add(Spec{Name: "sess", Shell: shell, TTY: true, Restart: RestartNever, StopTimeout: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	_ = s.Start("sess")
	in := w.state("sess", Running)
	txt := waitScreen(t, s, "sess", "bg:")
	bg, _ := strconv.Atoi(strings.Fields(txt[strings.Index(txt, "bg:")+3:])[0])
	st, ok := readStat(bg)
	if !ok || st.sid != in.PID || st.pgrp == in.PID {
		t.Fatalf("background job %d: session %d group %d; want session %d in another group", bg, st.sid, st.pgrp, in.PID)
	}
	if err := s.Stop("sess"); err != nil {
		t.Fatal(err)
	}
	w.state("sess", Stopped)
	if !strings.Contains(logText(s, "sess"), "SIGKILL") {
		t.Fatalf("no SIGKILL at the stop timeout:\n%s", logText(s, "sess"))
	}
	// SIGKILL is sent when the unit is stopped; the job's end follows.
	waitGone(t, []int{bg})
}

// ttySession starts a shell on a PTY as a session leader, with a background
// job in another process group that ignores SIGHUP and SIGTERM and carries
// no tag: what a tty unit's interactive shell leaves. It returns the
// leader's pid and the job's.
func ttySession(t *testing.T) (leader, job int) {
	t.Helper()
	p, proc, err := vterm.Start([]string{"sh", "-c", `set -m; (trap '' HUP TERM; exec env -i sleep 1000) & echo "bg:$!"; wait`}, nil, "", 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	tt := newTTYTerm(func() {})
	go func() { _, _ = io.Copy(tt.term, p) }() // until the hang-up (EIO)
	t.Cleanup(func() {
		_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
		killSession(proc.Pid)
		_, _ = proc.Wait()
		p.Close()
		tt.term.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for job == 0 {
		txt := strings.Join(tt.term.Snapshot().Lines, "\n")
		if i := strings.Index(txt, "bg:"); i >= 0 && strings.Contains(txt[i:], "\n") {
			job, _ = strconv.Atoi(strings.Fields(txt[i+3:])[0])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no background job:\n%s", txt)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return proc.Pid, job
}

// The guard (kelpie killed with -9) kills a tty unit's session members in
// other process groups, though they carry no tag and no cgroup holds them:
// the feed's "s" line says the group leads its own session.
func TestGuardKillsTheTTYSession(t *testing.T) {
	leader, job := ttySession(t)
	st, _ := readStat(leader)
	feed := string(guardGroupLine(leader, groupProof{start: st.start, sid: leader, session: true}))
	if !strings.Contains(feed, "\ns ") {
		t.Fatalf("feed %q does not mark the session", feed)
	}
	f := readGuardFeed(strings.NewReader(feed))
	if n := killLeftovers(os.Getpid(), []string{"no-such-tag/"}, f.groups, nil); n < 2 {
		t.Fatalf("the guard hit %d processes, want the shell and its job", n)
	}
	waitGone(t, []int{job})
}

// A supervisor's run record lists a tty unit's session; the next run's
// ReapLeftovers (kelpie and its guard both killed) kills the session's
// untagged job in another group.
func TestReapLeftoversOfATTYSession(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.sock.run")
	s := newTestSupervisor(t, Options{StateFile: file})
	_ = s.Add(Spec{Name: "term", Shell: "exec sleep 1000", TTY: true})
	w := watch(t, s)
	_ = s.Start("term")
	in := w.state("term", Running)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var rec runRecord
		b, _ := os.ReadFile(file)
		if json.Unmarshal(b, &rec) == nil && slices.Contains(rec.Sessions, in.PID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run record never listed session %d: %s", in.PID, b)
		}
		time.Sleep(10 * time.Millisecond)
	}

	leader, job := ttySession(t)
	st, _ := readStat(leader)
	dead := exec.Command("true")
	_ = dead.Run()
	rec := runRecord{Tag: NewTag(), PID: dead.Process.Pid, Start: 1, Boot: bootID(), SID: 1,
		Groups: map[int]uint64{leader: st.start}, Sessions: []int{leader}}
	b, _ := json.Marshal(rec)
	old := filepath.Join(t.TempDir(), "old.sock.run")
	if err := os.WriteFile(old, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := ReapLeftovers(old); err != nil || n < 2 {
		t.Fatalf("reaped %d (%v), want the shell and its job", n, err)
	}
	waitGone(t, []int{job})
}

// tty is for processes: a worker or a cluster with it is refused; a unit
// without it is refused by Terminals.
func TestTTYRefused(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	err := s.Add(Spec{Name: "w", Task: func(context.Context, Worker) error { return nil }, TTY: true})
	if err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Fatalf("worker with tty: %v", err)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = s.AddCluster(Cluster{Spec: Spec{Name: "c", Shell: "sleep 1", TTY: true}, Instances: 1}, ln)
	if err == nil || !strings.Contains(err.Error(), "tty") {
		t.Fatalf("cluster with tty: %v", err)
	}
	_ = s.Add(Spec{Name: "pipe", Shell: "true"})
	if _, err := s.Screen("pipe"); !errors.Is(err, ErrNotTTY) {
		t.Fatalf("Screen of a pipe unit: %v", err)
	}
	if err := s.Keys("nope", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Keys to no unit: %v", err)
	}
	_ = s.Add(Spec{Name: "idle", Shell: "true", TTY: true})
	if err := s.Keys("idle", vterm.ParseKeys([]string{"x"})); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Keys to a stopped tty unit: %v", err)
	}
	if _, err := s.Screen("idle"); err != nil {
		t.Fatalf("Screen of a stopped tty unit: %v", err)
	}
}

// An interactive shell ignores SIGTERM: the SIGHUP to its session, after a
// grace of at most a second, ends it without waiting for the stop timeout
// (the fake clock is moved on by the grace only).
func TestTTYStopHangsUpAnInteractiveShell(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	if err := s.Add(Spec{Name: "shell", Argv: []string{"sh", "-i"}, TTY: true, Restart: RestartNever, StopTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	_ = s.Start("shell")
	w.state("shell", Running)
	// The answer, not the echo of what was typed, shows it reads.
	_ = s.Keys("shell", vterm.ParseKeys([]string{"echo $((6*7))", "Enter"}))
	waitScreen(t, s, "shell", "42")
	if err := s.Stop("shell"); err != nil {
		t.Fatal(err)
	}
	awaitTimer(t, clk, time.Second)
	if in, _ := s.Get("shell"); in.State != Stopping {
		t.Fatalf("the shell is %s before the hang-up, want stopping (it ignores SIGTERM)", in.State)
	}
	clk.Advance(time.Second)
	in := w.state("shell", Stopped)
	if in.Signal != "SIGHUP" {
		t.Fatalf("the shell ended by %q %v, want SIGHUP", in.Signal, in.ExitCode)
	}
}

// screenRow returns row y of the unit's screen as plain text.
func screenRow(t *testing.T, s *Supervisor, name string, y int) string {
	t.Helper()
	sc, err := s.Screen(name)
	if err != nil || y >= len(sc.Lines) {
		t.Fatalf("screen of %s: %v, %d rows", name, err, len(sc.Lines))
	}
	return stripSGR(sc.Lines[y])
}

// waitRow polls until row y of the screen holds want.
func waitRow(t *testing.T, s *Supervisor, name string, y int, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(screenRow(t, s, name, y), want) {
		if time.Now().After(deadline) {
			t.Fatalf("row %d of %s never showed %q:\n%s", y, name, want, screenText(t, s, name))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Full-screen programs run in a tty unit: vim and htop draw on the
// alternate screen, redraw at the new size after a resize (their last row
// moves), take keys, and quit; nothing of their screens is logged.
func TestTTYFullScreenPrograms(t *testing.T) {
	for _, tc := range []struct {
		name       string
		argv       []string
		ready      string // on the row up from the bottom once drawn
		fromBottom int
		quit       []string
	}{
		// vim's last buffer line ("~") sits above its command line.
		{"vim", []string{"vim", "-u", "NONE", "-N", "-n"}, "~", 2, []string{"Esc", ":q!", "Enter"}},
		{"htop", []string{"htop", "-d", "10"}, "Quit", 1, []string{"F10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath(tc.argv[0]); err != nil {
				t.Skipf("%s not installed", tc.argv[0])
			}
			s := newTestSupervisor(t, Options{})
			if err := s.Add(Spec{Name: tc.name, Argv: tc.argv, TTY: true, Restart: RestartNever}); err != nil {
				t.Fatal(err)
			}
			w := watch(t, s)
			_ = s.Start(tc.name)
			w.state(tc.name, Running)
			waitRow(t, s, tc.name, 24-tc.fromBottom, tc.ready)
			if sc, _ := s.Screen(tc.name); !sc.AltScreen {
				t.Fatalf("%s is not on the alternate screen", tc.name)
			}
			if err := s.Resize(tc.name, 100, 30); err != nil {
				t.Fatal(err)
			}
			waitRow(t, s, tc.name, 30-tc.fromBottom, tc.ready)
			if tc.name == "vim" {
				_ = s.Keys(tc.name, vterm.ParseKeys([]string{"i", "typed in vim", "Esc"}))
				waitRow(t, s, tc.name, 0, "typed in vim")
			}
			_ = s.Keys(tc.name, vterm.ParseKeys(tc.quit))
			in := w.until(tc.name, "quit", func(in Info) bool { return !in.State.Live() })
			if in.State != Exited {
				t.Fatalf("%s ended %s (%s)", tc.name, in.State, in.Reason)
			}
			if log := logText(s, tc.name); strings.Contains(log, "Quit") || strings.Contains(log, "typed in vim") {
				t.Fatalf("the alternate screen reached the log:\n%s", log)
			}
		})
	}
}

// A restart can come before the old run's reader has heard the hang-up:
// the new run's beginRun then returns the old screen for the log, and the
// old reader logs nothing (no line lost, none twice).
func TestTTYRestartBeforeTheReaderEnds(t *testing.T) {
	tt := newTTYTerm(func() {})
	defer tt.term.Close()
	open := func() *vterm.PTY {
		p, err := vterm.Open(80, 24)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	p1 := open()
	g1, rest, err := tt.beginRun(p1, true)
	if err != nil || rest != nil {
		t.Fatalf("first run: %q, %v", rest, err)
	}
	// A line feed logs its row at once; the unfinished one is left.
	if lines, ok := tt.feed(g1, []byte("logged\r\nleft on screen"), nil); !ok || string(lines) != "logged\n" {
		t.Fatalf("feed: %q, %v; want the finished row", lines, ok)
	}
	g2, rest, _ := tt.beginRun(open(), false)
	if string(rest) != "left on screen\n" {
		t.Fatalf("the old run's screen for the log: %q", rest)
	}
	if _, ok := tt.feed(g1, []byte("late\r\n"), nil); ok {
		t.Fatal("the old run still feeds the terminal")
	}
	if b := tt.endRun(g1, p1); b != nil {
		t.Fatalf("the old reader logs %q again", b)
	}
	tt.feed(g2, []byte("second"), nil)
	if b := tt.endRun(g2, nil); string(b) != "second\n" {
		t.Fatalf("the second run's screen: %q", b)
	}
	if _, rest, _ := tt.beginRun(open(), false); rest != nil {
		t.Fatalf("an ended run's screen returned again: %q", rest)
	}
}

// A paste far larger than a terminal's input buffer reaches the child
// whole (queued, written as the child reads); past the queue's cap it is
// refused, not cut.
func TestTTYLargePaste(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	startTTYUnit(t, s, "wc", `stty -icanon -echo; echo ready; head -c 300000 | wc -c; read x`)
	waitScreen(t, s, "wc", "ready") // the terminal is raw enough now
	if err := s.Paste("wc", strings.Repeat("p", 300000)); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, s, "wc", "300000")
	if err := s.Paste("wc", strings.Repeat("p", maxInput+1)); err == nil {
		t.Fatal("a paste over the cap was taken")
	}
}

// A quiet tty server's line reaches the log while it runs (a line feed
// finished it; it never scrolls off): a `ready: {log: ...}` probe passes
// and the unit waiting on it starts, and Tail shows the line at once.
func TestTTYLogProbeSeesAQuietServer(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	srv := Spec{Name: "srv", Shell: "echo listening on 8080; exec sleep 1000", TTY: true, StopTimeout: 5 * time.Second,
		Ready: &Probe{Kind: ProbeLog, Log: "listening", SuccessThreshold: 1, FailureThreshold: 3, Period: time.Second, Timeout: time.Second}}
	web := Spec{Name: "web", Shell: "exec sleep 1000", DependsOn: []Dependency{dep("srv", CondReady)}}
	addAll(t, s, srv, web)
	w := watch(t, s)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	w.state("web", Running)
	if in, _ := s.Get("srv"); !in.Ready || in.State != Running {
		t.Fatalf("web runs but srv is not ready and running: %+v", in)
	}
	lines, err := s.Tail("srv", 10)
	var out []string
	for _, l := range lines {
		if l.Stream == Stdout {
			out = append(out, l.Text)
		}
	}
	if err != nil || len(out) != 1 || out[0] != "listening on 8080" {
		t.Fatalf("Tail(srv) output %q, %v; want the one line while it runs", out, err)
	}
	_ = s.Stop("srv")
	w.state("srv", Stopped)
	if n := strings.Count(logText(s, "srv"), "listening on 8080"); n != 1 {
		t.Fatalf("the line logged %d times after the run ended, want 1", n)
	}
}

// Stopping a tty unit sends its stop signal first: a program that shuts
// down gracefully on SIGTERM finishes (no SIGHUP cuts it short while its
// grace runs: the fake clock never reaches it), and once the session
// leader has ended, the session hangs up.
func TestTTYStopLetsAGracefulShutdownFinish(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	shell := `trap 'echo draining; sleep 0.3; echo drained; exit 0' TERM; echo ready; while :; do sleep 0.05; done`
	if err := s.Add(Spec{Name: "srv", Shell: shell, TTY: true, Restart: RestartNever, StopTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	_ = s.Start("srv")
	w.waitLine(s, "srv", "ready")
	if err := s.Stop("srv"); err != nil {
		t.Fatal(err)
	}
	in := w.state("srv", Stopped)
	if in.Signal != "" || in.ExitCode == nil || *in.ExitCode != 0 {
		t.Fatalf("the server ended by %q %v, want exit status 0 after draining", in.Signal, in.ExitCode)
	}
	w.waitLine(s, "srv", "drained")
	if log := logText(s, "srv"); strings.Contains(log, "SIGHUP") || strings.Contains(log, "still running") {
		t.Fatalf("the graceful shutdown was cut short:\n%s", log)
	}
}

// When the session leader ends on the stop signal, its session hangs up at
// once, as a terminal's does: a background job in another group that
// ignores SIGTERM ends by the SIGHUP, with no wait for the grace or the stop
// timeout (the fake clock never moves).
func TestTTYStopHangsUpWhenTheLeaderEnds(t *testing.T) {
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk, NoCgroup: true})
	shell := `set -m; (trap '' TERM; exec env -i sleep 1000) & echo "bg:$!"; wait`
	if err := s.Add(Spec{Name: "sess", Shell: shell, TTY: true, Restart: RestartNever, StopTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	_ = s.Start("sess")
	w.state("sess", Running)
	txt := waitScreen(t, s, "sess", "bg:")
	bg, _ := strconv.Atoi(strings.Fields(txt[strings.Index(txt, "bg:")+3:])[0])
	t.Cleanup(func() { _ = syscall.Kill(bg, syscall.SIGKILL) })
	if err := s.Stop("sess"); err != nil {
		t.Fatal(err)
	}
	w.state("sess", Stopped)
	waitGone(t, []int{bg})
	if log := logText(s, "sess"); !strings.Contains(log, "the session leader ended: SIGHUP") {
		t.Fatalf("no hang-up when the leader ended:\n%s", log)
	}
}

// stripSGR removes the SGR sequences from a snapshot row (which holds text
// and SGR only, see vterm.Snapshot).
func stripSGR(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+2:]
		j := strings.IndexByte(s, 'm')
		if j < 0 {
			return b.String()
		}
		s = s[j+1:]
	}
}
