package procs

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// followChunk is the most lines one Next reads of one unit: a flooding unit
// is served in slices, and a batch stays a bounded amount of memory.
const followChunk = 4096

// Output is one unit's share of a cursor's batch.
type Output struct {
	Unit string
	// Missed counts lines lost just before Lines[0]: the ring moved past the
	// cursor before they were read (the reader was slower than the unit).
	Missed uint64
	Lines  []Line
}

// RawOutput is one unit's share of a RawBatch: its lines' texts are in the
// batch's Buf (see RawLine).
type RawOutput struct {
	Unit   string
	Missed uint64
	Lines  []RawLine
}

// RawBatch is what NextRaw fills: the texts of every line in Buf, their
// records in Lines, and per unit its slice of Lines. Reusing one RawBatch
// makes following allocate nothing per line.
type RawBatch struct {
	Buf   []byte
	Lines []RawLine
	Units []RawOutput
	// Removed names the units the cursor stopped following since the last
	// NextRaw (removed from the engine), after their lines in Units: a
	// consumer holding something per unit (a client's view of it) lets it
	// go. A name may come back later as a new unit.
	Removed []string
}

// rawSource is an engine that can copy lines out without a string per line
// (the in-process *Supervisor).
type rawSource interface {
	AppendSince(name string, after uint64, limit int, buf []byte, recs []RawLine) ([]byte, []RawLine, uint64, error)
}

// ringSource is an engine whose rings a cursor can hold (the in-process
// *Supervisor): it reads a unit's lines from its own ring, so a unit removed
// and added again under its name never mixes the two histories.
type ringSource interface {
	ring(name string) *ring
	subscribeRings() ([]Info, map[string]*ring, Events)
}

// IDSource is an engine that also reads a unit's lines by its Info.ID
// (control.Client): a follower over it reads a removed unit's last lines,
// and never a new unit's of that name in their place.
type IDSource interface {
	SinceID(name string, id, after uint64, limit int) (lines []Line, missed uint64, err error)
}

// src is where one read takes a unit's lines from.
type src struct {
	r  *ring  // the ring the cursor holds; nil: ask the engine
	id uint64 // the unit's Info.ID, for an IDSource (0: by name)
	// whole: a removed unit's rest, read by id to its end (not KeepNewest).
	whole bool
	// lost: the removed unit's ring was let go before the cursor read it;
	// its lines up to known are missed.
	lost  bool
	known uint64
}

// retiring is a removed unit the cursor still has lines of to read, from
// the ring handed along with the removal; then it reports the removal.
type retiring struct {
	name              string
	r                 *ring  // nil: let go (the reader was too slow), lines up to known missed
	id                uint64 // with no ring: read by id from an IDSource to its end
	pos, start, known uint64
}

// Cursor follows the output of one unit, of several, or of every unit
// (those added later too): the one way kelpie follows logs, for the
// headless printer, `kelpie logs --follow` and the screen alike. It is
// woken by the engine's events (a Batch announces each unit's newest line)
// and reads the lines from the rings, so a slow reader never slows a unit
// down: it loses lines, counted in Missed (the log files, which must not,
// are given every line by a Tap instead). A Cursor is for one goroutine.
type Cursor struct {
	eng   Engine
	raw   rawSource
	ev    Events
	all   bool
	order []string          // followed units, in display order
	pos   map[string]uint64 // newest line handed out (or skipped)
	known map[string]uint64 // newest line announced
	start map[string]uint64 // newest line when following began: older lines gone are history, not "missed"
	done  bool              // the events ended: drain, then ErrClosed
	keep  int               // KeepNewest's n: 0 reads every line
	gone  []string          // units forgotten since the last Next or NextRaw (RawBatch.Removed)
	rs    ringSource        // nil: the engine is remote, lines are read by name
	rings map[string]*ring  // the ring of each followed unit (with rs)
	byID  IDSource          // a remote engine that reads by unit id (nil: none, or rs)
	ids   map[string]uint64 // the Info.ID of each followed unit (with byID)
	// retiring holds removed units whose last lines are still to be read,
	// oldest removal first: read before any other unit, then reported gone.
	retiring []retiring
}

