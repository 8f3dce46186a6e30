package ui

import (
	"context"
	"errors"
	"slices"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/kelpie-dev/kelpie/procs"
)

// The panes follow output with procs.Cursor, the one follower kelpie has:
// one cursor per buffer on screen (the selected unit's, each split
// column's) and one over every unit for the merged stream. A follower's
// history is read with Tail, then its cursor continues from the tail's
// last line (procs.FollowFrom, Cursor.From): nothing falls between, nothing
// comes twice. Each cursor is driven by a command that waits in
// Cursor.Next and returns what it read as a followMsg; Update applies it
// and arms the next wait. A follower whose pane stops showing it is
// cancelled, and its cursor closed by the command that holds it. The
// engine's batches only announce lines: they reach the panes through the
// cursors, so a batch of announcements builds no frame (batchShows).

// follower is one cursor's life on the screen.
type follower struct {
	id     int // tags its messages: those of a follower since stopped are stale
	ctx    context.Context
	cancel context.CancelFunc
	buf    *logBuf // the buffer it fills (nil: the merged stream)
}

// followStartMsg is a follower's start: the history read with Tail (per
// unit; nil when the buffer was resumed where it stopped) and the cursor
// continuing from it.
type followStartMsg struct {
	id   int
	tail map[string][]procs.Line
	cur  *procs.Cursor
	err  error
}

// followMsg is what one Cursor.Next read.
type followMsg struct {
	id  int
	cur *procs.Cursor
	out []procs.Output
	err error
}

// msgsMsg carries the channel messages read for a unit's Messages view.
type msgsMsg struct {
	name string
	f    *msgsFetch
}

// followed is the buffers the screen shows now, whose lines it follows.
func (m *Model) followed() []string {
	switch m.mode {
	case modeSingle:
		// A tty unit's pane shows its screen, not its log (tty.go).
		if m.shown != "" && !m.ttyUnit() {
			return []string{m.shown}
		}
	case modeSplit:
		return m.split.names
	}
	return nil
}

// syncFollowers starts a follower for each buffer on screen (and the
// merged stream) that has none, stops those no longer shown, and reads the
// channel messages a Messages buffer lacks. Update runs it after every
// message; it costs a few comparisons when nothing changed.
func (m *Model) syncFollowers() tea.Cmd {
	var cmds []tea.Cmd
	want := m.followed()
	for name, f := range m.follows {
		if !slices.Contains(want, name) || m.logs.get(name) != f.buf {
			f.cancel()
			delete(m.follows, name)
		}
	}
	for _, name := range want {
		b := m.logs.get(name)
		if b == nil {
			continue
		}
		if m.follows[name] == nil {
			cmds = append(cmds, m.startFollow(name, b))
		}
		if b.msgs.stale() {
			cmds = append(cmds, b.msgs.fetchMessages(m.backend, m.opts.KeepLines))
		}
	}
	switch {
	case m.mode == modeMerged && m.mergedFollow == nil:
		cmds = append(cmds, m.startMergedFollow())
	case m.mode != modeMerged && m.mergedFollow != nil:
		m.stopMerged()
	}
	return tea.Batch(cmds...)
}

// newFollower makes a follower (not started) under the screen's context.
func (m *Model) newFollower(b *logBuf) *follower {
	ctx, cancel := context.WithCancel(m.ctx)
	m.followSeq++
	return &follower{id: m.followSeq, ctx: ctx, cancel: cancel, buf: b}
}

// stopMerged stops the merged stream's follower (a new one starts with the
// stream, see restartMerged).
func (m *Model) stopMerged() {
	if m.mergedFollow != nil {
		m.mergedFollow.cancel()
		m.mergedFollow = nil
	}
}

// startFollow starts following name's buffer: from its newest KeepLines
// lines on first sight (or when too far behind to be worth reading
// through), else from the newest line it holds.
func (m *Model) startFollow(name string, b *logBuf) tea.Cmd {
	f := m.newFollower(b)
	m.follows[name] = f
	be, keep, ctx, id := m.backend, m.opts.KeepLines, f.ctx, f.id
	announced := b.have
	if r := m.table.byName[name]; r != nil {
		announced = max(announced, r.info.LastSeq)
	}
	tail := !b.loaded || announced-b.have > uint64(keep)
	after := b.have
	return func() tea.Msg {
		msg := followStartMsg{id: id}
		if tail {
			lines, err := be.Tail(name, keep)
			if err != nil {
				msg.err = err
				return msg
			}
			msg.tail = map[string][]procs.Line{name: lines}
			after = 0
			if n := len(lines); n > 0 {
				after = lines[n-1].Seq
			}
		}
		msg.cur, msg.err = procs.FollowFrom(be, name, after)
		return started(ctx, msg)
	}
}

