package procs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/ipc"
)

// waitMessages waits until the unit's store holds at least n messages and
// returns them all (the store keeps far more than these tests send).
func (w *watcher) waitMessages(s *Supervisor, name string, n int) []Message {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		msgs, _, err := s.Messages(name, 0, 1<<20)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(msgs) >= n {
			return msgs
		}
		b, err := w.sub.Next(ctx)
		if err != nil {
			w.t.Fatalf("waiting for %d messages from %s: %v; have %d", n, name, err, len(msgs))
		}
		w.absorb(b)
	}
}

func startEcho(t *testing.T, s *Supervisor) *watcher {
	t.Helper()
	spec := roleSpec("echo", "ipc-echo", "")
	spec.IPC = true
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s)
	if err := s.Start("echo"); err != nil {
		t.Fatal(err)
	}
	w.state("echo", Running)
	w.waitLine(s, "echo", "ready")
	return w
}

// Every ipc-out record precedes the reply it caused, in the message store
// and in the log: the send is recorded before the child can answer it.
func TestSendRecordedBeforeReply(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := startEcho(t, s)
	const n = 300
	for i := range n {
		if err := s.Send("echo", fmt.Appendf(nil, `{"i":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := w.waitMessages(s, "echo", 2*n)
	pos := map[string]int{}
	for i, m := range msgs {
		pos[m.Stream.String()+" "+string(m.Msg)] = i
	}
	lines, _ := s.Tail("echo", 10*n)
	lpos := map[string]int{}
	for i, l := range lines {
		lpos[l.Stream.String()+" "+l.Text] = i
	}
	for i := range n {
		out := fmt.Sprintf(`ipc-out {"i":%d}`, i)
		in := fmt.Sprintf(`ipc-in {"echo":{"i":%d}}`, i)
		po, ok1 := pos[out]
		pi, ok2 := pos[in]
		if !ok1 || !ok2 || po > pi {
			t.Fatalf("message %d: out at %d (%v), reply at %d (%v) in the store", i, po, ok1, pi, ok2)
		}
		lo, ok1 := lpos[out]
		li, ok2 := lpos[in]
		if !ok1 || !ok2 || lo > li {
			t.Fatalf("message %d: out at %d (%v), reply at %d (%v) in the log", i, lo, ok1, li, ok2)
		}
	}
}

// A child flooding stdout does not erase its messages, and a message too
// large to keep is stored cut, marked, and served as valid JSON.
func TestMessagesOwnStore(t *testing.T) {
	s := newTestSupervisor(t, Options{})
	w := startEcho(t, s)
	if err := s.Send("echo", []byte(`{"first":true}`)); err != nil {
		t.Fatal(err)
	}
	w.waitMessages(s, "echo", 2)
	big := `{"blob":"` + strings.Repeat("é", 300<<10) + `"}` // 600 KiB, above the 256 KiB kept whole
	if err := s.Send("echo", []byte(big)); err != nil {
		t.Fatal(err)
	}
	w.waitMessages(s, "echo", 4)
	// The log keeps a short, marked note of the big message.
	var note bool
	lines, _ := s.Tail("echo", 100)
	for _, l := range lines {
		isNote := l.Stream == IPCOut && len(l.Text) < 5<<10 && strings.HasSuffix(l.Text, fmt.Sprintf("[cut: message #3 is %d bytes; the Messages view has it]", len(big)))
		note = note || isNote
		if isNote != (l.Stream == IPCOut && l.Truncated) {
			t.Errorf("line %d %.40q: truncated %v, but it is the cut note: %v", l.Seq, l.Text, l.Truncated, isNote)
		}
	}
	if !note {
		t.Errorf("no cut note for the big message in the log")
	}
	// The child floods its log with 5 MiB of stdout, well past its 1 MiB ring.
	if err := s.Send("echo", []byte(`"flood"`)); err != nil {
		t.Fatal(err)
	}
	w.waitLine(s, "echo", "flooded")
	if lines, _ := s.Tail("echo", 1<<20); strings.Contains(fmt.Sprint(lines), `"first"`) {
		t.Fatal("the flood did not push the first message out of the log; the test proves nothing")
	}
	msgs, missed, err := s.Messages("echo", 0, 100)
	if err != nil || missed != 0 || len(msgs) != 5 {
		t.Fatalf("after the flood: %d messages, missed %d, %v", len(msgs), missed, err)
	}
	if string(msgs[0].Msg) != `{"first":true}` || msgs[0].Stream != IPCOut || msgs[0].Seq != 1 {
		t.Errorf("first message: %+v", msgs[0])
	}
	for _, m := range msgs[2:4] {
		if !m.Truncated || m.Size < len(big) {
			t.Errorf("large %s message not marked truncated: size %d truncated %v", m.Stream, m.Size, m.Truncated)
		}
		if !strings.HasSuffix(m.Text(), fmt.Sprintf("[truncated: %d bytes]", m.Size)) {
			t.Errorf("Text has no mark: %q", m.Text()[len(m.Text())-40:])
		}
	}
	b, err := json.Marshal(msgs)
	if err != nil || !json.Valid(b) {
		t.Fatalf("served JSON invalid: %v", err)
	}
	var back []map[string]any
	_ = json.Unmarshal(b, &back)
	if back[2]["truncated"] != true {
		t.Errorf("no \"truncated\": true in %s", b[:200])
	}
}

func TestMsgStoreBounds(t *testing.T) {
	ms := newMsgStore(4*messageHead, 3)
	for i := range 5 {
		ms.mu.Lock()
		ms.appendLocked(int64(i), IPCIn, fmt.Appendf(nil, "%d", i))
		ms.mu.Unlock()
	}
	msgs, missed := ms.since(0, 10)
	if missed != 2 || len(msgs) != 3 || string(msgs[0].Msg) != "2" {
		t.Fatalf("count cap: %d messages from %s, missed %d", len(msgs), msgs[0].Msg, missed)
	}
	if tail := ms.tail(2); len(tail) != 2 || tail[0].Seq != 4 {
		t.Fatalf("tail: %+v", tail)
	}
	// Bytes: messages of a quarter of the store minus a little fit three at once.
	ms = newMsgStore(4*messageHead, 1000)
	for i := range 10 {
		ms.mu.Lock()
		ms.appendLocked(int64(i), IPCIn, []byte(`"`+strings.Repeat("a", ms.maxKept-200)+`"`))
		ms.mu.Unlock()
	}
	if msgs, missed := ms.since(0, 100); len(msgs) != 4 || missed != 6 || ms.used > ms.limit {
		t.Fatalf("byte cap: %d kept, %d missed, %d of %d bytes", len(msgs), missed, ms.used, ms.limit)
	}
}

// The engine's Send gives the verdict of the shared table
// (ipc/testdata/check_cases.json), the one the composer gives too.
func TestSendCheckTable(t *testing.T) {
	b, err := os.ReadFile("../ipc/testdata/check_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Msg, Want string }
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	s := newTestSupervisor(t, Options{})
	startEcho(t, s)
	for _, c := range cases {
		err := s.Send("echo", []byte(c.Msg))
		got := "ok"
		switch {
		case errors.Is(err, ipc.ErrReserved):
			got = "reserved"
		case errors.Is(err, ipc.ErrInvalidJSON):
			got = "invalid"
		case err != nil:
			got = err.Error()
		}
		if got != c.Want {
			t.Errorf("Send(%q) = %s, want %s", c.Msg, got, c.Want)
		}
	}
}

// BenchmarkRecordMessage is the cost of one received message: before the
// store, a ring append; now a store append and a log note.
func BenchmarkRecordMessage(b *testing.B) {
	msg := []byte(`{"type":"health","uptime_s":5,"handled":12,"tags":["a","b"],"note":"a message of a hundred bytes or so"}`)
	b.Run("ring-only", func(b *testing.B) {
		r := newRing(DefaultLogBuffer)
		b.ReportAllocs()
		for b.Loop() {
			r.Append(time.Now(), IPCIn, msg)
		}
	})
	b.Run("store-and-note", func(b *testing.B) {
		s := &Supervisor{clock: RealClock{}, broker: newBroker()}
		r, ms := newRing(DefaultLogBuffer), newMsgStore(DefaultMessageBuffer, DefaultMessageCount)
		b.ReportAllocs()
		for b.Loop() {
			_ = s.recordMessage("u", ms, r, IPCIn, msg, nil)
		}
	})
}
