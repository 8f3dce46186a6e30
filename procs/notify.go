package procs

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// notifyMax is the longest sd_notify datagram accepted (systemd's own
// limit is PIPE_BUF); a longer one is cut by the kernel, so it is dropped.
const notifyMax = 4096

// maxStatus caps a STATUS= text shown beside the unit.
const maxStatus = 200

// notifySock is a unit's private sd_notify socket: a unixgram socket in a
// directory only kelpie's user can enter, given to its runs as
// NOTIFY_SOCKET. It lives as long as the unit; each datagram is checked
// against the unit's current run by its sender's credentials.
type notifySock struct {
	dir  string
	path string
	conn *net.UnixConn
}

// notifySocket returns the unit's socket, making it on first use. Owner
// goroutine only.
func (s *Supervisor) notifySocket(u *unit) (*notifySock, error) {
	if u.notify != nil {
		return u.notify, nil
	}
	dir, err := os.MkdirTemp("", "kelpie-notify-")
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	var serr error
	raw, err := conn.SyscallConn()
	if err == nil {
		err = raw.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		})
	}
	if err = errors.Join(err, serr); err != nil {
		conn.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("notify socket: credentials: %w", err)
	}
	ns := &notifySock{dir: dir, path: path, conn: conn}
	u.notify = ns
	name := u.spec.Name
	s.pumps.Add(1)
	go func() { defer s.pumps.Done(); s.readNotify(name, ns) }()
	return ns, nil
}

// close removes the socket; its reader ends.
func (ns *notifySock) close() {
	ns.conn.Close()
	os.RemoveAll(ns.dir)
}

// notifyEnv is what a run is given: the socket, and the watchdog interval
// the way systemd gives it (sd_watchdog_enabled reads it).
func (ns *notifySock) env(watchdog int64) []string {
	env := []string{"NOTIFY_SOCKET=" + ns.path}
	if watchdog > 0 {
		env = append(env, "WATCHDOG_USEC="+strconv.FormatInt(watchdog, 10))
	}
	return env
}

// notifyMsg is one accepted datagram's fields.
type notifyMsg struct {
	pid      int
	ready    bool
	watchdog bool
	status   string
	hasStat  bool
}

// readNotify reads the unit's datagrams until the socket is closed. What a
// child sends is outside input: a datagram that is too long, not UTF-8, not
// KEY=VALUE lines or without credentials is dropped and counted.
func (s *Supervisor) readNotify(name string, ns *notifySock) {
	buf := make([]byte, notifyMax+1)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+64)
	for {
		n, oobn, flags, _, err := ns.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				// Not worth a retry loop that could spin: say so, and stop.
				s.post(func() {
					if u := s.units[name]; u != nil && u.notify == ns {
						s.event(u, "notify: reading the socket failed, no more datagrams are read: %v", err)
					}
				})
			}
			return
		}
		m, why := parseNotify(buf[:n], oob[:oobn], flags)
		s.post(func() { s.onNotify(name, ns, m, why) })
	}
}

// parseNotify checks and decodes one datagram; why says why it is dropped.
func parseNotify(b, oob []byte, flags int) (notifyMsg, string) {
	var m notifyMsg
	if flags&unix.MSG_TRUNC != 0 || len(b) > notifyMax {
		return m, fmt.Sprintf("over %d bytes", notifyMax)
	}
	if flags&unix.MSG_CTRUNC != 0 {
		return m, "control data cut"
	}
	m.pid = senderPID(oob)
	if m.pid <= 0 {
		return m, "no sender credentials"
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return m, "not UTF-8 text"
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok || len(k) == 0 {
			return m, "a line is not KEY=VALUE"
		}
		switch string(k) {
		case "READY":
			m.ready = string(v) == "1"
		case "WATCHDOG":
			m.watchdog = string(v) == "1"
		case "STATUS":
			m.status, m.hasStat = string(v), true
		}
	}
	return m, ""
}

// senderPID is the pid in a datagram's SCM_CREDENTIALS (0: none).
func senderPID(oob []byte) int {
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for i := range cms {
		if c, err := unix.ParseUnixCredentials(&cms[i]); err == nil {
			return int(c.Pid)
		}
	}
	return 0
}

// onNotify applies a datagram to the unit's current run. Owner goroutine only.
func (s *Supervisor) onNotify(name string, ns *notifySock, m notifyMsg, why string) {
	u := s.units[name]
	if u == nil || u.notify != ns {
		return
	}
	p, _ := u.run.(*procRun)
	if why == "" && (p == nil || !u.alive()) {
		why = "no run is live"
	}
	if why == "" && m.pid != p.mainPID {
		// Cheap tree check: the sender is in the run's process group (a
		// helper it started, a shell's child). A stranger that found the
		// socket is not trusted.
		if pg, err := unix.Getpgid(m.pid); err != nil || pg != p.pgid {
			why = "sender pid " + strconv.Itoa(m.pid) + " is not in the unit's process group"
		}
	}
	if why != "" {
		u.info.NotifyIgnored++
		if n := u.info.NotifyIgnored; n&(n-1) == 0 {
			// The 1st, 2nd, 4th, 8th ...: a sender flooding the socket
			// costs a counter (the broker coalesces the publishes), not a
			// log line each.
			s.event(u, "notify: ignored a datagram (%s); %d ignored so far", why, n)
		}
		s.publish(u)
		return
	}
	if m.hasStat {
		st := cleanLine(m.status)
		if len(st) > maxStatus {
			st = st[:cutText([]byte(st), maxStatus)] + "…"
		}
		if st != u.info.Status {
			u.info.Status = st
			s.publish(u)
		}
	}
	if m.watchdog && u.watchdog != nil {
		s.armWatchdog(u)
	}
	// READY=1 counts unless another readiness probe decides (a unit with
	// only a watchdog is ready when it says so, as {"ready":true} is).
	if m.ready && (u.spec.Ready == nil || u.spec.Ready.Kind == ProbeNotify) {
		s.setReady(u, "READY=1 on its notify socket")
	}
}
