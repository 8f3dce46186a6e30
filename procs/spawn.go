package procs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/kelpie-dev/kelpie/ipc"
	"github.com/kelpie-dev/kelpie/vterm"
)

// spawn starts the unit's process: its own process group, stdin from
// /dev/null, stdout and stderr into pumps (a tty unit: a session of its
// own on a PTY, see tty.go), Pdeathsig so it dies with this
// thread, and the run tag in its environment. It runs on the owner goroutine,
// whose OS thread lives as long as the supervisor (see loop).
func (s *Supervisor) spawn(u *unit) (*procRun, error) {
	sp := &u.spec
	r := &procRun{}
	argv := sp.Argv
	if sp.Shell != "" {
		argv = []string{"/bin/sh", "-c", sp.Shell}
	}
	path, err := resolve(argv[0], sp.Dir, sp.Env)
	if err != nil {
		return nil, err
	}
	r.tag = fmt.Sprintf("%s/%s/%d", s.opts.Tag, sp.Name, u.runNumber())
	extra := sp.Env
	if sp.wantsNotify() {
		ns, err := s.notifySocket(u)
		if err != nil {
			return nil, err
		}
		// kelpie's own NOTIFY_SOCKET (kelpie under systemd) is replaced.
		extra = append(slices.Clip(sp.Env), ns.env(sp.Watchdog.Microseconds())...)
	}
	env := childEnv(os.Environ(), extra, TagVar+"="+r.tag)
	// A member of a dispatched cluster: this run's id with the dispatcher,
	// and what the dispatcher tells the worker (NODE_UNIQUE_ID, ...).
	cs, runID := s.clusters[sp.Group], 0
	if cs != nil && cs.disp != nil && sp.Group != "" {
		cs.nextID++
		runID = cs.nextID
		env = append(env, cs.disp.Env(runID)...)
	} else {
		cs = nil
	}
	if len(sp.ListenFDNames) > 0 {
		env = append(env, "LISTEN_FDS="+strconv.Itoa(len(sp.ExtraFiles)),
			"LISTEN_FDNAMES="+strings.Join(sp.ListenFDNames, ":"))
		argv, path = listenShim(sp, path, argv)
	}

	var tr *ttyRun
	var files []*os.File
	outR, errR := -1, -1
	var outW, errW *os.File
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if u.tty != nil {
		// A tty unit: the PTY's slave is its stdin, stdout, stderr and
		// controlling terminal, and it leads a session of its own (its pid
		// is still its process group).
		if tr, files, err = s.spawnTTY(u); err != nil {
			return nil, err
		}
		env = vterm.TermEnv(env)
		sys = vterm.SessionAttr(sys)
	} else {
		if outR, outW, err = newOutputPipe(); err != nil {
			return nil, fmt.Errorf("stdout pipe: %w", err)
		}
		if errR, errW, err = newOutputPipe(); err != nil {
			unix.Close(outR)
			outW.Close()
			return nil, fmt.Errorf("stderr pipe: %w", err)
		}
		files = []*os.File{s.devNull, outW, errW}
	}
	// closeOutput lets go of the output pipes' read ends or the PTY when
	// the child does not start.
	closeOutput := func() {
		if tr != nil {
			abortTTY(tr)
			return
		}
		unix.Close(outR)
		unix.Close(errR)
	}
	// Descriptors the spec asks for (cluster: a listener, a channel) come
	// next, as fd 3, 4, ...; the child's copies are made by the exec.
	files = append(files, sp.extraFiles()...)
	var conn *ipc.Conn
	var childEnd *os.File
	if sp.IPC {
		conn, childEnd, err = ipc.PairOptions(ipc.Options{MaxLine: sp.IPCMaxLine})
		if err != nil {
			closeOutput()
			if tr == nil {
				outW.Close()
				errW.Close()
			}
			return nil, fmt.Errorf("message channel: %w", err)
		}
		// The channel follows any extra descriptors: fd 3 by default,
		// where Node's fork() puts it too.
		env = append(env, ipc.ChildEnv(len(files))...)
		files = append(files, childEnd)
	}
	p, err := s.startInCgroup(u, r, path, argv, &os.ProcAttr{
		Dir:   sp.Dir,
		Env:   env,
		Files: files,
		Sys:   sys,
	})
	// The child has its copies; ours must go or EOF never comes.
	if tr == nil {
		outW.Close()
		errW.Close()
	}
	if childEnd != nil {
		childEnd.Close()
	}
	if err != nil {
		closeOutput()
		if conn != nil {
			conn.Close()
		}
		return nil, err
	}
	r.mainPID, r.pgid = p.Pid, p.Pid
	// Exit statuses come from the reaper (wait4 on any child); the handle
	// is not needed, and releasing it frees its pidfd now.
	_ = p.Release()
	// Said before the output is read, so the log reads in order: the
	// start, then what the run printed.
	s.event(u, "started: pid %d", r.mainPID)
	name := sp.Name
	notify := func(last uint64) { s.broker.logs(name, last) }
	watches := s.logWatches(u, r)
	if tr != nil {
		s.startTTY(u, r, tr, watches)
	}
	// Registered only now, so a pipe is never read before its run exists;
	// onExit releases them (see readers.release).
	for i, fd := range [2]int{outR, errR} {
		if fd < 0 {
			continue // a tty unit's output comes from its PTY
		}
		stream := [2]Stream{Stdout, Stderr}[i]
		var err error
		pu := newPump(u.ring, stream, s.opts.MaxLine, notify)
		pu.watch, pu.mayWait = watches, true
		if r.pipes[i], err = s.readers.add(fd, pu); err != nil {
			// The pipe is closed: the child's writes to it fail (EPIPE).
			s.event(u, "%s is not read: %v", [2]string{"stdout", "stderr"}[i], err)
		}
	}
	if conn != nil {
		r.conn = conn
		u.info.Channel = ChannelConnected
		ms, ring := u.msgs, u.ring
		if cs != nil {
			r.cw = cs.disp.Attach(runID, conn)
			r.node = cs.def.Mode == ModeNode
			s.watchDispatchReady(name, r, cs)
		}
		cw := r.cw
		s.pumps.Add(1)
		go func() { defer s.pumps.Done(); s.readChannel(name, ms, ring, conn, cw) }()
	}
	return r, nil
}

