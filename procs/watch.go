package procs

import (
	"path"
	"strings"
	"time"
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

// unitWatch is a unit's running file watch.
type unitWatch struct{}
