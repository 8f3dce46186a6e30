package vterm

// lineOverhead is what one kept line costs besides its bytes (the string
// header and slice slot), charged against the cap so a flood of empty lines
// is bounded too.
const lineOverhead = 24

// DefaultScrollbackBytes caps a Term's scrollback unless Options says
// otherwise: about 50,000 coloured 80-column log lines; a Term holding a
// full one measured about 6 MiB of heap in all (TestTermMemoryFullScrollback),
// under the 10 MiB a unit may use.
const DefaultScrollbackBytes = 6 << 20

// history keeps the lines scrolled off the main screen, each a string of
// text and SGR, oldest first, dropping the oldest past a byte cap. It is a
// slice with a moving start, compacted when half of it is dead, so a push
// is amortised O(1) and no line's bytes are copied more than twice.
type history struct {
	lines []string
	start int   // lines[start:] are kept
	used  int   // bytes plus overhead of the kept lines
	limit int   // cap on used
	total int64 // lines ever pushed
}

func (h *history) push(s string) {
	h.lines = append(h.lines, s)
	h.used += len(s) + lineOverhead
	h.total++
	for h.used > h.limit && h.start < len(h.lines) {
		h.used -= len(h.lines[h.start]) + lineOverhead
		h.lines[h.start] = ""
		h.start++
	}
	if h.start > 1024 && h.start*2 > len(h.lines) {
		n := copy(h.lines, h.lines[h.start:])
		clear(h.lines[n:])
		h.lines = h.lines[:n]
		h.start = 0
	}
}

func (h *history) len() int { return len(h.lines) - h.start }

// slice copies lines [from, to) (0 = oldest kept) into dst.
func (h *history) slice(dst []string, from, to int) []string {
	from = min(max(from, 0), h.len())
	to = min(max(to, from), h.len())
	return append(dst, h.lines[h.start+from:h.start+to]...)
}
