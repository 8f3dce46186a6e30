package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Do sends req to the kelpie at path and calls each for every response line
// until the server closes the connection. A response carrying an error ends
// the exchange with that error.
func Do(path string, req Request, each func(Response) error) error {
	return do(path, req, each, os.Geteuid())
}

// do is Do for a server that must belong to uid: a socket served by anyone
// else (planted in a shared directory, say) is not talked to.
func do(path string, req Request, each func(Response) error, uid int) error {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return fmt.Errorf("%w (control socket %s: %v)", ErrNotRunning, path, errors.Unwrap(err))
	}
	defer c.Close()
	peer, err := peerUID(c.(*net.UnixConn))
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if peer != uid {
		return fmt.Errorf("control socket %s is served by uid %d, not by you (uid %d); refusing to use it", path, peer, uid)
	}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	if len(b) > maxRequest {
		return fmt.Errorf("request too large: %d bytes, over the control socket's limit of %d (1 MiB)", len(b), maxRequest)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	if _, err := c.Write(append(b, '\n')); err != nil {
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
		if len(line) > 0 {
			var resp Response
			if jerr := json.Unmarshal(line, &resp); jerr != nil {
				return fmt.Errorf("bad response from kelpie: %w", jerr)
			}
			if resp.Error != "" {
				return errors.New(resp.Error)
			}
			if err := each(resp); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read response: %w", err)
		}
	}
}
