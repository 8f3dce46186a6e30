package procs

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Bounds of a unit's message store. Messages have a store of their own,
// apart from the output ring, so that a chatty child cannot erase its
// message history with stdout, and so that a message is kept whole (valid
// JSON) or visibly marked as cut, never silently split like a long line.
const (
	// DefaultMessageBuffer caps the bytes of messages kept per unit.
	DefaultMessageBuffer = 1 << 20
	// DefaultMessageCount caps the number of messages kept per unit, so a
	// flood of tiny messages is bounded in records as well as in bytes.
	DefaultMessageCount = 10000
	// messageHead is how much of a message too large to keep whole is kept
	// (its first bytes, as a JSON string, marked truncated).
	messageHead = 16 << 10
	// logNoteMax is the longest message copied whole into the output log;
	// a longer one leaves a cut, marked note pointing at the message store.
	logNoteMax = 4 << 10
)

// Message is one message on a unit's channel, as its message store keeps it
// and `kelpie messages --json` (the control protocol's "messages") serves it.
type Message struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"ts"`
	Stream Stream    `json:"stream"` // IPCIn: from the unit; IPCOut: to it
	// Msg is the message as the JSON it was. When Truncated, the message was
	// too large to keep and Msg is instead a JSON string holding its first
	// bytes, so that what is served is always valid JSON.
	Msg json.RawMessage `json:"msg"`
	// Size is the length in bytes of the whole message.
	Size int `json:"size"`
	// Truncated says Msg holds only the start of the message, as a string.
	Truncated bool `json:"truncated,omitempty"`
	// Unit names the message's unit where a reply covers several (the
	// messages of a group).
	Unit string `json:"unit,omitempty"`
}

// Text is the message for display: its JSON, or when truncated its first
// bytes followed by a visible mark. It is outside text: pass it through
// Clean before it reaches a terminal.
func (m *Message) Text() string {
	if !m.Truncated {
		return string(m.Msg)
	}
	var head string
	if json.Unmarshal(m.Msg, &head) != nil {
		head = string(m.Msg)
	}
	return head + truncMark(m.Size)
}

// truncMark ends a message shown cut.
func truncMark(size int) string {
	return fmt.Sprintf(" … [truncated: %d bytes]", size)
}

// msgEnt is one stored message. data is the message (or, when cut, its
// head: raw bytes, quoted only when served).
type msgEnt struct {
	seq    uint64
	ts     int64
	stream Stream
	size   int
	cut    bool
	data   []byte
}

func (e *msgEnt) cost() int { return len(e.data) + recOverhead }

// msgStore is one unit's messages, both ways: byte-capped and count-capped,
// numbered from 1 with their own sequence, oldest evicted first. It is safe
// for concurrent use; its lock also orders a send's record before the reply
// (see Supervisor.Send).
type msgStore struct {
	mu      sync.Mutex
	limit   int // bytes (data plus per-message overhead) kept at most
	count   int // messages kept at most
	maxKept int // longer messages are kept cut
	ents    []msgEnt
	head    int // ents[head:] are live; the front is reclaimed lazily
	used    int
	next    uint64
	// lastSeq is next-1, readable without the lock (a waiter for a reply
	// polls it).
	lastSeq atomic.Uint64
}

func newMsgStore(limit, count int) *msgStore {
	limit = max(limit, 4*messageHead)
	return &msgStore{limit: limit, count: max(count, 1), maxKept: limit / 4, next: 1}
}

// appendLocked stores one message, cutting it when it is larger than the
// store keeps whole, and returns its sequence number. The caller holds mu.
func (s *msgStore) appendLocked(ts int64, stream Stream, msg []byte) uint64 {
	e := msgEnt{seq: s.next, ts: ts, stream: stream, size: len(msg)}
	if len(msg) > s.maxKept {
		e.cut = true
		msg = utf8Head(msg, messageHead)
	}
	e.data = append([]byte(nil), msg...)
	s.next++
	s.lastSeq.Store(e.seq)
	for s.head < len(s.ents) && (s.used+e.cost() > s.limit || len(s.ents)-s.head >= s.count) {
		s.used -= s.ents[s.head].cost()
		s.ents[s.head] = msgEnt{}
		s.head++
	}
	if s.head > len(s.ents)/2 && s.head > 64 {
		n := copy(s.ents, s.ents[s.head:])
		clear(s.ents[n:])
		s.ents, s.head = s.ents[:n], 0
	}
	s.ents = append(s.ents, e)
	s.used += e.cost()
	return e.seq
}

// utf8Head returns at most n bytes of b, not splitting a UTF-8 sequence.
func utf8Head(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// last is the newest message's sequence number (0 when none came yet).
func (s *msgStore) last() uint64 {
	return s.lastSeq.Load()
}

// since copies out up to limit messages with sequence numbers above after,
// oldest first; missed counts those above after already evicted.
func (s *msgStore) since(after uint64, limit int) (msgs []Message, missed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sinceLocked(after, limit)
}

// sinceLocked is since with s.mu held.
func (s *msgStore) sinceLocked(after uint64, limit int) (msgs []Message, missed uint64) {
	live := s.ents[s.head:]
	first := s.next
	if len(live) > 0 {
		first = live[0].seq
	}
	from := after + 1
	if from < first {
		missed = first - from
		from = first
	}
	if from >= s.next || limit <= 0 {
		return nil, missed
	}
	live = live[from-first:]
	msgs = make([]Message, 0, min(len(live), limit))
	for i := range live {
		if len(msgs) == limit {
			break
		}
		msgs = append(msgs, live[i].message())
	}
	return msgs, missed
}

// tail copies out the newest n messages, oldest first.
func (s *msgStore) tail(n int) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	// One lock for both steps: a message stored between them would make
	// this an older window than the newest n.
	from := s.next - min(uint64(len(s.ents)-s.head), uint64(max(n, 0)))
	msgs, _ := s.sinceLocked(from-1, n)
	return msgs
}

func (e *msgEnt) message() Message {
	m := Message{Seq: e.seq, Time: time.Unix(0, e.ts), Stream: e.stream, Size: e.size, Truncated: e.cut}
	if e.cut {
		// A JSON string of the head: Marshal makes invalid UTF-8 valid.
		m.Msg, _ = json.Marshal(string(e.data))
	} else {
		m.Msg = json.RawMessage(append([]byte(nil), e.data...))
	}
	return m
}

// logNote is the output log's line for a message: the message itself when
// short, else its start and a mark pointing at the message store, so that
// the log keeps its one line per message without holding megabytes.
func logNote(msg []byte, seq uint64) []byte {
	if len(msg) <= logNoteMax {
		return msg
	}
	head := utf8Head(msg, logNoteMax)
	return fmt.Appendf(append([]byte(nil), head...), " … [cut: message #%d is %d bytes; the Messages view has it]", seq, len(msg))
}

func (s *Supervisor) msgStore(name string) *msgStore {
	s.ringsMu.RLock()
	defer s.ringsMu.RUnlock()
	return s.msgs[name]
}

// Messages returns up to limit of the unit's channel messages (both ways)
// with sequence numbers above after, oldest first; missed counts those above
// after already evicted. Message sequence numbers are the unit's own, apart
// from its log's. Each message also leaves a line in the log, so a Batch's
// Logs announcement is the cue to read messages too.
func (s *Supervisor) Messages(name string, after uint64, limit int) (msgs []Message, missed uint64, err error) {
	ms := s.msgStore(name)
	if ms == nil {
		return nil, 0, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	msgs, missed = ms.since(after, limit)
	return msgs, missed, nil
}

// LastMessage is the sequence number of the unit's newest channel message
// (0: none yet). It takes no lock: a caller waiting for a reply may poll it.
func (s *Supervisor) LastMessage(name string) (uint64, error) {
	ms := s.msgStore(name)
	if ms == nil {
		return 0, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return ms.last(), nil
}

// TailMessages returns the unit's newest n channel messages, oldest first.
func (s *Supervisor) TailMessages(name string, n int) ([]Message, error) {
	ms := s.msgStore(name)
	if ms == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return ms.tail(n), nil
}

// recordMessage stores a message in u's message store and notes it in its
// log. send, when not nil, is called first under the store's lock, and the
// message is recorded only if it succeeds: the lock is what keeps a reply
// (recorded by the channel reader under the same lock) from landing before
// the send it answers.
func (s *Supervisor) recordMessage(name string, ms *msgStore, r *ring, stream Stream, msg []byte, send func() error) error {
	ms.mu.Lock()
	if send != nil {
		if err := send(); err != nil {
			ms.mu.Unlock()
			return err
		}
	}
	logSeq := s.recordLocked(ms, r, stream, msg)
	ms.mu.Unlock()
	s.broker.logs(name, logSeq)
	return nil
}

// recordLocked stores msg in ms and notes it in r, returning the note's log
// sequence number for the broker. The caller holds ms.mu.
func (s *Supervisor) recordLocked(ms *msgStore, r *ring, stream Stream, msg []byte) uint64 {
	now := s.clock.Now()
	seq := ms.appendLocked(now.UnixNano(), stream, msg)
	var flags lineFlags
	if len(msg) > logNoteMax {
		flags = flagTrunc
	}
	note := logNote(msg, seq)
	if !plain(note) { // as the pump does: no copy for the common plain note
		note = sanitise(nil, note)
	}
	return r.appendFlags(now, stream, flags, note)
}
