package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// ErrLost means the connection to kelpie broke in the middle of an exchange
// (kelpie exited or was killed).
var ErrLost = errors.New("the connection to kelpie was lost")

// Do sends req to the kelpie at path and calls each for every response line
// until the server closes the connection. A response carrying an error ends
// the exchange with that error.
func Do(path string, req Request, each func(Response) error) error {
	return DoContext(context.Background(), path, req, each)
}

// DoContext is Do bounded by ctx: its deadline bounds the dial and every
// read, and cancelling it ends the exchange with ctx's error. Shell
// completion uses it so a stuck kelpie never hangs the user's shell.
func DoContext(ctx context.Context, path string, req Request, each func(Response) error) error {
	return do(ctx, path, req, each, nil, os.Geteuid())
}

// Stream is DoContext for a stream of responses (`logs --follow`): flush is
// called whenever the responses received so far have all been passed to
// each and the next would have to be waited for, so a caller that buffers
// what each makes writes it once per batch the server sent, not per line.
func Stream(ctx context.Context, path string, req Request, each func(Response) error, flush func() error) error {
	return do(ctx, path, req, each, flush, os.Geteuid())
}

// do is DoContext for a server that must belong to uid: a socket served by
// anyone else (planted in a shared directory, say) is not talked to.
func do(ctx context.Context, path string, req Request, each func(Response) error, flush func() error, uid int) error {
	return DoWith(ctx, unixDialer(path, uid), req, each, flush)
}

// UnixDialer dials the control socket at path: the connections it opens
// are checked to be served by this user, as Do's are.
func UnixDialer(path string) Dialer { return unixDialer(path, os.Geteuid()) }

// unixDialer dials the control socket at path and checks that uid serves it.
func unixDialer(path string, uid int) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w (control socket %s: %v)", ErrNotRunning, path, errors.Unwrap(err))
		}
		peer, err := peerUID(c.(*net.UnixConn))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: %w", path, err)
		}
		if peer != uid {
			c.Close()
			return nil, fmt.Errorf("control socket %s is served by uid %d, not by you (uid %d); refusing to use it", path, peer, uid)
		}
		return c, nil
	}
}

// DoWith is Stream over any transport: dial opens the connection the
// request goes on (a unix socket, a stream of an ssh bridge's Mux).
func DoWith(ctx context.Context, dial Dialer, req Request, each func(Response) error, flush func() error) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// Cancelling ctx unblocks a pending read or write at once.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	if len(b) > maxRequest {
		return fmt.Errorf("request too large: %d bytes, over the control socket's limit of %d (1 MiB)", len(b), maxRequest)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	if _, err := c.Write(append(b, '\n')); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A refused connection (busy, another user) is answered and closed
		// before the request is read: prefer the server's reason.
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if line, _ := r.ReadBytes('\n'); len(line) > 0 {
			var resp Response
			if json.Unmarshal(line, &resp) == nil && resp.Error != "" {
				return errors.New(resp.Error)
			}
		}
		return fmt.Errorf("send request: %w", err)
	}
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && err == nil {
			var resp Response
			if jerr := decodeResponse(line, &resp); jerr != nil {
				return fmt.Errorf("bad response from kelpie: %w", jerr)
			}
			if resp.Error != "" {
				return responseError(resp)
			}
			if err := each(resp); err != nil {
				return err
			}
			if flush != nil && r.Buffered() == 0 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case err == io.EOF && len(line) == 0:
			return nil
		default:
			// A partial last line or a reset: kelpie went away mid-answer.
			return fmt.Errorf("%w: %v", ErrLost, err)
		}
	}
}
