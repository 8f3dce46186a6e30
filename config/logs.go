package config

import (
	"path/filepath"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Logs is where a config keeps its units' output on disk (log_dir:), and
// how much (log_max_size:, log_max_files:). The zero Logs keeps none.
type Logs struct {
	// Dir is the directory, absolute (relative paths are resolved against
	// the config file's directory); empty: no log files.
	Dir string
	// MaxSize rotates a unit's file at this many bytes (0: the default).
	MaxSize int64
	// MaxFiles is how many rotated files are kept (0: the default).
	MaxFiles int
}

// Bounds of the log file settings.
const (
	minLogFileSize = 4 << 10
	maxLogFileSize = 1 << 30
	maxLogFiles    = 1000
)

// logSetting reads one of the top-level log_dir, log_max_size and
// log_max_files keys into c.logs.
func (c *yamlChecker) logSetting(key string, raw *yaml.Node) {
	v := deref(raw)
	switch key {
	case "log_dir":
		s, ok := c.scalar(key, raw, v, "a directory")
		if !ok {
			return
		}
		if s == "" {
			c.at(raw, "log_dir: empty (leave the key out to keep no log files)")
			return
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(c.dir, s)
		}
		c.logs.Dir = filepath.Clean(s)
	case "log_max_size":
		s, ok := c.scalar(key, raw, v, "a size")
		if !ok {
			return
		}
		n, msg := parseSize(key, s, minLogFileSize, maxLogFileSize)
		c.check(raw, msg)
		c.logs.MaxSize = int64(n)
	case "log_max_files":
		s, ok := c.scalar(key, raw, v, "a count")
		if !ok {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLogFiles {
			c.at(raw, "log_max_files: %q is not a count from 1 to %d", s, maxLogFiles)
			return
		}
		c.logs.MaxFiles = n
	}
}

// logKeys are the top-level keys logSetting reads.
func logKeys() []string { return []string{"log_dir", "log_max_size", "log_max_files"} }