// listenShim wraps a command so that LISTEN_PID is the pid of the program
// itself, as systemd sets it after its fork: the shell exports its own pid
// ($$) and execs the program in its place, keeping that pid. A command that
// is already a shell command gets the variable exported before it, and is
// exec'd too when it is one simple command (dash would fork it, and the
// server's pid would not be LISTEN_PID).
func listenShim(sp *Spec, path string, argv []string) ([]string, string) {
	const export = "LISTEN_PID=$$; export LISTEN_PID; "
	if sp.Shell != "" {
		cmd := sp.Shell
		if simpleCommand(cmd) {
			cmd = "exec " + cmd
		}
		return []string{"/bin/sh", "-c", export + cmd}, "/bin/sh"
	}
	// "$0" "$@" pass the program and its arguments through untouched: no
	// word of them is ever parsed by the shell.
	return append([]string{"/bin/sh", "-c", export + `exec "$0" "$@"`, path}, argv[1:]...), "/bin/sh"
}

// simpleCommand reports whether a shell command is one plain command that
// `exec` can be put before: no operators, substitutions, redirections or
// compound words, and no leading VAR=value (exec would take it for the
// program).
func simpleCommand(cmd string) bool {
	f := strings.Fields(cmd)
	if len(f) == 0 || strings.ContainsAny(cmd, ";&|<>()`$\n{}!#*?[]~\\") || strings.Contains(f[0], "=") {
		return false
	}
	switch f[0] {
	case "if", "for", "while", "until", "case", "exec", "cd", "export", "set", "eval", ".":
		return false
	}
	return true
}

// resolve finds the program to exec the way a shell would: a name with a
// slash is taken relative to the unit's directory, a bare name is looked up
// in PATH (the unit's own PATH if its env sets one).
func resolve(name, dir string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) && dir != "" {
			name = filepath.Join(dir, name)
		}
		return name, nil
	}
	pathVar := os.Getenv("PATH")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, d := range filepath.SplitList(pathVar) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: %w", name, exec.ErrNotFound)
}

// childEnv is base with extra applied on top (later keys win) and tag set.
func childEnv(base, extra []string, tag string) []string {
	env := make([]string, 0, len(base)+len(extra)+1)
	idx := make(map[string]int, len(base)+len(extra))
	add := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			env[i] = kv
			return
		}
		idx[k] = len(env)
		env = append(env, kv)
	}
	for _, kv := range base {
		add(kv)
	}
	for _, kv := range extra {
		add(kv)
	}
	add(tag)
	return env
}

// quoteArgv renders an argv for display, quoting words a shell would split
// and words holding anything but printable text (Go quoting escapes controls,
// so nothing of an argv reaches a terminal as a command).
func quoteArgv(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") && plain([]byte(a)) {
			b.WriteString(a)
			continue
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}
