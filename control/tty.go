package control

import (
	"errors"
	"fmt"

	"github.com/kelpie-dev/kelpie/procs"
	"github.com/kelpie-dev/kelpie/vterm"
)

// The requests of protocol version 3: a tty unit's terminal (procs.Terminals)
// over the socket, for an attached screen and `kelpie send-keys`.

// maxKeys bounds the keys one request sends (far more than anyone types in
// one go; the request line's 1 MiB cap bounds it as well).
const maxKeys = 10000

// terminals serves screen, scrollback, keys, paste and resize; handled is
// false for any other request.
func (s *Server) terminals(req Request, reply func(Response) error) (handled bool, err error) {
	switch req.Cmd {
	case "screen", "scrollback", "keys", "paste", "resize":
	default:
		return false, nil
	}
	if req.Name == "" {
		return true, errors.New("no unit named")
	}
	tm, ok := s.eng.(procs.Terminals)
	if !ok {
		return true, fmt.Errorf("%s: this engine has no terminals", req.Cmd)
	}
	switch req.Cmd {
	case "screen":
		sc, err := tm.Screen(req.Name)
		if err != nil {
			return true, err
		}
		return true, reply(Response{OK: true, Screen: &sc})
	case "scrollback":
		rows, err := tm.Scrollback(req.Name, req.From, req.To)
		if err != nil {
			return true, err
		}
		if rows == nil {
			rows = []string{}
		}
		return true, reply(Response{OK: true, Rows: rows})
	case "keys":
		if len(req.Keys) > maxKeys {
			return true, fmt.Errorf("keys: %d keys in one request, at most %d", len(req.Keys), maxKeys)
		}
		err = tm.Keys(req.Name, req.Keys)
	case "paste":
		err = tm.Paste(req.Name, req.Text)
	case "resize":
		err = tm.Resize(req.Name, req.Cols, req.Rows)
	}
	if err != nil {
		return true, err
	}
	return true, reply(Response{OK: true})
}

var _ procs.Terminals = (*Client)(nil)

// Screen returns a tty unit's emulated screen. What the server sends is
// passed through procs.Clean (an emulator's rows are text and SGR, which
// it keeps unchanged): nothing else can reach the terminal that draws it.
func (c *Client) Screen(name string) (procs.Screen, error) {
	var sc procs.Screen
	err := c.call(Request{Cmd: "screen", Name: name}, func(r Response) error {
		if r.Screen != nil {
			sc = *r.Screen
		}
		return nil
	})
	if err != nil {
		return procs.Screen{}, err
	}
	for i, l := range sc.Lines {
		sc.Lines[i] = procs.Clean(l)
	}
	sc.Title = procs.Clean(sc.Title)
	return sc, nil
}

// Scrollback returns lines [from, to) of a tty unit's scrollback, cleaned
// as Screen's rows are.
func (c *Client) Scrollback(name string, from, to int) ([]string, error) {
	var rows []string
	err := c.call(Request{Cmd: "scrollback", Name: name, From: from, To: to}, func(r Response) error {
		rows = r.Rows
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, l := range rows {
		rows[i] = procs.Clean(l)
	}
	return rows, nil
}

// Keys sends key presses to a tty unit's child.
func (c *Client) Keys(name string, keys []vterm.Key) error {
	return c.call(Request{Cmd: "keys", Name: name, Keys: keys}, nil)
}

// Paste sends text to a tty unit's child as one paste.
func (c *Client) Paste(name string, text string) error {
	return c.call(Request{Cmd: "paste", Name: name, Text: text}, nil)
}

// Resize sets a tty unit's terminal size.
func (c *Client) Resize(name string, cols, rows int) error {
	return c.call(Request{Cmd: "resize", Name: name, Cols: cols, Rows: rows}, nil)
}