// Follow starts a cursor over the output of the named units, or of every
// unit (also those added later, from their first line) when units is empty.
// Each unit named or present now starts with its newest back lines of
// history (0: only lines to come; negative: every line it has had, those
// already gone counted as missed). A name that is not a unit is an
// ErrNotFound error.
func Follow(e Engine, units []string, back int) (*Cursor, error) {
	c := &Cursor{
		eng: e, all: len(units) == 0,
		pos: map[string]uint64{}, known: map[string]uint64{}, start: map[string]uint64{},
	}
	c.raw, _ = e.(rawSource)
	c.rs, _ = e.(ringSource)
	if c.rs == nil {
		c.byID, _ = e.(IDSource)
	}
	c.ids = map[string]uint64{}
	var snap []Info
	if c.rs != nil {
		snap, c.rings, c.ev = c.rs.subscribeRings()
	} else {
		snap, c.ev = e.Subscribe()
	}
	if c.rings == nil {
		c.rings = map[string]*ring{}
	}
	ev := c.ev
	last := make(map[string]uint64, len(snap))
	id := make(map[string]uint64, len(snap))
	for _, in := range snap {
		last[in.Name] = in.LastSeq
		id[in.Name] = in.ID
		if c.all {
			c.order = append(c.order, in.Name)
		}
	}
	for _, u := range units {
		if _, ok := last[u]; !ok {
			ev.Close()
			return nil, fmt.Errorf("%w: %q", ErrNotFound, u)
		}
		if !slices.Contains(c.order, u) {
			c.order = append(c.order, u)
		}
	}
	for name := range c.rings {
		if !slices.Contains(c.order, name) {
			delete(c.rings, name) // not followed: not held
		}
	}
	for _, u := range c.order {
		if c.byID != nil && id[u] != 0 {
			c.ids[u] = id[u]
		}
		l := last[u]
		c.known[u] = l
		if back < 0 {
			// From the first line; whatever is gone was missed.
			c.pos[u], c.start[u] = 0, 0
			continue
		}
		c.pos[u] = l - min(l, uint64(back))
		c.start[u] = l
	}
	return c, nil
}

// FollowFrom starts a cursor over one unit's lines after seq after (lines
// after it that are gone already count as missed). A reader that printed a
// tail with Tail continues from its last line with it: nothing falls
// between the two, and nothing comes twice.
func FollowFrom(e Engine, unit string, after uint64) (*Cursor, error) {
	c, err := Follow(e, []string{unit}, 0)
	if err != nil {
		return nil, err
	}
	c.From(unit, after)
	return c, nil
}

// From makes a new cursor (before its first Next) continue a unit it
// follows after seq after, as FollowFrom does: a reader that read each
// unit's tail with Tail, then started one cursor over them all, loses and
// repeats nothing.
func (c *Cursor) From(unit string, after uint64) {
	if _, ok := c.pos[unit]; ok && after < c.known[unit] {
		c.pos[unit], c.start[unit] = after, after
	}
}

// KeepNewest makes Next hand out, of a unit further than n lines behind,
// only its newest n lines (read with Tail); the older unread ones are
// skipped and counted in Missed. A screen that keeps n lines of a unit
// never reads through a flood it could not show. 0 reads every line.
func (c *Cursor) KeepNewest(n int) { c.keep = max(n, 0) }

// Follow is procs.Follow on this supervisor.
func (s *Supervisor) Follow(units []string, back int) (*Cursor, error) { return Follow(s, units, back) }

// Units is the units followed now, in display order.
func (c *Cursor) Units() []string { return slices.Clone(c.order) }

// Close ends the cursor.
func (c *Cursor) Close() { c.ev.Close() }

// Next waits until some followed unit has lines the cursor has not handed
// out and returns them, per unit in display order, at most followChunk
// lines of each. Once the engine has shut down, it returns what is left and
// then ErrClosed; a cancelled ctx gives ctx's error.
func (c *Cursor) Next(ctx context.Context) ([]Output, error) {
	var out []Output
	c.gone = c.gone[:0] // only NextRaw reports them
	err := c.wait(ctx, func(u string, from src, after, start uint64) (uint64, error) {
		if from.lost {
			if missed := pastStart(after, from.known-after, start); missed > 0 {
				out = append(out, Output{Unit: u, Missed: missed})
			}
			return from.known, nil
		}
		lines, missed, err := c.read(u, from, after)
		if err != nil {
			return 0, err
		}
		next := after + missed
		if len(lines) > 0 {
			next = lines[len(lines)-1].Seq
		}
		missed = pastStart(after, missed, start)
		if len(lines) > 0 || missed > 0 {
			out = append(out, Output{Unit: u, Missed: missed, Lines: lines})
		}
		return next, nil
	}, func() bool { return len(out) > 0 })
	return out, err
}

