// Package config reads kelpie's process definitions from a kelpie.yaml file
// or a Procfile and turns them into procs.Spec values, in file order.
//
// Every problem in a file is reported at once, each with the file, line and
// column it was found at, so a broken config can be fixed in one pass.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kelpie-dev/kelpie/procs"
)

// The values of File.Kind.
const (
	KindYAML     = "yaml"
	KindProcfile = "procfile"
)

// File is a loaded config file.
type File struct {
	// Path is the file's path as it was given to Load or Parse.
	Path string
	// Kind is the format the file was read as: KindYAML or KindProcfile.
	Kind string
	// Specs holds one spec per process, in the order the file lists them.
	// Settings the file leaves out stay zero so that the supervisor's
	// defaults apply; Dir is always absolute.
	Specs []procs.Spec
	// Clusters holds the clusters: section's clusters, in file order; their
	// addresses are not bound yet (see procs.ListenCluster).
	Clusters []procs.Cluster
	// Logs says where units' output is kept on disk (log_dir:); zero: not.
	Logs Logs
	// EnvOrigins names the units' environment variables whose values came
	// from outside this file (see EnvOrigin), in file order.
	EnvOrigins []EnvOrigin
}

// EnvOrigin names one environment variable of a unit whose value came from
// outside the config file: a dotenv file (.env, env_file:), or this
// machine's environment through ${VAR}; or, with InCommand, one such
// variable that ${VAR} put into the unit's command (run:). Such values are
// often secrets: an export that writes them into files says which they are
// (never the values).
type EnvOrigin struct {
	// Unit is the process's or cluster's name.
	Unit string
	// Var is the variable's name.
	Var string
	// From says where the value came from: "PATH" (a dotenv file) or
	// "this machine's environment (${NAME})".
	From string
	// InCommand: the value is expanded into the command, not (only) set
	// in the environment.
	InCommand bool
}

// Find looks in dir for a config file, trying kelpie.yaml, kelpie.yml and
// Procfile in that order, and returns the path of the first that exists. It
// returns ("", nil) when there is none, so the caller can fall back to a
// built-in demo rather than fail.
func Find(dir string) (string, error) {
	// Check dir itself first: a mistyped directory would otherwise look just
	// like an empty one and silently start the demo.
	if fi, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("config: looking for a config file: %w", err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("config: looking for a config file: %s is not a directory", dir)
	}
	for _, name := range []string{"kelpie.yaml", "kelpie.yml", "Procfile"} {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("config: looking for %s: %w", name, err)
		case fi.IsDir():
			// Skipping it would quietly pick a lower-priority file, which is
			// more confusing than saying what is wrong.
			return "", fmt.Errorf("config: %s is a directory, not a config file", path)
		}
		return path, nil
	}
	return "", nil
}

// Load reads and checks the config file at path. A file named Procfile, or
// with a name ending in .procfile, is read as a Procfile; anything else as
// YAML. A file that cannot be read gives an *Error naming it; a file with
// problems gives Errors listing all of them.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		// The path is already at the front of the message; don't repeat it.
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: "cannot read config: " + msg, err: err}
	}
	return Parse(path, data)
}

// Parse is Load for a file already in memory. path picks the format and
// anchors relative cwd settings (which must exist on disk); it is not read.
func Parse(path string, data []byte) (*File, error) {
	// Relative working directories are resolved against the config file's
	// directory, not kelpie's, so a config means the same thing wherever
	// kelpie is started from.
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config: resolving the directory of %s: %w", path, err)
	}
	rep := &reporter{file: path}
	f := &File{Path: path, Kind: formatOf(path)}
	if f.Kind == KindProcfile {
		f.Specs = parseProcfile(rep, dir, data)
		procfileDotenv(rep, dir, f.Specs)
	} else {
		f.Specs, f.Clusters, f.Logs = parseYAML(rep, dir, data)
	}
	if err := rep.err(); err != nil {
		return nil, err
	}
	f.EnvOrigins = rep.origins
	return f, nil
}

// formatOf picks a file's format from its name alone, so that a file's
// meaning never depends on guessing from its content.
func formatOf(path string) string {
	base := filepath.Base(path)
	if base == "Procfile" || strings.HasSuffix(strings.ToLower(base), ".procfile") {
		return KindProcfile
	}
	return KindYAML
}
