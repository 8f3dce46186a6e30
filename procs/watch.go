package procs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultWatchDebounce is how long a burst of file changes must go quiet
// before a watched unit is restarted.
const DefaultWatchDebounce = 500 * time.Millisecond

// Watch says which files restart a unit when they change.
type Watch struct {
	// Paths are globs relative to the unit's working directory; "**"
	// matches any number of directories.
	Paths []string
	// Ignore are globs of changes that do not count.
	Ignore []string
	// Debounce is the quiet time that ends a burst (default 500 ms).
	Debounce time.Duration
}

// CheckGlob returns what is wrong with a watch glob, or "" if it is well
// formed: each '/'-separated part a path.Match pattern, or "**".
func CheckGlob(pattern string) string {
	for _, part := range strings.Split(pattern, "/") {
		if part == "**" {
			continue
		}
		if strings.Contains(part, "**") {
			return `"**" must be a whole path part (like src/**/*.go)`
		}
		if _, err := path.Match(part, ""); err != nil {
			return "malformed pattern"
		}
	}
	return ""
}

// matchGlob reports whether name matches pattern, both '/'-separated and
// cleaned; "**" matches any number of parts (none included).
func matchGlob(pattern, name string) bool {
	return matchParts(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchParts(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchParts(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// unitWatch is a unit's running file watch: a goroutine that reads fsnotify's
// events and hands the ones that match to the owner goroutine, which
// debounces them (on the supervisor's clock) into one graceful restart per
// burst.
type unitWatch struct {
	done chan struct{} // closed when the unit is removed
	dir  string        // the unit's cwd, resolved once: changed files are named relative to it

	// Owned by the owner goroutine.
	first   string          // the burst's first changed file, relative to the unit's cwd
	changed map[string]bool // the burst's changed files
	timer   Timer           // ends the burst
	gen     uint64          // bumped by every change: only the last timer acts
}

// watchGlobs are a Watch's globs made absolute against the unit's cwd.
type watchGlobs struct {
	dir           string
	paths, ignore []string
}

func newWatchGlobs(dir string, w *Watch) watchGlobs {
	abs := func(gs []string) []string {
		out := make([]string, 0, len(gs))
		for _, g := range gs {
			if !filepath.IsAbs(g) {
				g = filepath.Join(dir, g)
			}
			out = append(out, filepath.ToSlash(filepath.Clean(g)))
		}
		return out
	}
	return watchGlobs{dir: dir, paths: abs(w.Paths), ignore: abs(w.Ignore)}
}

// matches reports whether a change to name (absolute) counts.
func (g *watchGlobs) matches(name string) bool {
	name = filepath.ToSlash(name)
	for _, ig := range g.ignore {
		if matchGlob(ig, name) {
			return false
		}
	}
	for _, p := range g.paths {
		if matchGlob(p, name) {
			return true
		}
	}
	return false
}

// wantDir reports whether directory dir (absolute) needs watching: some
// path glob could match a file under it, and no ignore glob takes it all
// (like "**/node_modules/**").
func (g *watchGlobs) wantDir(dir string) bool {
	dir = filepath.ToSlash(dir)
	if skipDir(path.Base(dir)) && !g.names(path.Base(dir)) {
		return false
	}
	for _, ig := range g.ignore {
		if base, ok := strings.CutSuffix(ig, "/**"); ok && matchGlob(base, dir) {
			return false
		}
	}
	parts := strings.Split(dir, "/")
	for _, p := range g.paths {
		if couldContain(strings.Split(p, "/"), parts) {
			return true
		}
	}
	return false
}

// skipDir reports whether a directory is one "**" does not go into unless a
// glob names it: version control's and package managers' trees, which are
// big and change for reasons of their own (nodemon skips them too).
func skipDir(name string) bool {
	switch name {
	case ".git", ".hg", ".svn", "node_modules":
		return true
	}
	return false
}

// names reports whether a path glob names the directory name literally.
func (g *watchGlobs) names(name string) bool {
	for _, p := range g.paths {
		if slices.Contains(strings.Split(p, "/"), name) {
			return true
		}
	}
	return false
}

// couldContain reports whether a path under dir (its parts) could match pat.
func couldContain(pat, dir []string) bool {
	for len(dir) > 0 {
		if len(pat) == 0 {
			return false
		}
		if pat[0] == "**" {
			return true
		}
		if ok, _ := path.Match(pat[0], dir[0]); !ok {
			return false
		}
		pat, dir = pat[1:], dir[1:]
	}
	return len(pat) > 0
}

// roots are the directories the globs start from: each glob's leading
// parts without pattern characters.
func (g *watchGlobs) roots() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range g.paths {
		parts := strings.Split(p, "/")
		i := 0
		for i < len(parts)-1 && !strings.ContainsAny(parts[i], "*?[\\") {
			i++
		}
		root := strings.Join(parts[:i], "/")
		if root == "" {
			root = "/"
		}
		if !seen[root] {
			seen[root] = true
			out = append(out, filepath.FromSlash(root))
		}
	}
	return out
}

// startWatch starts the unit's file watch, if it has one. Owner goroutine
// only; the directory walk happens on the watch's own goroutine.
func (s *Supervisor) startWatch(u *unit) {
	if u.spec.Watch == nil {
		return
	}
	dir := u.spec.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	uw := &unitWatch{done: make(chan struct{}), dir: dir, changed: map[string]bool{}}
	u.watch = uw
	g := newWatchGlobs(dir, u.spec.Watch)
	name, r := u.spec.Name, u.ring
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := s.runWatch(uw, g, func(file string) {
			s.post(func() {
				if cur := s.units[name]; cur == u && u.watch == uw {
					s.fileChanged(u, file)
				}
			})
		}); err != nil {
			s.eventTo(name, r, "watch: %v", err)
		}
	}()
}

// stopWatch ends the unit's file watch (it is being removed). Owner
// goroutine only.
func (s *Supervisor) stopWatch(u *unit) {
	if u.watch == nil {
		return
	}
	close(u.watch.done)
	if u.watch.timer != nil {
		u.watch.timer.Stop()
	}
	u.watch = nil
}

// runWatch watches the globs' directories, adding new ones as they appear,
// and calls changed with every changed file that matches, until the unit is
// removed or the supervisor ends.
func (s *Supervisor) runWatch(uw *unitWatch, g watchGlobs, changed func(file string)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("cannot watch files: %w", err)
	}
	defer w.Close()
	// add watches dir and the directories under it that a glob could
	// reach; found reports the files already there (a new directory's
	// files may be written before its watch is in place).
	var add func(dir string, found func(string)) error
	add = func(dir string, found func(string)) error {
		if !g.wantDir(dir) {
			return nil
		}
		if err := w.Add(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone already, or not made yet
			}
			return fmt.Errorf("cannot watch %s: %w", dir, err)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil // it went away meanwhile: its removal is an event
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			switch {
			case e.IsDir():
				if err := add(p, found); err != nil {
					return err
				}
			case found != nil && g.matches(p):
				found(p)
			}
		}
		return nil
	}
	for _, root := range g.roots() {
		// A root that does not exist yet is watched for from its nearest
		// existing parent: it is added when it appears.
		for root != filepath.Dir(root) {
			if _, err := os.Stat(root); err == nil {
				break
			}
			root = filepath.Dir(root)
		}
		if err := add(root, nil); err != nil {
			return err
		}
	}
	for {
		select {
		case <-uw.done:
			return nil
		case <-s.loopDone:
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				changed("") // events were lost: treat it as a change
				continue
			}
			return fmt.Errorf("watching files: %w", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod {
				continue // touch -a, editors' metadata: not a change of content
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					if err := add(ev.Name, changed); err != nil {
						return err
					}
					continue
				}
			}
			if g.matches(ev.Name) {
				changed(ev.Name)
			}
		}
	}
}

