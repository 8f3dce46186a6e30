package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

// ps's table has a READY mark, says what a waiting unit waits for, and
// puts a unit's sd_notify status (cleaned) and next run in NOTE.
func TestPrintPSShowsTheStack(t *testing.T) {
	next := time.Now().Add(time.Hour)
	units := []procs.Info{
		{Name: "db", Kind: procs.KindProcess, State: procs.Running, PID: 10, Ready: true, Status: "accepting\x1b]0;pwned\x07 connections"},
		{Name: "web", Kind: procs.KindProcess, State: procs.Waiting, Reason: "waiting for db (ready)"},
		{Name: "nightly", Kind: procs.KindProcess, State: procs.Exited, NextRun: next, Schedule: "0 3 * * *"},
	}
	var b bytes.Buffer
	printPS(&b, units)
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], " READY ") {
		t.Fatalf("no READY column: %q", lines[0])
	}
	col := strings.Index(lines[0], "READY")
	row := func(name string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, name+" ") {
				return l
			}
		}
		t.Fatalf("no row for %s in\n%s", name, out)
		return ""
	}
	if db := []rune(row("db")); string(db[col]) != "✓" || !strings.Contains(string(db), "status: accepting connections") {
		t.Errorf("db's row: %q", string(db))
	}
	if web := row("web"); strings.Contains(web, "✓") || !strings.Contains(web, "waiting for db (ready)") {
		t.Errorf("web's row: %q", web)
	}
	if n := row("nightly"); !strings.Contains(n, "next run "+next.Local().Format("Jan 2 15:04:05")) {
		t.Errorf("nightly's row: %q", n)
	}
	if strings.Contains(out, "pwned") || strings.Contains(out, "\x1b") {
		t.Errorf("a status reached the terminal raw: %q", out)
	}
}