// read is Next's read of one unit's lines after seq after (from its ring
// r, or the engine when nil): Since, or the newest c.keep lines when the
// unit is further behind than that (known, its newest line announced).
func (c *Cursor) read(u string, in src, after uint64) ([]Line, uint64, error) {
	r := in.r
	if in.whole || c.keep <= 0 || in.known-after <= uint64(c.keep) {
		return c.since(u, in, after)
	}
	var lines []Line
	if r != nil {
		lines = r.Tail(c.keep)
	} else {
		var err error
		if lines, err = c.eng.Tail(u, c.keep); err != nil {
			return nil, 0, err
		}
	}
	i := 0
	for i < len(lines) && lines[i].Seq <= after {
		i++
	}
	lines = lines[i:]
	if len(lines) == 0 {
		return nil, 0, nil
	}
	return lines, lines[0].Seq - after - 1, nil
}

// since reads a unit's lines after seq after from where in says.
func (c *Cursor) since(u string, in src, after uint64) ([]Line, uint64, error) {
	switch {
	case in.r != nil:
		lines, missed := in.r.Since(after, followChunk)
		return lines, missed, nil
	case in.id != 0 && c.byID != nil:
		return c.byID.SinceID(u, in.id, after, followChunk)
	}
	return c.eng.Since(u, after, followChunk)
}

// NextRaw is Next without a string per line: it refills rb (reusing its
// buffers) with the lines' raw texts. The headless printer uses it.
func (c *Cursor) NextRaw(ctx context.Context, rb *RawBatch) error {
	rb.Buf, rb.Lines, rb.Units, rb.Removed = rb.Buf[:0], rb.Lines[:0], rb.Units[:0], rb.Removed[:0]
	starts := make([]int, 0, 4)
	err := c.wait(ctx, func(u string, in src, after, from uint64) (uint64, error) {
		start := len(rb.Lines)
		var missed uint64
		var err error
		switch {
		case in.lost:
			missed = in.known - after
		case in.r != nil:
			rb.Buf, rb.Lines, missed = in.r.appendSince(after, followChunk, rb.Buf, rb.Lines)
		case c.raw != nil:
			rb.Buf, rb.Lines, missed, err = c.raw.AppendSince(u, after, followChunk, rb.Buf, rb.Lines)
		default:
			var lines []Line
			lines, missed, err = c.since(u, in, after)
			for _, l := range lines {
				rb.Lines = append(rb.Lines, RawLine{Seq: l.Seq, Time: l.Time.UnixNano(), Stream: l.Stream, Off: len(rb.Buf), Len: len(l.Text)})
				rb.Buf = append(rb.Buf, l.Text...)
			}
		}
		if err != nil {
			return 0, err
		}
		n := len(rb.Lines) - start
		next := after + missed
		if n > 0 {
			next = rb.Lines[len(rb.Lines)-1].Seq
		}
		missed = pastStart(after, missed, from)
		if n > 0 || missed > 0 {
			rb.Units = append(rb.Units, RawOutput{Unit: u, Missed: missed})
			starts = append(starts, start)
		}
		return next, nil
	}, func() bool { return len(rb.Units) > 0 || len(c.gone) > 0 })
	rb.Removed = append(rb.Removed, c.gone...)
	c.gone = c.gone[:0]
	// Slice Lines per unit only now: appending may have moved the array.
	for i := range rb.Units {
		end := len(rb.Lines)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		rb.Units[i].Lines = rb.Lines[starts[i]:end]
	}
	return err
}

