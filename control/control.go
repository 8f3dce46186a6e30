// Package control is kelpie's control socket: the server every running kelpie
// (TUI or headless) serves on a private unix socket, and the client the
// `kelpie ps|logs|start|stop|restart|signal|send|down` commands use.
//
// The protocol is one JSON request line per connection, answered by one or
// more JSON response lines; `logs --follow` keeps streaming until either side
// hangs up.
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

	"github.com/kelpie-dev/kelpie/procs"
)

// EnvSocket names the environment variable that overrides the socket path.
const EnvSocket = "KELPIE_SOCKET"

// Request is what a client sends.
type Request struct {
	Cmd    string          `json:"cmd"`              // ps, logs, messages, start, stop, restart, signal, send, down
	Name   string          `json:"name,omitempty"`   // the unit
	N      int             `json:"n,omitempty"`      // logs, messages: how many of the newest
	Follow bool            `json:"follow,omitempty"` // logs: keep streaming
	Signal string          `json:"signal,omitempty"` // signal: TERM, SIGTERM, 15, ...
	Msg    json.RawMessage `json:"msg,omitempty"`    // send: the message
}

// Response is one line the server sends back.
type Response struct {
	Error  string       `json:"error,omitempty"`
	OK     bool         `json:"ok,omitempty"`
	Units  []procs.Info `json:"units,omitempty"`
	Line   *procs.Line  `json:"line,omitempty"`
	Missed uint64       `json:"missed,omitempty"` // logs: lines dropped before they could be sent
	Text   string       `json:"text,omitempty"`   // a human message (e.g. "already stopped")

	// Message is one channel message, for "messages".
	Message *procs.Message `json:"message,omitempty"`
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

func runtimeDir() (string, error) {
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		d := filepath.Join(x, "kelpie")
		if err := os.MkdirAll(d, 0o700); err == nil {
			return d, nil
		}
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("kelpie-%d", os.Getuid()))
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	// A shared /tmp: refuse a directory someone else made or others can enter.
	fi, err := os.Lstat(d)
	if err != nil {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("socket directory %s is not a private directory (mode %s)", d, fi.Mode())
	}
	return d, nil
}