// startMergedFollow starts the merged stream: each unit's newest lines,
// then one cursor over every unit (those added later too) from there.
func (m *Model) startMergedFollow() tea.Cmd {
	f := m.newFollower(nil)
	m.mergedFollow = f
	be, ctx, id := m.backend, f.ctx, f.id
	names := slices.Clone(m.table.order) // the table's slice changes while the command runs
	per := max(20, min(mergedTailLines, m.opts.KeepLines/max(len(names), 1)))
	return func() tea.Msg {
		msg := followStartMsg{id: id, tail: make(map[string][]procs.Line, len(names))}
		for _, n := range names {
			lines, err := be.Tail(n, per)
			if err != nil {
				continue // gone meanwhile
			}
			msg.tail[n] = lines
		}
		msg.cur, msg.err = procs.Follow(be, nil, 0)
		if msg.cur != nil {
			for n, lines := range msg.tail {
				var after uint64
				if k := len(lines); k > 0 {
					after = lines[k-1].Seq
				}
				msg.cur.From(n, after)
			}
		}
		return started(ctx, msg)
	}
}

// started ends a follower's start command: a follower stopped meanwhile
// closes the cursor it made.
func started(ctx context.Context, msg followStartMsg) tea.Msg {
	if ctx.Err() != nil {
		if msg.cur != nil {
			msg.cur.Close()
		}
		return nil
	}
	return msg
}

// followNext waits in the cursor for the next lines. The command closes the
// cursor when its follower has been stopped.
func followNext(f *follower, cur *procs.Cursor, keep int) tea.Cmd {
	ctx, id := f.ctx, f.id
	return func() tea.Msg {
		cur.KeepNewest(keep)
		out, err := cur.Next(ctx)
		if ctx.Err() != nil {
			cur.Close()
			return nil
		}
		return followMsg{id: id, cur: cur, out: out, err: err}
	}
}

// closeCursor closes the cursor of a stale message (its follower was
// stopped after the command returned).
func closeCursor(cur *procs.Cursor) tea.Cmd {
	if cur == nil {
		return nil
	}
	return func() tea.Msg {
		cur.Close()
		return nil
	}
}

// follower returns the live follower with this id, or nil.
func (m *Model) follower(id int) *follower {
	if f := m.mergedFollow; f != nil && f.id == id {
		return f
	}
	for _, f := range m.follows {
		if f.id == id {
			return f
		}
	}
	return nil
}

// applyFollowStart applies a follower's history and arms its cursor.
func (m *Model) applyFollowStart(msg followStartMsg) tea.Cmd {
	f := m.follower(msg.id)
	if f == nil {
		return closeCursor(msg.cur)
	}
	keep := m.opts.KeepLines
	var cmd tea.Cmd
	if f.buf == nil {
		m.merged.apply(m.pal, mergedMsg{tail: true, lines: msg.tail}, keep)
	} else {
		f.buf.loaded = true
		if lines, ok := msg.tail[f.buf.name]; ok {
			f.buf.apply(logsMsg{tail: true, lines: lines}, keep)
		}
	}
	if msg.err != nil {
		cmd = m.followFailed(f, msg.err)
	}
	if msg.cur == nil {
		return cmd
	}
	return tea.Batch(cmd, followNext(f, msg.cur, keep))
}

// applyFollow applies what a cursor read and arms its next wait.
func (m *Model) applyFollow(msg followMsg) tea.Cmd {
	f := m.follower(msg.id)
	if f == nil {
		return closeCursor(msg.cur)
	}
	keep := m.opts.KeepLines
	if f.buf == nil {
		mm := mergedMsg{lines: make(map[string][]procs.Line, len(msg.out)), missed: make(map[string]uint64)}
		for _, o := range msg.out {
			mm.lines[o.Unit], mm.missed[o.Unit] = o.Lines, o.Missed
		}
		m.merged.apply(m.pal, mm, keep)
	} else {
		for _, o := range msg.out {
			f.buf.apply(logsMsg{lines: o.Lines, missed: o.Missed}, keep)
		}
	}
	if msg.err != nil {
		// The engine shut down (ErrClosed) or its events failed: the
		// follower stays stopped; a pane shown again starts a new one.
		if errors.Is(msg.err, procs.ErrClosed) {
			return nil
		}
		// Its cursor is let go now: the follower stays stopped, but no
		// subscription is left open behind it.
		return tea.Batch(closeCursor(msg.cur), m.followFailed(f, msg.err))
	}
	return followNext(f, msg.cur, keep)
}

// followFailed says on the status line that a pane's output could not be read.
func (m *Model) followFailed(f *follower, err error) tea.Cmd {
	what := "merged output"
	if f.buf != nil {
		what = "output of " + f.buf.name
	}
	return m.setStatus(statusError, what+": "+err.Error())
}

// applyMsgs stores channel messages read for a unit's Messages view.
// A failed read is said on the status line: the view would otherwise
// stay stale without a word.
func (m *Model) applyMsgs(msg msgsMsg) tea.Cmd {
	if b := m.logs.get(msg.name); b != nil && b.msgs != nil {
		b.msgs.store(msg.f, m.opts.KeepLines)
	}
	if msg.f != nil && msg.f.err != nil {
		return m.setStatus(statusError, "messages of "+msg.name+": "+msg.f.err.Error())
	}
	return nil
}
