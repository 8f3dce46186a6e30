package procs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"/d/src/**/*.go", "/d/src/a.go", true},
		{"/d/src/**/*.go", "/d/src/x/y/a.go", true},
		{"/d/src/**/*.go", "/d/src/a.txt", false},
		{"/d/src/**/*.go", "/d/other/a.go", false},
		{"/d/**/*_test.go", "/d/src/a_test.go", true},
		{"/d/*.go", "/d/x/a.go", false},
		{"/d/**", "/d/x/y", true},
	} {
		if got := matchGlob(tc.pat, tc.name); got != tc.want {
			t.Errorf("matchGlob(%q, %q) = %v", tc.pat, tc.name, got)
		}
	}
	g := newWatchGlobs("/d", &Watch{Paths: []string{"**/*.go", "vendor/node_modules/x/*.js"}, Ignore: []string{"**/build/**"}})
	for dir, want := range map[string]bool{"/d": true, "/d/src/a": true, "/d/.git": false, "/d/x/build": false,
		"/d/vendor/node_modules": true, "/d/web/node_modules": true} {
		if got := g.wantDir(dir); got != want {
			t.Errorf("wantDir(%s) = %v", dir, got)
		}
	}
	g = newWatchGlobs("/d", &Watch{Paths: []string{"src/*.go"}})
	if g.wantDir("/d/src/sub") || g.wantDir("/d/node_modules") || !g.wantDir("/d/src") || !slices.Equal(g.roots(), []string{"/d/src"}) {
		t.Errorf("src/*.go: roots %v", g.roots())
	}
	if CheckGlob("src/**/*.go") != "" || CheckGlob("src/a**") == "" || CheckGlob("[") == "" {
		t.Error("CheckGlob")
	}
}

// watchBurst reads how many distinct files the unit's current burst holds.
func watchBurst(t *testing.T, s *Supervisor, name string) int {
	t.Helper()
	n := -1
	if err := s.call(func() {
		if u := s.units[name]; u != nil && u.watch != nil {
			n = len(u.watch.changed)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWatchRestartsOncePerBurst: changes to watched files (one in a
// directory made after the watch started) restart the unit gracefully once,
// when the debounce has passed on the injected clock, naming the first file;
// an ignored file does not count.
func TestWatchRestartsOncePerBurst(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	s := newTestSupervisor(t, Options{Clock: clk})
	w := watch(t, s)
	spec := roleSpec("web", "sleep", "")
	spec.Dir = dir
	spec.Watch = &Watch{Paths: []string{"src/**/*.go"}, Ignore: []string{"**/*_test.go"}, Debounce: 500 * time.Millisecond}
	if err := s.Add(spec); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("web"); err != nil {
		t.Fatal(err)
	}
	first := w.state("web", Running)

	write := func(rel string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// Written beside (unwatched) and renamed in: one event per file,
		// so the last file seen is the last event of the burst.
		tmp := filepath.Join(dir, "tmp")
		if err := os.WriteFile(tmp, []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	// The watch's goroutine adds its directories on its own time: wait
	// until a change is seen before writing the burst proper.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; watchBurst(t, s, "web") < 1; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no change seen")
		}
		write("src/warmup.go")
		time.Sleep(10 * time.Millisecond)
	}
	write("src/a_test.go") // ignored
	write("src/notes.txt") // not watched
	write("src/sub/b.go")  // a new directory
	write("src/c.go")
	for watchBurst(t, s, "web") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("burst holds %d files, want warmup.go, b.go, c.go", watchBurst(t, s, "web"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Inside the debounce: nothing yet.
	clk.Advance(400 * time.Millisecond)
	if in, _ := s.Get("web"); in.State != Running || in.Restarts != 0 {
		t.Fatalf("restarted inside the debounce: %s, %d restarts", in.State, in.Restarts)
	}
	clk.Advance(100 * time.Millisecond)
	in := w.until("web", "restarted", func(in Info) bool { return in.State == Running && in.Restarts == 1 })
	if in.PID == first.PID {
		t.Fatal("same pid after the restart")
	}
	lines, _ := s.Tail("web", 100)
	var restarts []string
	for _, l := range lines {
		if l.Stream == Event && strings.HasPrefix(l.Text, "restarting: ") {
			restarts = append(restarts, l.Text)
		}
		if strings.Contains(l.Text, "a_test.go") || strings.Contains(l.Text, "notes.txt") {
			t.Errorf("an ignored file counted: %q", l.Text)
		}
	}
	if len(restarts) != 1 || restarts[0] != "restarting: "+filepath.Join("src", "warmup.go")+" changed (and 2 more)" {
		t.Errorf("restart events %q", restarts)
	}
	if !hasLine(s, "web", Event, "stopping: SIGTERM to the process group") {
		t.Error("the restart was not a graceful stop")
	}
	if files := burstFiles(t, s, "web"); len(files) != 0 {
		t.Errorf("after the restart the burst still holds %v", files)
	}
}

func burstFiles(t *testing.T, s *Supervisor, name string) []string {
	t.Helper()
	var out []string
	_ = s.call(func() {
		if u := s.units[name]; u != nil && u.watch != nil {
			for f := range u.watch.changed {
				out = append(out, f)
			}
		}
	})
	return out
}
