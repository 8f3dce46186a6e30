package control

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kelpie-dev/kelpie/procs"
)

// A Mux carries many control connections over one byte stream: the stdin
// and stdout of `ssh HOST kelpie dial-stdio`, whose far end (ServeStdio)
// opens a connection to the control socket for each stream. One ssh
// session serves the attached screen's every request (the protocol opens a
// connection per request), so a request costs a round trip, not an ssh
// handshake.
//
// The wire: the bridge first writes one greeting line (the kelpie's hello
// answer, or the error that kept it from getting one); then both sides
// write frames of a 9-byte header (type, stream id, payload length, big
// endian) and the payload. A stream is opened by the client, carries data
// both ways, and is closed by either side. Backpressure is the byte
// stream's: a stream whose reader does not read holds up the others, which
// the protocol's readers never do for long (they read until the answer
// ends; a subscription's events are coalesced, not queued).
type Mux struct {
	r      *bufio.Reader
	w      io.Writer
	closer io.Closer

	wmu sync.Mutex // one frame at a time on w

	mu      sync.Mutex
	streams map[uint32]*muxStream
	next    uint32
	err     error         // why the byte stream ended, once it has
	done    chan struct{} // closed once the byte stream has ended (the fuzz test awaits it)
}

// Frame types.
const (
	frameOpen  = 1
	frameData  = 2
	frameClose = 3

	frameHeader = 9
	maxFrame    = 64 << 10 // the largest payload either side sends or takes
)

// bridgeGreeting is the Text of the bridge's greeting: it names the framing
// (a newer one gets a new word, and an older client says so).
const bridgeGreeting = "kelpie dial-stdio mux 1"

// NoiseError means the far end wrote something that is not kelpie before
// kelpie's greeting: a shell's start-up files printing to stdout, most often.
type NoiseError struct {
	Text string // the first line it wrote (sanitised, cut short)
}

func (e *NoiseError) Error() string {
	return fmt.Sprintf("the remote printed %q before kelpie answered: check the server's shell startup files (they must print nothing for a non-interactive ssh command)", e.Text)
}

// ErrNoGreeting means the byte stream ended before the bridge said a word
// (ssh failed, or the remote command did not run): the caller knows why.
var ErrNoGreeting = errors.New("the remote kelpie never answered")

// OpenMux reads the bridge's greeting from r and returns the Mux over r
// and w; closing the Mux closes c. A greeting that is not kelpie's is a
// *NoiseError; a kelpie of an older protocol, or no kelpie at all at the
// far end, is said in one sentence.
func OpenMux(r io.Reader, w io.Writer, c io.Closer) (*Mux, error) {
	br := bufio.NewReaderSize(r, maxFrame+frameHeader)
	line, err := br.ReadSlice('\n')
	if len(line) == 0 && err != nil {
		return nil, ErrNoGreeting
	}
	var resp Response
	if jerr := json.Unmarshal(line, &resp); jerr != nil || err != nil || (!resp.OK && resp.Error == "") {
		return nil, &NoiseError{Text: firstWords(line)}
	}
	if resp.Error != "" {
		// Another machine's words: made safe to print here, once.
		resp.Error = procs.Clean(resp.Error)
		return nil, responseError(resp)
	}
	if resp.Text != bridgeGreeting {
		return nil, fmt.Errorf("the remote kelpie's bridge speaks %q, this one %q: use the same kelpie version on both ends", procs.Clean(resp.Text), bridgeGreeting)
	}
	if resp.V < ProtocolVersion {
		return nil, fmt.Errorf("the remote kelpie speaks protocol %d, this one %d: use the same kelpie version on both ends", max(resp.V, 1), ProtocolVersion)
	}
	m := &Mux{r: br, w: w, closer: c, streams: make(map[uint32]*muxStream), done: make(chan struct{})}
	go m.read()
	return m, nil
}

// firstWords is the start of a line of outside text, fit to quote.
func firstWords(line []byte) string {
	s := strings.TrimSpace(procs.Clean(strings.ToValidUTF8(string(line), "?")))
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}

// Dial opens a stream: one control connection.
func (m *Mux) Dial(ctx context.Context) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.err != nil {
		err := m.err
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrLost, err)
	}
	m.next++
	inner, outer := net.Pipe()
	s := &muxStream{m: m, id: m.next, inner: inner}
	m.streams[s.id] = s
	m.mu.Unlock()
	if err := m.send(frameOpen, s.id, nil); err != nil {
		outer.Close()
		return nil, fmt.Errorf("%w: %v", ErrLost, err)
	}
	go s.pump()
	return &muxConn{Conn: outer, s: s}, nil
}

// Err says why the byte stream ended (nil while it has not).
func (m *Mux) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Close ends every stream and closes the byte stream.
func (m *Mux) Close() error {
	m.fail(errors.New("closed"))
	return nil
}

// fail ends the Mux once: every stream's reader sees ErrLost.
func (m *Mux) fail(err error) {
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return
	}
	m.err = err
	streams := m.streams
	m.streams = nil
	m.mu.Unlock()
	for _, s := range streams {
		s.inner.Close()
	}
	if m.closer != nil {
		_ = m.closer.Close()
	}
	close(m.done)
}

// send writes one frame.
func (m *Mux) send(typ byte, id uint32, payload []byte) error {
	b := make([]byte, frameHeader, frameHeader+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:], id)
	binary.BigEndian.PutUint32(b[5:], uint32(len(payload)))
	b = append(b, payload...)
	m.wmu.Lock()
	_, err := m.w.Write(b)
	m.wmu.Unlock()
	if err != nil {
		m.fail(err)
	}
	return err
}

