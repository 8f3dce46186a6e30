package ui

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kelpie-dev/kelpie/procs"
)

// update reports -update: rewrite the golden files. teatest's golden package
// registers a flag of the same name and meaning, and a second registration
// panics, so this one is made only when no linked package made it.
var update = func() func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata/")
	}
	return func() bool { return flag.Lookup("update").Value.String() == "true" }
}()

// golden compares the ANSI-stripped screen with testdata/<name>.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if update() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui/ -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update if the change is right)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// stats is a sampler tick for the fixture's live units.
func stats(infos []procs.Info) *procs.Stats {
	st := &procs.Stats{Time: epoch, Units: make(map[string]procs.UnitStats), Self: procs.UnitStats{CPU: 0.4, RSS: 23 << 20}, MemTotal: 16 << 30}
	for _, in := range infos {
		if in.State.Live() {
			st.Units[in.Name] = procs.UnitStats{CPU: in.CPU, RSS: in.RSS, Procs: 1}
		}
	}
	return st
}

// overview is the fixture with api's output shown and one stats tick.
func overview(t *testing.T, w, h int) *harness {
	fb := newFake(fixture()...)
	last := apiOutput(fb)
	hs := newHarness(t, fb, w, h)
	hs.deliver(procs.Batch{Stats: stats(fixture()), Logs: map[string]uint64{"api": last}})
	return hs
}

func TestGoldenOverview(t *testing.T) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"overview_80x24", 80, 24}, {"overview_120x40", 120, 40}, {"overview_200x60", 200, 60}} {
		t.Run(sz.name, func(t *testing.T) {
			hs := overview(t, sz.w, sz.h)
			checkFrame(t, hs.m.View(), sz.w, sz.h)
			golden(t, sz.name, hs.screen())
		})
	}
}

func TestGoldenCrashedUnit(t *testing.T) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"crashed_80x24", 80, 24}, {"crashed_200x60", 200, 60}} {
		t.Run(sz.name, func(t *testing.T) {
			fb := newFake(fixture()...)
			fb.addLines("db-migrate", procs.Event, "started: pid 4301")
			fb.addLines("db-migrate", procs.Stderr, "error: relation \"orders\" already exists", "migration 0042_orders failed")
			fb.addLines("db-migrate", procs.Event, "exit status 2 after 1.002s",
				"crash loop: 11 quick failures in a row (each under 5s), not restarting; last: exit status 2")
			hs := newHarness(t, fb, sz.w, sz.h)
			hs.deliver(procs.Batch{Stats: stats(fixture())})
			hs.key("j", "j", "j", "t") // db-migrate, with timestamps
			checkFrame(t, hs.m.View(), sz.w, sz.h)
			golden(t, sz.name, hs.screen())
		})
	}
}

func TestGoldenHelp(t *testing.T) {
	hs := overview(t, 80, 24)
	hs.key("?")
	checkFrame(t, hs.m.View(), 80, 24)
	golden(t, "help_80x24", hs.screen())
}
