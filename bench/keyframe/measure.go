package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startTimeout bounds the wait for kelpie to show every unit running.
const startTimeout = 60 * time.Second

// result is what one run measured.
type result struct {
	kelpie []time.Duration // key -> frame, per timed press
	cat    []time.Duration // key -> echo, per timed press
	polls  []time.Duration // every capture-pane round trip of the timed presses
	// settle and presses are the CPU used during the settle time (no keys,
	// no polls) and during the timed presses.
	settle, presses load
	lineRate        float64       // lines a second kelpie ingested, all units
	slowestUnit     float64       // lines a second of the unit that ingested fewest
	rateWindow      time.Duration // what lineRate was measured over
	unitsCPU        float64       // the writers' CPU at the end, percent of one core, all units (kelpie's figure)
	tmux            string        // tmux version
}

// measure runs the benchmark: kelpie with o.units writers in a private tmux
// server, then o.reps timed presses each for kelpie and the cat baseline.
// The server and the temp dir are removed whatever happens.
func measure(ctx context.Context, o options) (result, error) {
	var res result
	self, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("locating this binary for the writer units: %w", err)
	}
	kelpie, err := exec.LookPath(o.kelpie)
	if err != nil {
		return res, fmt.Errorf("kelpie binary: %w", err)
	}
	if kelpie, err = filepath.Abs(kelpie); err != nil {
		return res, fmt.Errorf("kelpie binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "keyframe-")
	if err != nil {
		return res, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeConfig(filepath.Join(dir, "kelpie.yaml"), self, o); err != nil {
		return res, err
	}

	srv := server{socket: filepath.Join(dir, "tmux.sock")}
	defer srv.kill()
	sock := filepath.Join(dir, "k.sock")
	for _, args := range [][]string{
		{"new-session", "-d", "-s", "ctl", "cat"},    // for the control-mode client to attach to
		{"set-option", "-g", "remain-on-exit", "on"}, // a pane that ends keeps its last words
		{"new-session", "-d", "-s", "kelpie", "-x", "120", "-y", "40", "-c", dir,
			"env", "TERM=xterm-256color", kelpie, "--socket", sock},
		{"new-session", "-d", "-s", "cat", "-x", "120", "-y", "40", "sh", "-c", "stty raw -echo && exec cat"},
	} {
		if _, err := srv.exec(ctx, args...); err != nil {
			return res, err
		}
	}
	v, err := srv.exec(ctx, "-V")
	if err != nil {
		return res, err
	}
	res.tmux = strings.TrimSpace(v)

	var r runner = execRunner{ctx: ctx, srv: srv}
	if o.poll == "control" {
		if r, err = newControlRunner(ctx, srv, "ctl"); err != nil {
			return res, err
		}
	}
	defer r.close()

	running := fmt.Sprintf("%d running", o.units)
	if err := waitFor(ctx, r, "kelpie", startTimeout, func(s string) bool {
		return strings.Contains(s, running) && selected(s) == "w1"
	}); err != nil {
		return res, fmt.Errorf("waiting for kelpie to show %q with w1 selected: %w", running, err)
	}
	out, err := srv.exec(ctx, "display-message", "-p", "-t", "kelpie", "#{pane_pid} #{pid}")
	if err != nil {
		return res, err
	}
	var pr probe
	if _, err := fmt.Sscan(out, &pr.kelpie, &pr.tmux); err != nil {
		return res, fmt.Errorf("kelpie's and tmux's pids from %q: %w", out, err)
	}
	pr.self = os.Getpid()

	seq0, err := lineCounts(ctx, kelpie, dir, sock)
	if err != nil {
		return res, err
	}
	l0, err := pr.sample()
	if err != nil {
		return res, err
	}
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(o.settle):
	}
	l1, err := pr.sample()
	if err != nil {
		return res, err
	}
	res.settle = l1.since(l0)

	p := presser{r: r, timeout: o.timeout, gap: o.gap, sel: "w1"}
	for range o.warmup {
		if _, err := p.kelpie(); err != nil {
			return res, err
		}
		if _, err := p.cat(); err != nil {
			return res, err
		}
	}
	p.polls = nil
	l2, err := pr.sample()
	if err != nil {
		return res, err
	}
	for i := range o.reps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		k, err := p.kelpie()
		if err != nil {
			return res, fmt.Errorf("press %d: %w", i+1, err)
		}
		c, err := p.cat()
		if err != nil {
			return res, fmt.Errorf("press %d: %w", i+1, err)
		}
		res.kelpie, res.cat = append(res.kelpie, k), append(res.cat, c)
	}
	l3, err := pr.sample()
	if err != nil {
		return res, err
	}
	res.presses = l3.since(l2)
	res.polls = p.polls

	seq1, err := lineCounts(ctx, kelpie, dir, sock)
	if err != nil {
		return res, err
	}
	res.unitsCPU = seq1.cpu
	res.rateWindow = seq1.at.Sub(seq0.at)
	secs := res.rateWindow.Seconds()
	res.slowestUnit = -1
	for name, n := range seq1.seq {
		d := float64(n - seq0.seq[name])
		res.lineRate += d / secs
		if res.slowestUnit < 0 || d/secs < res.slowestUnit {
			res.slowestUnit = d / secs
		}
	}
	return res, nil
}

