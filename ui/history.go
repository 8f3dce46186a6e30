package ui

import (
	"math"
	"strings"
	"time"
)

// How many stats ticks the UI keeps: a short history for every unit (the
// table's sparkline), a long one for the units whose Stats view was opened
// lately (the charts). At the default 1 s tick that is 1 and 5 minutes.
const (
	shortHistory = 60
	longHistory  = 300
	longKept     = 8                     // units with a long history at once
	sparkPer     = shortHistory / sparkW // samples a sparkline cell covers
)

// sample is one unit's use at one stats tick.
type sample struct {
	cpu float32 // percent of one core; NaN when the unit had no process
	rss uint64
}

func (s sample) missing() bool { return s.cpu != s.cpu } // NaN

var noSample = sample{cpu: float32(math.NaN())}

// series is a ring of samples, newest last. Every unit's series gets one
// sample per tick (noSample when it was not running), so the i-th newest
// sample of any series belongs to the i-th newest tick.
type series struct {
	buf  []sample
	head int // where the next sample goes
	n    int
}

func newSeries(capacity int) *series { return &series{buf: make([]sample, capacity)} }

func (s *series) push(x sample) {
	s.buf[s.head] = x
	s.head = (s.head + 1) % len(s.buf)
	s.n = min(s.n+1, len(s.buf))
}

// fromEnd is the i-th newest sample (0 is the newest); i < s.n.
func (s *series) fromEnd(i int) sample {
	return s.buf[(s.head-1-i+2*len(s.buf))%len(s.buf)]
}

// resize keeps the newest samples that fit the new capacity.
func (s *series) resize(capacity int) {
	if capacity == len(s.buf) {
		return
	}
	keep := min(s.n, capacity)
	buf := make([]sample, capacity)
	for i := range keep {
		buf[keep-1-i] = s.fromEnd(i)
	}
	s.buf, s.n, s.head = buf, keep, keep%capacity
}

// tickRing holds the times of the ticks the long histories cover.
type tickRing struct {
	at    [longHistory]time.Time
	head  int
	n     int
	count uint64 // ticks seen; a cheap version stamp for caches
}

func (r *tickRing) push(t time.Time) {
	r.at[r.head] = t
	r.head = (r.head + 1) % len(r.at)
	r.n = min(r.n+1, len(r.at))
	r.count++
}

// fromEnd is the time of the i-th newest tick; i < r.n.
func (r *tickRing) fromEnd(i int) time.Time {
	return r.at[(r.head-1-i+2*len(r.at))%len(r.at)]
}

// sparkLevels draw a sample's height; a blank is a tick without a process.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws s's CPU samples in w cells, per samples a cell, oldest
// on the left; the newest cell holds the last `newest` samples (fewer than
// per while its bucket fills, so cells stay put between ticks). A cell
// shows the highest sample of its bucket, so a short spike still shows; a
// blank is a bucket without a process. The scale is one core (100 %),
// stretched when a sample goes above it, so rows compare at a glance:
// idle units read ▁▁▁, busy ones stand tall.
func sparkline(s *series, w, per, newest int) string {
	if s == nil || w <= 0 {
		return spaces(w)
	}
	per = max(per, 1)
	if newest <= 0 || newest > per {
		newest = per
	}
	cells := make([]float32, w)
	top := float32(100)
	for c := range cells {
		cells[c] = -1 // no sample
	}
	for i := 0; i < s.n; i++ {
		c := 0
		if i >= newest {
			c = 1 + (i-newest)/per
		}
		if c >= w {
			break
		}
		v := s.fromEnd(i)
		if v.missing() {
			continue
		}
		cells[c] = max(cells[c], v.cpu)
		top = max(top, v.cpu)
	}
	var b strings.Builder
	b.Grow(w * 3)
	for c := w - 1; c >= 0; c-- {
		v := cells[c]
		if v < 0 {
			b.WriteByte(' ')
			continue
		}
		lvl := int(math.Ceil(float64(v/top*float32(len(sparkLevels))))) - 1
		b.WriteRune(sparkLevels[max(0, min(lvl, len(sparkLevels)-1))])
	}
	return b.String()
}