// wait reads (with read: the lines after the cursor from a source,
// returning the new cursor) every unit that has unread lines, removed units'
// last lines first, until got says something was read; between rounds it
// waits for the engine's next batch.
func (c *Cursor) wait(ctx context.Context, read func(u string, in src, after, start uint64) (uint64, error), got func() bool) error {
	for {
		if c.readRetiring(read, got) && got() {
			// A new unit of a removed one's name is read in the next
			// round: the removal is reported before its lines.
			return nil
		}
		for i := 0; i < len(c.order); i++ {
			u := c.order[i]
			if c.known[u] <= c.pos[u] {
				continue
			}
			r := c.rings[u]
			p, err := read(u, src{r: r, id: c.ids[u], known: c.known[u]}, c.pos[u], c.start[u])
			if err != nil {
				// The unit is gone (removed) or the engine went away.
				c.forget(u)
				i--
				continue
			}
			if p <= c.pos[u] {
				// Nothing there after all: never spin on it. A held ring
				// is the truth (an announcement may be of another unit of
				// that name): wait for the next; the engine's lines are
				// skipped to the announcement.
				if r != nil {
					c.known[u] = c.pos[u]
					continue
				}
				p = c.known[u]
			}
			c.pos[u] = p
		}
		if got() {
			return nil
		}
		if c.done {
			return ErrClosed
		}
		b, err := c.ev.Next(ctx)
		if errors.Is(err, ErrClosed) {
			c.done = true // one more round reads what the last batches announced
			continue
		}
		if err != nil {
			return err
		}
		var retired []retiredRing
		if sub, ok := c.ev.(*Subscription); ok {
			sub.mu.Lock()
			retired, sub.took = sub.took, nil
			sub.mu.Unlock()
		}
		c.absorb(b, retired)
	}
}

// readRetiring reads the removed units' last lines, oldest removal first,
// and reports each removal once its lines are read. It stops early, with
// a unit half read, when got says there is something to hand out (a
// flood's chunk); it reports whether it read anything.
func (c *Cursor) readRetiring(read func(u string, in src, after, start uint64) (uint64, error), got func() bool) bool {
	did := false
	for len(c.retiring) > 0 {
		d := &c.retiring[0]
		in := src{r: d.r, id: d.id, lost: d.r == nil && d.id == 0, known: d.known}
		switch {
		case d.r != nil:
			in.known = d.r.Last()
		case d.id != 0:
			in.whole, in.known = true, ^uint64(0) // until a read finds nothing more
		}
		if d.pos < in.known {
			did = true
			p, err := read(d.name, in, d.pos, d.start)
			if err != nil || p <= d.pos {
				p = in.known // a ring read does not fail: a guard against spinning
			}
			d.pos = p
			if d.pos < in.known && got() {
				return true
			}
			if d.pos < in.known {
				continue
			}
		}
		c.gone = append(c.gone, d.name)
		c.retiring[0] = retiring{} // let the ring go
		c.retiring = c.retiring[1:]
		did = true
	}
	c.retiring = nil
	return did
}

// absorb notes what a batch announced: new units (when following all),
// removed ones (with their rings, when the engine handed them along), and
// each unit's newest line.
func (c *Cursor) absorb(b Batch, retired []retiredRing) {
	// Removals with their rings are taken in order with the states: a
	// state before a removal is the removed unit's, one after it a new
	// unit's of the same name.
	next := 0
	retireUpTo := func(at int) {
		for ; next < len(retired) && retired[next].at <= at; next++ {
			c.retire(retired[next])
		}
	}
	if len(retired) == 0 && c.byID != nil {
		c.absorbRemote(b)
		return
	}
	if c.all {
		for i, in := range b.States {
			retireUpTo(i)
			c.add(in.Name)
		}
	}
	retireUpTo(len(b.States))
	for ; next < len(retired); next++ {
		c.retire(retired[next])
	}
	if len(retired) == 0 {
		// A remote engine's removals come without rings: what was not
		// read yet is gone with the unit.
		for _, name := range b.Removed {
			c.forget(name)
		}
	}
	for name, seq := range b.Logs {
		if c.all {
			c.add(name)
		}
		if _, ok := c.pos[name]; ok && seq > c.known[name] {
			c.known[name] = seq
		}
	}
}

