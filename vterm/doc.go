// Package vterm runs children on pseudo-terminals and keeps a terminal
// emulator for each: the engine side of `tty: true` units. It may use the
// terminal libraries it needs (creack/pty, charmbracelet/x/vt and what they
// import) but no UI framework (bubbletea, bubbles, lipgloss), and it does
// not import procs (procs imports it).
//
// # The PTY
//
// Open(cols, rows) makes the pair. The master is re-wrapped non-blocking so
// it lives in Go's poller: a Read parks a goroutine, not a thread, read
// deadlines work, and Close wakes a parked Read and really closes the
// descriptor, which hangs up the terminal (SIGHUP to the session). Resize
// does TIOCSWINSZ through SyscallConn (the kernel sends SIGWINCH); never
// call Fd() on the master, which would make it blocking again.
//
// procs spawns and reaps children itself (os.StartProcess, wait4 on any
// child, cgroups), so vterm hands it the pieces rather than a started
// process:
//
//	p, err := vterm.Open(cols, rows)        // 80x24 when no pane shows it
//	s := p.Slave()
//	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
//		Env:   vterm.TermEnv(env),            // TERM=xterm-256color
//		Files: []*os.File{s, s, s},           // then fd 3.. as before
//		Sys:   vterm.SessionAttr(&syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}),
//	})
//	p.CloseSlave()                          // or the hang-up never shows
//
// SessionAttr sets Setsid, Setctty and Ctty 0 and clears Setpgid (setpgid
// after setsid fails): the child leads a new session whose controlling
// terminal is the slave, and its pid is also its process group, so the
// existing kill(-pgid) stop path works. A session can hold jobs in other
// process groups (a shell's background jobs); finding and signalling them
// is the supervisor's work (package procs), not the emulator's. Start(argv, env, dir, cols, rows) does all of this with
// os.StartProcess for tests and simple callers.
//
// # The emulator
//
// New(Options) makes a Term kept with the unit for its whole life, pane or
// no pane. Feed it the master's output (Term.Write from the unit's reader,
// or go io.Copy(term, p)); Options.Reply is the master. A goroutine always
// drains x/vt's reply pipe, so queries (device attributes, cursor position,
// mode reports, colour queries) are answered to the child even while
// nothing draws it, and Write never blocks on them (bare x/vt does).
// Replies and input (Key, Paste, SendInput) go to the child in order, from
// a goroutine of their own with a capped queue: a child that stops reading
// blocks nothing, and the UI never blocks on I/O.
//
// Snapshot() is what a pane draws: one string per row, drawn from the
// cells, holding text and SGR sequences and nothing else (no OSC, no
// hyperlink, no title, no cursor movement, no C0/C1 or bidi control), the
// cursor position and visibility, and whether the alternate screen is on.
// The rows are closed under procs.Clean (it keeps them unchanged), so the
// UI may pass them through it as well. Titles (OSC 0/2) go to
// Options.OnTitle cleaned (printable, at most 200 runes; the last one per
// Write) and Title(); hyperlinks are dropped when parsed; clipboard, DCS,
// APC, PM, SOS and window operations are ignored (x/vt has no handler for
// them).
//
// Lines that scroll off the main screen (and a screen erased with ED 2) go
// to the scrollback as text-and-SGR strings in a byte-capped history
// (ScrollbackLen, ScrollbackLines; DefaultScrollbackBytes, about 6 MiB of
// heap in all when full). Options.OnLine, the unit's log, gets each main-
// screen row once it is finished, as plain text (with Options.ColorLines,
// as text and SGR): when a line feed moves the cursor off it (a logical
// line wrapped over several rows is one line), so a quiet server's output
// is logged while it sits on the screen. Each row remembers what was
// logged of it: the same text is not logged again when it scrolls off, is
// erased by ED 2, or is taken at the run's end (Unlogged); a row rewritten
// after cursor-up is logged again as it then stands; rows never finished
// are logged when they scroll off. The alternate screen keeps no
// scrollback and is never logged.
//
// # Keys
//
// Key(k) encodes a key press in the mode the child set (DECCKM cursor keys,
// xterm modifier forms, ctrl and alt combinations, UTF-8 text); Paste wraps
// text in bracketed-paste marks when the child turned mode 2004 on, with
// any end mark inside removed. ParseKeys turns `kelpie send-keys` arguments
// (Enter, Tab, Esc, C-c, M-x, Up, Home, PageUp, F1..F12, Space, BSpace,
// literal text) into Keys. Typing mode (ctrl+a to leave, ctrl+a ctrl+a for
// a literal one) is the UI's: it maps its key events to Key.
//
// # Known limits of x/vt v0.1.0
//
// Scrolling costs a copy of the whole screen's cells and a clone of the
// line per line scrolled, so a flooding child is parsed at about 1.5-2.5
// MB/s (BenchmarkFeedTerm, BenchmarkFloodPTYTerm; the same child on a pipe:
// 130-320 MB/s, BenchmarkFloodPipe); pipes stay the fast path. Bare x/vt is
// slower still (its full 10,000-line scrollback shifts per line) and holds
// about 96 MiB with that scrollback full (BenchmarkMemVTBareScrollback).
// x/vt loops over REP, CHT, CBT and ECH counts; counts past the screen are
// ignored here so a child cannot stall the Term. DSR 5n is answered
// "CSI ? 0 n"; Resize does not reflow. Two private fields are set through
// reflection (internals.go) because x/vt has no API for them: no alternate-
// screen scrollback, a 64 KiB parser payload buffer instead of 4 MiB.
package vterm