// read hands each frame to its stream until the byte stream ends.
func (m *Mux) read() {
	for {
		typ, id, payload, err := readFrame(m.r)
		if err != nil {
			m.fail(err)
			return
		}
		m.mu.Lock()
		s := m.streams[id]
		if typ == frameClose && s != nil {
			delete(m.streams, id)
			s.clean.Store(true)
		}
		m.mu.Unlock()
		switch {
		case s == nil:
		case typ == frameData:
			// Blocks until the stream's reader has it (backpressure); fails
			// at once if it has hung up.
			_, _ = s.inner.Write(payload)
		case typ == frameClose:
			s.inner.Close()
		}
	}
}

// readFrame reads one frame (its payload is valid until the next read).
func readFrame(r *bufio.Reader) (typ byte, id uint32, payload []byte, err error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[5:])
	if n > maxFrame || h[0] < frameOpen || h[0] > frameClose {
		return 0, 0, nil, fmt.Errorf("bad frame (type %d, %d bytes): the bridge's byte stream is corrupt", h[0], n)
	}
	payload, err = r.Peek(int(n))
	if err != nil {
		return 0, 0, nil, err
	}
	_, _ = r.Discard(int(n))
	return h[0], binary.BigEndian.Uint32(h[1:]), payload, nil
}

// muxStream is one stream: inner is the Mux's end of the pipe whose other
// end the caller holds.
type muxStream struct {
	m     *Mux
	id    uint32
	inner net.Conn
	clean atomic.Bool // the far end closed it (not the byte stream ending)
}

// pump sends what the caller writes; the caller hanging up closes the
// stream at the far end too.
func (s *muxStream) pump() {
	buf := make([]byte, 32<<10)
	for {
		n, err := s.inner.Read(buf)
		if n > 0 && s.m.send(frameData, s.id, buf[:n]) != nil {
			return
		}
		if err != nil {
			break
		}
	}
	s.m.mu.Lock()
	mine := s.m.streams[s.id] == s
	if mine {
		delete(s.m.streams, s.id)
	}
	s.m.mu.Unlock()
	if mine {
		_ = s.m.send(frameClose, s.id, nil)
	}
}

// muxConn is the caller's end of a stream: its reads end with ErrLost, not
// a clean EOF, when the byte stream broke rather than the far end closing.
type muxConn struct {
	net.Conn
	s *muxStream
}

func (c *muxConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF && !c.s.clean.Load() {
		cause := c.s.m.Err()
		if cause == nil {
			cause = io.ErrUnexpectedEOF
		}
		return n, fmt.Errorf("%w: %v", ErrLost, cause)
	}
	return n, err
}

// ServeStdio is the far end of a Mux (`kelpie dial-stdio`): it greets with
// the kelpie's hello answer (or the error of asking: no kelpie running),
// then opens a connection with dial for every stream and copies between
// them, until r ends. An error greeting is also returned.
func ServeStdio(ctx context.Context, r io.Reader, w io.Writer, dial Dialer) error {
	var hello Response
	err := DoWith(ctx, dial, Request{Cmd: "hello", V: ProtocolVersion}, func(r Response) error { hello = r; return nil }, nil)
	greet := Response{OK: true, V: max(hello.V, 1), Text: bridgeGreeting}
	if err != nil {
		greet = Response{Error: err.Error(), Code: codeOf(err)}
	}
	b, jerr := json.Marshal(greet)
	if jerr != nil {
		return fmt.Errorf("encode greeting: %w", jerr)
	}
	if _, werr := w.Write(append(b, '\n')); werr != nil {
		return fmt.Errorf("write greeting: %w", werr)
	}
	if err != nil {
		return err
	}
	return serveMux(ctx, bufio.NewReaderSize(r, maxFrame+frameHeader), w, dial)
}

// serveMux is the bridge's frame loop.
func serveMux(ctx context.Context, r *bufio.Reader, w io.Writer, dial Dialer) error {
	var (
		wmu   sync.Mutex
		mu    sync.Mutex
		conns = make(map[uint32]net.Conn)
		wg    sync.WaitGroup
	)
	send := func(typ byte, id uint32, payload []byte) {
		b := make([]byte, frameHeader, frameHeader+len(payload))
		b[0] = typ
		binary.BigEndian.PutUint32(b[1:], id)
		binary.BigEndian.PutUint32(b[5:], uint32(len(payload)))
		wmu.Lock()
		_, _ = w.Write(append(b, payload...))
		wmu.Unlock()
	}
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		typ, id, payload, err := readFrame(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		mu.Lock()
		c := conns[id]
		if typ == frameClose {
			delete(conns, id)
		}
		mu.Unlock()
		switch typ {
		case frameOpen:
			c, err := dial(ctx)
			if err != nil {
				// Said as the server would say it, on the stream.
				b, _ := json.Marshal(Response{Error: err.Error(), Code: codeOf(err)})
				send(frameData, id, append(b, '\n'))
				send(frameClose, id, nil)
				continue
			}
			mu.Lock()
			conns[id] = c
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						send(frameData, id, buf[:n])
					}
					if err != nil {
						break
					}
				}
				mu.Lock()
				mine := conns[id] == c
				delete(conns, id)
				mu.Unlock()
				c.Close()
				if mine {
					send(frameClose, id, nil)
				}
			}()
		case frameData:
			if c != nil {
				if _, err := c.Write(payload); err != nil {
					c.Close()
				}
			}
		case frameClose:
			if c != nil {
				c.Close()
			}
		}
	}
}
