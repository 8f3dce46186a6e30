package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// stackFixture is a small dev stack: a ready database, a web unit waiting
// for it, a daemon with sd_notify words (hostile ones) and a nightly job.
func stackFixture() []procs.Info {
	db := running("db", 4100, 1, 30<<20, time.Minute)
	db.Ready = true
	web := procs.Info{Name: "web", Kind: procs.KindProcess, State: procs.Waiting, Command: "./web", Reason: "waiting for db (ready)"}
	daemon := running("daemon", 4200, 0, 10<<20, time.Minute)
	daemon.Status = "serving 3 clients\x1b]0;pwned\x07"
	nightly := procs.Info{
		Name: "nightly", Kind: procs.KindProcess, State: procs.Exited, Command: "./backup.sh", ExitCode: intp(0),
		Schedule: "0 3 * * *", NextRun: nightlyNext,
	}
	return []procs.Info{db, web, daemon, nightly}
}

// nightlyNext is the nightly job's next run, on the hour within a day.
var nightlyNext = epoch.Add(2 * time.Hour).Truncate(time.Hour)

// stackRow is the screen line that shows name's row.
func stackRow(t *testing.T, screen, name string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " │▌•"), name+" ") {
			return l
		}
	}
	t.Fatalf("no row for %s in\n%s", name, screen)
	return ""
}

// The table marks a ready unit, says what a waiting unit waits for, shows
// a unit's sd_notify status (cleaned) and a scheduled unit's next run.
func TestTableShowsTheStack(t *testing.T) {
	hs := newHarness(t, newFake(stackFixture()...), 160, 30)
	s := hs.screen()
	if row := stackRow(t, s, "db"); !strings.Contains(row, "running ✓ ready") {
		t.Errorf("db's row has no ready mark: %q", row)
	}
	if row := stackRow(t, s, "daemon"); strings.Contains(row, "✓") || !strings.Contains(row, "“serving 3 clients”") {
		t.Errorf("daemon's row: %q", row)
	}
	if row := stackRow(t, s, "web"); !strings.Contains(row, "waiting for db (ready)") {
		t.Errorf("web's row does not say what it waits for: %q", row)
	}
	if row := stackRow(t, s, "nightly"); !strings.Contains(row, "next "+nightlyNext.Local().Format("15:04")) {
		t.Errorf("nightly's row has no next run: %q", row)
	}
	if strings.Contains(hs.m.View(), "pwned") || strings.Contains(hs.m.View(), "\x1b]") {
		t.Error("a unit's status reached the screen raw")
	}
}

// The pane's title carries the selected unit's status; a waiting unit's
// reason line says what it waits for; the stats view lists the stack's
// details.
func TestPaneAndStatsShowTheStack(t *testing.T) {
	hs := newHarness(t, newFake(stackFixture()...), 160, 40)
	hs.key("j") // web
	if s := hs.screen(); !strings.Contains(s, "  waiting for db (ready)") {
		t.Errorf("the pane does not say what web waits for:\n%s", s)
	}
	hs.key("j") // daemon
	title := ""
	for _, l := range strings.Split(hs.screen(), "\n") {
		if strings.Contains(l, "daemon") && strings.Contains(l, "──") {
			title = l
		}
	}
	if !strings.Contains(title, "“serving 3 clients”") {
		t.Errorf("the pane's title lacks the status: %q", title)
	}
	hs.key("3")
	if s := hs.screen(); !strings.Contains(s, "status     serving 3 clients") || strings.Contains(s, "ready      yes") {
		t.Errorf("daemon's stats:\n%s", s)
	}
	hs.key("k", "k", "k") // db
	if s := hs.screen(); !strings.Contains(s, "ready      yes") {
		t.Errorf("db's stats do not say it is ready:\n%s", s)
	}
	hs.key("j", "j", "j")
	hs.key("j") // nightly
	if s := hs.screen(); !strings.Contains(s, "schedule   0 3 * * *, next "+nightlyNext.Local().Format("15:04")) {
		t.Errorf("stats lack the schedule:\n%s", s)
	}
}

// nextRunText words a due time by how far off it is.
func TestNextRunText(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.Local)
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{now.Add(15 * time.Hour), "03:00"},
		{now.Add(30 * time.Second), "12:00:30"},
		{now.Add(3 * 24 * time.Hour), "Sun 12:00"},
		{now.Add(30 * 24 * time.Hour), "Jan 31 12:00"},
	} {
		if got := nextRunText(c.in, now); got != c.want {
			t.Errorf("nextRunText(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