// fileChanged notes a changed file and (re)arms the burst's debounce timer:
// the unit is restarted once the changes have been quiet for the debounce.
// Owner goroutine only.
func (s *Supervisor) fileChanged(u *unit, file string) {
	uw := u.watch
	rel := file
	if file == "" {
		rel = "(events lost: too many changes at once)"
	} else if r, err := filepath.Rel(uw.dir, file); err == nil {
		rel = r
	}
	if uw.first == "" {
		uw.first = rel
	}
	uw.changed[rel] = true
	if uw.timer != nil {
		uw.timer.Stop()
	}
	uw.gen++
	gen := uw.gen
	d := u.spec.Watch.Debounce
	if d <= 0 {
		d = DefaultWatchDebounce
	}
	uw.timer = s.clock.AfterFunc(d, func() {
		s.post(func() {
			if u.watch == uw && uw.gen == gen {
				uw.timer = nil
				s.burstEnded(u)
			}
		})
	})
}

// burstEnded restarts the unit gracefully for a burst of changes, naming
// the file that changed first; a unit that crashed or exited is started
// again (its fix may be the change), one stopped on purpose is left alone.
func (s *Supervisor) burstEnded(u *unit) {
	uw := u.watch
	// A file name is outside text: cleaned before it becomes a reason.
	what := cleanLine(uw.first) + " changed"
	if n := len(uw.changed) - 1; n > 0 {
		what += fmt.Sprintf(" (and %d more)", n)
	}
	uw.first = ""
	clear(uw.changed)
	if s.shutting {
		return
	}
	switch {
	case u.alive() && !u.stopping:
		s.restartFor(u, what)
	case u.info.State == Crashed || u.info.State == Exited:
		s.event(u, "starting: %s", what)
		u.failures = 0
		s.launch(u, true) // waits for its dependencies, as every start does
	}
}
