package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in a config file, with the position it was found
// at so editors and terminals can jump straight to it. Line and Col are
// 1-based; a zero Line means the problem concerns the file as a whole (it could
// not be read, say) and a zero Col means only the line is known (nothing
// reports that today: YAML syntax errors are located to the character).
type Error struct {
	File string
	Line int
	Col  int
	Msg  string

	// err keeps the underlying cause (an I/O error) so that callers can still
	// use errors.Is, for example to tell a missing file from a broken one.
	err error
}

// Error formats the problem as FILE:LINE:COL: MSG, dropping the parts of the
// position that are unknown.
func (e *Error) Error() string {
	switch {
	case e.Line <= 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Col <= 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
}

// Unwrap returns the I/O error behind the problem, if there is one.
func (e *Error) Unwrap() error { return e.err }

// Errors is every problem found in one file, sorted by position. Parse reports
// them all at once so that fixing a config takes one round trip, not one per
// mistake.
type Errors []*Error

// Error puts each problem on its own line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// reporter collects the problems found while checking one file.
type reporter struct {
	file    string
	errs    Errors
	origins []EnvOrigin // File.EnvOrigins, gathered as units are read
}

// at records a problem at line:col.
func (r *reporter) at(line, col int, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected problems sorted by position, or nil when there
// were none. Identical reports are dropped: a bad value behind a YAML anchor
// is seen once per alias that uses it, but only needs fixing once.
func (r *reporter) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	es := slices.Clone(r.errs)
	// The config's own problems first, then each other file's (a dotenv
	// file it names), each in position order.
	other := func(e *Error) int {
		if e.File == r.file {
			return 0
		}
		return 1
	}
	slices.SortFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(other(a), other(b)), strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), strings.Compare(a.Msg, b.Msg))
	})
	es = slices.CompactFunc(es, func(a, b *Error) bool { return *a == *b })
	return es
}
