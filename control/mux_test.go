package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/internal/enginetest"
	"github.com/kelpie-dev/kelpie/procs"
)

type closeFunc func() error

func (f closeFunc) Close() error { return f() }

// bridge runs ServeStdio over in-memory pipes, as `ssh HOST kelpie
// dial-stdio` would, and returns the client's end: the Mux, or OpenMux's
// error. noise is written before the bridge speaks, as a shell's start-up
// file would.
func bridge(t *testing.T, dial Dialer, noise string) (*Mux, error) {
	t.Helper()
	cr, cw := io.Pipe() // client -> bridge
	br, bw := io.Pipe() // bridge -> client
	done := make(chan struct{})
	go func() {
		defer close(done)
		if noise != "" {
			_, _ = bw.Write([]byte(noise))
		}
		_ = ServeStdio(context.Background(), cr, bw, dial)
		bw.Close()
	}()
	t.Cleanup(func() {
		cw.Close()
		br.Close()
		<-done
	})
	return OpenMux(br, cw, closeFunc(func() error { cw.Close(); return br.Close() }))
}

// A Client over the ssh bridge's Mux keeps the engine contract: the
// attached screen gets a whole engine whichever way it reaches kelpie.
func TestMuxClientKeepsTheEngineContract(t *testing.T) {
	enginetest.Run(t, func(t *testing.T, specs []procs.Spec) procs.Engine {
		s, err := procs.New(procs.Options{Tick: -1})
		if err != nil {
			t.Fatal(err)
		}
		shutdown := func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		}
		t.Cleanup(shutdown)
		for _, sp := range specs {
			if err := s.Add(sp); err != nil {
				t.Fatal(err)
			}
		}
		srv := serve(t, s, nil)
		srv.Down = func() { shutdown(); srv.Close() }
		m, err := bridge(t, unixDialer(srv.Path(), os.Geteuid()), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		c, err := DialWith(t.Context(), "ssh://test", m.Dial)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func TestMuxReportsNoiseInOneSentence(t *testing.T) {
	srv := serve(t, newFake(t), nil)
	_, err := bridge(t, unixDialer(srv.Path(), os.Geteuid()), "Welcome to \x1b]0;evil\x07the server!\n")
	var ne *NoiseError
	if !errors.As(err, &ne) {
		t.Fatalf("got %v, want a NoiseError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `"Welcome to the server!"`) || strings.ContainsAny(msg, "\x1b\x07\n") {
		t.Fatalf("noise said as %q", msg)
	}
}

func TestMuxSaysNoKelpieRuns(t *testing.T) {
	_, err := bridge(t, unixDialer(t.TempDir()+"/none.sock", os.Geteuid()), "")
	if err == nil || !strings.Contains(err.Error(), "no kelpie is running") {
		t.Fatalf("got %v", err)
	}
}

func TestMuxRefusesAnOlderRemote(t *testing.T) {
	br, bw := io.Pipe()
	go func() { _, _ = bw.Write([]byte(`{"ok":true,"v":1,"text":"` + bridgeGreeting + `"}` + "\n")) }()
	_, err := OpenMux(br, io.Discard, br)
	if want := fmt.Sprintf("the remote kelpie speaks protocol 1, this one %d", ProtocolVersion); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v", err)
	}
	if _, err := OpenMux(strings.NewReader(""), io.Discard, nil); !errors.Is(err, ErrNoGreeting) {
		t.Fatalf("an empty stream: %v", err)
	}
}

// The byte stream breaking (ssh dying) ends every request in flight with
// ErrLost, and a subscription with procs.ErrClosed: the attached screen
// then says the kelpie has gone away.
func TestMuxLostEndsStreams(t *testing.T) {
	srv := serve(t, newFake(t), nil)
	m, err := bridge(t, unixDialer(srv.Path(), os.Geteuid()), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := DialWith(t.Context(), "ssh://test", m.Dial)
	if err != nil {
		t.Fatal(err)
	}
	_, ev := c.Subscribe()
	defer ev.Close()
	m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, err := ev.Next(ctx)
		if err == nil {
			continue
		}
		if !errors.Is(err, procs.ErrClosed) {
			t.Fatalf("subscription ended with %v", err)
		}
		break
	}
	if err := c.Start("x"); !errors.Is(err, ErrLost) {
		t.Fatalf("a request after the loss: %v", err)
	}
}

// Whatever the far end writes (it is another machine's ssh session),
// OpenMux and the frame reader answer with an error or a Mux, never a
// panic, and a Mux over garbage ends.
func FuzzOpenMux(f *testing.F) {
	f.Add([]byte(`{"ok":true,"v":2,"text":"` + bridgeGreeting + `"}` + "\n\x02\x00\x00\x00\x01\x00\x00\x00\x02{}"))
	f.Add([]byte("Welcome!\n"))
	f.Add([]byte(`{"error":"no kelpie is running"}` + "\n"))
	f.Add([]byte(`{"error":"\u001b]0;x\u0007\r"}` + "\n"))
	f.Add([]byte(`{"ok":true,"v":2,"text":"` + bridgeGreeting + `"}` + "\n\x03\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := OpenMux(bytes.NewReader(b), io.Discard, nil)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\x1b\x07\r") {
				t.Fatalf("raw control bytes in %q", err)
			}
			return
		}
		c, err := m.Dial(context.Background())
		if err == nil {
			c.Close()
		}
		<-m.done // the input ran out: the Mux has ended
	})
}