// writeConfig writes a kelpie.yaml of o.units units w1..wN, each running
// this binary in the writer role.
func writeConfig(path, self string, o options) error {
	run, err := json.Marshal([]string{self, "writer", "-rate", strconv.Itoa(o.rate)})
	if err != nil {
		return fmt.Errorf("kelpie.yaml: %w", err)
	}
	var b strings.Builder
	b.WriteString("processes:\n")
	for i := 1; i <= o.units; i++ {
		if i == 1 && o.ttyRate > 0 {
			tty, err := json.Marshal([]string{self, "writer", "-rate", strconv.Itoa(o.ttyRate)})
			if err != nil {
				return fmt.Errorf("kelpie.yaml: %w", err)
			}
			fmt.Fprintf(&b, "  w1:\n    run: %s\n    tty: true\n", tty)
			continue
		}
		fmt.Fprintf(&b, "  w%d:\n    run: %s\n", i, run) // a JSON array is a YAML flow sequence
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("kelpie.yaml: %w", err)
	}
	return nil
}

// presser makes the timed key presses, for kelpie and for cat alike: send
// the key, then poll capture-pane back to back until the screen shows the
// change. A press's time runs from just before the key is sent.
type presser struct {
	r       runner
	timeout time.Duration
	gap     time.Duration   // pause between polls
	sel     string          // the unit kelpie has selected: w1 or w2
	letter  int             // the next letter to send cat
	polls   []time.Duration // the round trip of every capture-pane
}

// kelpie presses j on w1 or k on w2 and waits for the marker on the other row.
func (p *presser) kelpie() (time.Duration, error) {
	key, want := "j", "w2"
	if p.sel == "w2" {
		key, want = "k", "w1"
	}
	d, err := p.press("kelpie", []string{key}, func(s string) bool { return selected(s) == want })
	if err != nil {
		return 0, fmt.Errorf("kelpie, %s to select %s: %w", key, want, err)
	}
	p.sel = want
	return d, nil
}

// cat sends the next letter to the raw-mode cat and waits for its echo.
func (p *presser) cat() (time.Duration, error) {
	before, err := p.r.run("capture-pane", "-p", "-t", "cat")
	if err != nil {
		return 0, err
	}
	c := string(rune('a' + p.letter%26))
	p.letter++
	n := strings.Count(before, c)
	d, err := p.press("cat", []string{"-l", c}, func(s string) bool { return strings.Count(s, c) > n })
	if err != nil {
		return 0, fmt.Errorf("cat, echo of %q: %w", c, err)
	}
	return d, nil
}

func (p *presser) press(session string, key []string, done func(string) bool) (time.Duration, error) {
	start := time.Now()
	if _, err := p.r.run(append([]string{"send-keys", "-t", session}, key...)...); err != nil {
		return 0, err
	}
	for {
		t := time.Now()
		s, err := p.r.run("capture-pane", "-p", "-t", session)
		if err != nil {
			return 0, err
		}
		p.polls = append(p.polls, time.Since(t))
		if done(s) {
			return time.Since(start), nil
		}
		if time.Since(start) > p.timeout {
			return 0, fmt.Errorf("no change after %v; screen:\n%s", p.timeout, s)
		}
		if p.gap > 0 {
			time.Sleep(p.gap)
		}
	}
}

// waitFor polls session's pane until ok holds for its text.
func waitFor(ctx context.Context, r runner, session string, timeout time.Duration, ok func(string) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		s, err := r.run("capture-pane", "-p", "-t", session)
		if err != nil {
			return err
		}
		if ok(s) {
			return nil
		}
		if strings.Contains(s, "Pane is dead") {
			return fmt.Errorf("the program ended; screen:\n%s", s)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not after %v; screen:\n%s", timeout, s)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// selected returns the name on the table row that carries the selection
// marker ("▌ name" at the start of a line; "▸ name" in kelpie before the
// fold mark and the cursor parted), or "" if none does.
func selected(screen string) string {
	for l := range strings.Lines(screen) {
		for _, mark := range []string{"▌ ", "▸ "} {
			if rest, ok := strings.CutPrefix(l, mark); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					return f[0]
				}
			}
		}
	}
	return ""
}

// counts are the units' output line sequence numbers at a moment, and
// their CPU use as kelpie last sampled it (percent of one core, all units).
type counts struct {
	seq map[string]uint64
	cpu float64
	at  time.Time
}

// lineCounts asks the running kelpie (`kelpie ps --json`) for each unit's
// newest output line number: their growth is the rate kelpie ingests.
func lineCounts(ctx context.Context, kelpie, dir, sock string) (counts, error) {
	cmd := exec.CommandContext(ctx, kelpie, "ps", "--json", "--socket", sock)
	cmd.Dir = dir
	out, err := cmd.Output()
	at := time.Now()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return counts{}, fmt.Errorf("kelpie ps: %w", err)
	}
	var units []struct {
		Name    string  `json:"name"`
		LastSeq uint64  `json:"last_seq"`
		CPU     float64 `json:"cpu"`
	}
	if err := json.Unmarshal(out, &units); err != nil {
		return counts{}, fmt.Errorf("kelpie ps: %w", err)
	}
	c := counts{seq: make(map[string]uint64, len(units)), at: at}
	for _, u := range units {
		c.seq[u.Name] = u.LastSeq
		c.cpu += u.CPU
	}
	return c, nil
}
