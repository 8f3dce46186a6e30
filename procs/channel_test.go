package procs

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kelpie-dev/kelpie/ipc"
)

func TestChannelRoundTripGoChild(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	spec := roleSpec("echo", "ipc-echo", "")
	spec.IPC = true
	_ = s.Add(spec)
	w := watch(t, s)
	_ = s.Start("echo")
	in := w.state("echo", Running)
	if in.Kind != KindFork || in.Channel != ChannelConnected {
		t.Fatalf("kind %s channel %q", in.Kind, in.Channel)
	}
	w.waitLine(s, "echo", "ready")
	if err := s.Send("echo", []byte(`{ "hello": "world" }`)); err != nil {
		t.Fatal(err)
	}
	got := w.waitLine(s, "echo", `{"echo":{"hello":"world"}}`)
	if got.Stream != IPCIn {
		t.Fatalf("reply on stream %s", got.Stream)
	}
	lines, _ := s.Tail("echo", 100)
	var out bool
	for _, l := range lines {
		out = out || (l.Stream == IPCOut && l.Text == `{"hello":"world"}`)
	}
	if !out {
		t.Fatalf("the sent message is not logged as ipc-out: %v", lines)
	}
	// Refusals: Node's reserved prefix, invalid JSON, a unit without a channel.
	if err := s.Send("echo", []byte(`{"cmd":"NODE_HANDLE"}`)); !errors.Is(err, ipc.ErrReserved) {
		t.Fatalf("NODE_ message: %v", err)
	}
	if err := s.Send("echo", []byte(`{"a":`)); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("invalid JSON: %v", err)
	}
	// The child closing its end shows as disconnected.
	if err := s.Send("echo", []byte(`"bye"`)); err != nil {
		t.Fatal(err)
	}
	w.until("echo", "disconnected", func(in Info) bool { return in.Channel == ChannelDisconnected })
	if err := s.Send("echo", []byte(`1`)); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("send after disconnect: %v", err)
	}
}

func TestChannelStockNodeChild(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH")
	}
	script, _ := filepath.Abs("../examples/child-script.js")
	s := newTestSupervisor(t, Options{})
	_ = s.Add(Spec{Name: "node", Argv: []string{node, script}, IPC: true})
	w := watch(t, s)
	_ = s.Start("node")
	w.state("node", Running)
	if err := s.Send("node", []byte(`{"hello":"world"}`)); err != nil {
		t.Fatal(err)
	}
	w.waitLine(s, "node", "Message from parent: { hello: 'world' }")
	if l := w.waitLine(s, "node", `{"msg":"Hello from child!"}`); l.Stream != IPCIn {
		t.Fatalf("reply on stream %s", l.Stream)
	}
}

func TestSendToUnitWithoutChannel(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	_ = s.Add(roleSpec("plain", "sleep", ""))
	if err := s.Send("plain", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "no message channel") {
		t.Fatalf("got %v", err)
	}
}
