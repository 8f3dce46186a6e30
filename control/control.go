// Package control is kelpie's control socket: the server every running kelpie
// (TUI or headless) serves on a private unix socket, and the client the
// `kelpie ps|logs|start|stop|restart|signal|send|send-keys|down` commands
// use.
//
// The protocol is one JSON request line per connection, answered by one or
// more JSON response lines; `logs --follow` and `subscribe` keep streaming
// until either side hangs up. It carries the whole procs.Engine: Client is
// one over the socket. Requests and responses are listed in docs/DESIGN.md
// section 11; ProtocolVersion says which of them a kelpie speaks.
//
// Trust: the socket is mode 0600 in a directory only its user can write, and
// both ends check the other's uid (SO_PEERCRED): only the same user talks to
// a kelpie, root included in that rule. Listen never removes anything but a
// stale socket. A request line is at most 1 MiB and must arrive within 10 s;
// at most 64 connections are served at once (one more is told so and
// closed); a client that stops reading for 30 s is dropped, and Close ends
// every connection, so no client can hold kelpie's memory or its shutdown.
package control

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/vterm"
)

// EnvSocket names the environment variable that overrides the socket path.
const EnvSocket = "KELPIE_SOCKET"

// ProtocolVersion is the control protocol this kelpie speaks. Version 1 is
// the CLI's requests (ps, logs, messages, start, stop, restart, signal,
// send, down); version 2 adds what control.Client needs to be a whole
// procs.Engine (hello, subscribe, details, since, messages-since, nowait);
// version 3 adds procs.Terminals, a tty unit's terminal (screen,
// scrollback, keys, paste, resize). A request may carry the version it
// needs in "v" (absent: 1); a kelpie that speaks an older one refuses it,
// saying so, rather than guess.
const ProtocolVersion = 3

// Request is what a client sends.
type Request struct {
	// V is the protocol version the request needs (0: version 1).
	V    int    `json:"v,omitempty"`
	Cmd  string `json:"cmd"`            // see ProtocolVersion and docs/DESIGN.md
	Name string `json:"name,omitempty"` // the unit
	// Units names several units (logs); logs with neither Name nor Units
	// covers every unit.
	Units  []string        `json:"units,omitempty"`
	N      int             `json:"n,omitempty"`      // logs, messages: how many of the newest; since, messages-since: at most
	Follow bool            `json:"follow,omitempty"` // logs: keep streaming
	Signal string          `json:"signal,omitempty"` // signal: TERM, SIGTERM, 15, ...
	Msg    json.RawMessage `json:"msg,omitempty"`    // send: the message
	// After is the sequence number since and messages-since read after.
	After uint64 `json:"after,omitempty"`
	// ID makes since read the unit with this Info.ID (procs.IDSource): the
	// one of that name now, or a removed one's last lines.
	ID uint64 `json:"id,omitempty"`
	// NoWait makes start, stop and restart answer once the action is taken,
	// not once the unit has reached its state.
	NoWait bool `json:"nowait,omitempty"`
	// Threads makes ps list each unit's OS threads (Info.Threads), measured
	// on demand over a quarter of a second.
	Threads bool `json:"threads,omitempty"`
	// Keys are the key presses keys sends to a tty unit; Text is what
	// paste sends.
	Keys []vterm.Key `json:"keys,omitempty"`
	Text string      `json:"text,omitempty"`
	// From and To bound the lines scrollback reads, [from, to).
	From int `json:"from,omitempty"`
	To   int `json:"to,omitempty"`
	// Cols and Rows are the size resize sets.
	Cols int `json:"cols,omitempty"`
	Rows int `json:"rows,omitempty"`
}