// retire takes a removal with its ring: the cursor reads what it has not
// read of that ring (readRetiring), then reports the unit gone.
func (c *Cursor) retire(rt retiredRing) {
	_, following := c.pos[rt.name]
	held := c.rings[rt.name]
	switch {
	case following && (held == rt.r || held == nil || rt.r == nil):
		c.retiring = append(c.retiring, retiring{name: rt.name, r: rt.r,
			pos: c.pos[rt.name], start: c.start[rt.name], known: max(c.known[rt.name], rt.last)})
		c.drop(rt.name)
	case c.all && (rt.r != nil || rt.last > 0):
		// A unit added and removed before this cursor held its ring (or
		// one between two it held): every line of it is still to read
		// (missed, up to the last announced, if its ring was let go).
		c.retiring = append(c.retiring, retiring{name: rt.name, r: rt.r, known: rt.last})
	}
}

// add follows a unit that appeared after the cursor started, from its first line.
func (c *Cursor) add(name string) {
	if _, ok := c.pos[name]; ok {
		return
	}
	c.order = append(c.order, name)
	c.pos[name], c.known[name] = 0, 0
	c.hold(name)
}

// absorbRemote is absorb for a remote engine that reads by unit id: its
// removals come without rings, and without their place among the states.
// A name removed k times in the batch retires, oldest first, the unit
// followed and then the new ids the states show; the rest is a new unit.
func (c *Cursor) absorbRemote(b Batch) {
	removals := map[string]int{}
	for _, name := range b.Removed {
		removals[name]++
	}
	for _, name := range b.Removed {
		k := removals[name]
		if k <= 0 {
			continue // done: the name came twice
		}
		_, following := c.pos[name]
		var ids []uint64
		if following {
			ids = append(ids, c.ids[name]) // 0: not known, read by name
		}
		for _, in := range b.States {
			if in.Name == name && in.ID != 0 && !slices.Contains(ids, in.ID) {
				ids = append(ids, in.ID)
			}
		}
		for i, id := range ids[:min(k, len(ids))] {
			switch {
			case i == 0 && following && id != 0:
				c.retiring = append(c.retiring, retiring{name: name, id: id, pos: c.pos[name], start: c.start[name]})
				c.drop(name)
			case i == 0 && following:
				c.forget(name)
			case c.all:
				c.retiring = append(c.retiring, retiring{name: name, id: id})
			}
		}
		if rest := ids[min(k, len(ids)):]; c.all && len(rest) > 0 {
			c.add(name)
			c.ids[name] = rest[len(rest)-1]
		}
		removals[name] = -1 // its states are taken
	}
	if c.all {
		for _, in := range b.States {
			if removals[in.Name] < 0 {
				continue
			}
			c.add(in.Name)
			if _, ok := c.ids[in.Name]; !ok && in.ID != 0 {
				c.ids[in.Name] = in.ID
			}
		}
	}
	for name, seq := range b.Logs {
		if c.all {
			c.add(name)
		}
		if _, ok := c.pos[name]; ok && seq > c.known[name] {
			c.known[name] = seq
		}
	}
}

// hold keeps a followed unit's ring, when the engine has rings.
func (c *Cursor) hold(name string) {
	if c.rs == nil {
		return
	}
	if r := c.rs.ring(name); r != nil {
		c.rings[name] = r
	}
}

// forget stops following a unit and reports it gone.
func (c *Cursor) forget(name string) {
	if _, ok := c.pos[name]; ok {
		c.gone = append(c.gone, name)
	}
	c.drop(name)
}

// drop stops following a unit, silently.
func (c *Cursor) drop(name string) {
	c.order = slices.DeleteFunc(c.order, func(n string) bool { return n == name })
	delete(c.pos, name)
	delete(c.known, name)
	delete(c.start, name)
	delete(c.rings, name)
	delete(c.ids, name)
}

// pastStart is how many of the missed lines after `after` came after start,
// the newest line when following began: older ones are history the reader
// did not ask for, and were never its to miss.
func pastStart(after, missed, start uint64) uint64 {
	lost := after + missed // the newest line lost
	if lost <= start {
		return 0
	}
	return lost - max(after, start)
}

// CutMarker ends a line that was split because it exceeded the line limit
// (RawLine.Cut); Since and Tail append it to such a line's text.
const CutMarker = cutMarker
