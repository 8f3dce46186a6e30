package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"
)

// target is the requirement: key to changed screen under 50 ms.
const target = 50 * time.Millisecond

// report prints res as markdown.
func report(w io.Writer, o options, res result) {
	k, c, p := summarize(res.kelpie), summarize(res.cat), summarize(res.polls)
	fmt.Fprintf(w, "## key -> frame: kelpie with %d units x %d lines/s\n\n", o.units, o.rate)
	gap := "back to back"
	if o.gap > 0 {
		gap = fmt.Sprintf("%v apart", o.gap)
	}
	fmt.Fprintf(w, "%s, %d CPUs, 120x40 pane; %d timed presses each (after %d warm-up), kelpie and cat interleaved; capture-pane polled %s via %s\n\n",
		res.tmux, runtime.NumCPU(), o.reps, o.warmup, gap, pollName(o.poll))
	fmt.Fprintln(w, "| measurement | median | p90 | p99 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| kelpie: j/k -> selection marker on the next row | %s | %s | %s | %s |\n", ms(k.median), ms(k.p90), ms(k.p99), ms(k.max))
	fmt.Fprintf(w, "| baseline: raw `cat`, key -> echo, same tmux server | %s | %s | %s | %s |\n", ms(c.median), ms(c.p90), ms(c.p99), ms(c.max))
	fmt.Fprintf(w, "| difference, column by column | %s | %s | %s | %s |\n", ms(k.median-c.median), ms(k.p90-c.p90), ms(k.p99-c.p99), ms(k.max-c.max))
	plus := ""
	if o.gap > 0 {
		plus = fmt.Sprintf(", plus the %v gap", o.gap)
	}
	fmt.Fprintf(w, "| resolution: one capture-pane round trip%s (%d polls) | %s | %s | %s | %s |\n\n", plus, len(res.polls), ms(p.median), ms(p.p90), ms(p.p99), ms(p.max))

	verdict := "met"
	if k.median >= target {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "- requirement (key to frame < %v): %s at the median; p90 %s, max %s\n", target, verdict, ms(k.p90), ms(k.max))
	fmt.Fprintf(w, "- CPU during the presses: kelpie %.1f %%, tmux server %.1f %%, this driver %.1f %% (of one core); machine %.0f %% busy (of %d CPUs)\n",
		res.presses.kelpie, res.presses.tmux, res.presses.self, res.presses.machine, runtime.NumCPU())
	fmt.Fprintf(w, "- CPU during the %v settle before (no keys, no polls): kelpie %.1f %%, tmux server %.1f %%; machine %.0f %% busy\n",
		o.settle, res.settle.kelpie, res.settle.tmux, res.settle.machine)
	fmt.Fprintf(w, "- lines kelpie ingested (`ps --json` last_seq growth over %.1f s): %.0f lines/s in all (configured %d), slowest unit %.0f lines/s (configured %d)\n",
		res.rateWindow.Seconds(), res.lineRate, o.units*o.rate, res.slowestUnit, o.rate)
	fmt.Fprintf(w, "- the %d writers themselves: %.0f %% of one core in all at the end (kelpie's `ps` figure)\n", o.units, res.unitsCPU)
}

// stats are a sample's median, 90th and 99th percentiles and maximum.
type stats struct{ median, p90, p99, max time.Duration }

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	p90 := s[(9*n+9)/10-1]    // nearest rank: ceil(0.9 n)
	p99 := s[(99*n+99)/100-1] // ceil(0.99 n)
	return stats{median: med, p90: p90, p99: p99, max: s[n-1]}
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func pollName(poll string) string {
	if poll == "control" {
		return "one tmux control-mode client (no process per poll)"
	}
	return "a tmux client process per poll"
}