// Response is one line the server sends back.
type Response struct {
	Error string `json:"error,omitempty"`
	// Code names the kind of error, for errors.Is on the client's side:
	// not_found, exists, running, not_running, shutdown (procs' errors).
	Code   string       `json:"code,omitempty"`
	OK     bool         `json:"ok,omitempty"`
	V      int          `json:"v,omitempty"` // hello, subscribe: the server's ProtocolVersion
	Units  []procs.Info `json:"units,omitempty"`
	Line   *procs.Line  `json:"line,omitempty"`
	Missed uint64       `json:"missed,omitempty"` // logs, since, messages-since: lines or messages gone
	Unit   string       `json:"unit,omitempty"`   // logs of several units: whose lines Missed counts
	Text   string       `json:"text,omitempty"`   // a human message (e.g. "already stopped")

	// Message is one channel message, for "messages".
	Message *procs.Message `json:"message,omitempty"`

	// Lines answers since; Messages answers messages-since.
	Lines    []procs.Line    `json:"lines,omitempty"`
	Messages []procs.Message `json:"messages,omitempty"`
	// Details answers details.
	Details *procs.Details `json:"details,omitempty"`
	// Event is one batch of a subscription (after its first response,
	// which carries the snapshot in Units).
	Event *Event `json:"event,omitempty"`
	// Screen answers screen; Rows answers scrollback.
	Screen *procs.Screen `json:"screen,omitempty"`
	Rows   []string      `json:"rows,omitempty"`
}

// Event is procs.Batch on the wire.
type Event struct {
	States  []procs.Info      `json:"states,omitempty"`
	Removed []string          `json:"removed,omitempty"`
	Stats   *procs.Stats      `json:"stats,omitempty"`
	Logs    map[string]uint64 `json:"logs,omitempty"`
}

// ErrNotRunning means no kelpie answers at the socket.
var ErrNotRunning = errors.New("no kelpie is running")

// Path picks the socket path: flag, then $KELPIE_SOCKET, then the default for key.
func Path(flag, key string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(EnvSocket); env != "" {
		return env, nil
	}
	return DefaultPath(key)
}

// DefaultPath derives a socket path from key (the config file's absolute
// path, or the demo's directory): one kelpie per config, found again by any
// client started for the same config. It lives in $XDG_RUNTIME_DIR/kelpie,
// or in a private /tmp/kelpie-UID when there is no runtime directory.
func DefaultPath(key string) (string, error) {
	dir, err := runtimeDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(key))
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, filepath.Base(filepath.Dir(key)))
	if len(base) > 24 {
		base = base[:24]
	}
	return filepath.Join(dir, base+"-"+hex.EncodeToString(sum[:5])+".sock"), nil
}

// runtimeDir returns the private directory that holds the default sockets,
// making it when it is missing. It must be a real directory (not a symlink),
// owned by this user and writable by no one else: whoever can write there
// could plant a socket or a lock of their own.
func runtimeDir() (string, error) {
	uid := os.Geteuid()
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		d := filepath.Join(x, "kelpie")
		// Mkdir, not MkdirAll: the runtime directory itself is the session's
		// to make; a missing one falls back to /tmp below.
		err := os.Mkdir(d, 0o700)
		if err == nil || errors.Is(err, os.ErrExist) {
			return d, checkPrivateDir(d, uid)
		}
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("kelpie-%d", uid))
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	return d, checkPrivateDir(d, uid)
}

// checkPrivateDir refuses a socket directory that another user could tamper
// with, saying how to fix it. uid is the user who must own it.
func checkPrivateDir(d string, uid int) error {
	fi, err := os.Lstat(d)
	if err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is %s, not a directory; remove it or set %s", d, kind(fi.Mode()), EnvSocket)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("socket directory %s: cannot read its owner", d)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("socket directory %s is owned by uid %d, not by you (uid %d); remove it or set XDG_RUNTIME_DIR", d, st.Uid, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("socket directory %s is writable by others (mode %04o); run: chmod 700 %s", d, fi.Mode().Perm(), d)
	}
	return nil
}

// kind names what a file is, for messages that refuse to touch it.
func kind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symlink"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
