package procs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/kelpie-dev/kelpie/ipc"
)

// spawn starts the unit's process: its own process group, stdin from
// /dev/null, stdout and stderr into pumps, Pdeathsig so it dies with this
// thread, and the run tag in its environment. It runs on the owner goroutine,
// whose OS thread lives as long as the supervisor (see loop).
func (s *Supervisor) spawn(u *unit) (int, error) {
	sp := &u.spec
	argv := sp.Argv
	if sp.Shell != "" {
		argv = []string{"/bin/sh", "-c", sp.Shell}
	}
	path, err := resolve(argv[0], sp.Dir, sp.Env)
	if err != nil {
		return 0, err
	}
	u.tag = fmt.Sprintf("%s/%s/%d", s.opts.Tag, sp.Name, u.runs+1)
	env := childEnv(os.Environ(), sp.Env, TagVar+"="+u.tag)

	outR, outW, err := blockingPipe()
	if err != nil {
		return 0, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := blockingPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return 0, fmt.Errorf("stderr pipe: %w", err)
	}
	growPipe(outR)
	growPipe(errR)
	files := []*os.File{s.devNull, outW, errW}
	var conn *ipc.Conn
	var childEnd *os.File
	if sp.IPC {
		// The channel is fd 3, where Node's fork() puts it too.
		conn, childEnd, err = ipc.PairOptions(ipc.Options{MaxLine: sp.IPCMaxLine})
		if err != nil {
			outR.Close()
			errR.Close()
			outW.Close()
			errW.Close()
			return 0, fmt.Errorf("message channel: %w", err)
		}
		files = append(files, childEnd)
		env = append(env, ipc.ChildEnv(3)...)
	}
	p, err := s.startInCgroup(u, path, argv, &os.ProcAttr{
		Dir:   sp.Dir,
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	// The child has its copies; ours must go or EOF never comes.
	outW.Close()
	errW.Close()
	if childEnd != nil {
		childEnd.Close()
	}
	if err != nil {
		outR.Close()
		errR.Close()
		if conn != nil {
			conn.Close()
		}
		return 0, err
	}
	pid := p.Pid
	// Exit statuses come from the reaper (wait4 on any child); the handle
	// is not needed, and releasing it frees its pidfd now.
	_ = p.Release()
	notify := func(last uint64) { s.broker.logs(sp.Name, last) }
	s.pumps.Add(2)
	go func() { defer s.pumps.Done(); newPump(u.ring, Stdout, s.opts.MaxLine, notify).run(outR) }()
	go func() { defer s.pumps.Done(); newPump(u.ring, Stderr, s.opts.MaxLine, notify).run(errR) }()
	if conn != nil {
		u.conn = conn
		u.info.Channel = ChannelConnected
		s.pumps.Add(1)
		go func() { defer s.pumps.Done(); s.readChannel(u, conn) }()
	}
	return pid, nil
}

// blockingPipe makes a pipe whose ends stay in blocking mode, so reads are
// plain blocking read(2) calls on the reader's own thread, like cat's. A pipe
// in Go's netpoller would be registered with epoll, and since Linux 5.5 every
// write to a pipe wakes the epoll waiter: a child printing a million lines one
// write at a time would wake kelpie a million times even while its reader
// pauses to let output gather (see pump.run).
func blockingPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
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

// quoteArgv renders an argv for display, quoting words a shell would split.
func quoteArgv(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			b.WriteString(a)
			continue
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}
