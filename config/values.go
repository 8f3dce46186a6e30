package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxNameLen bounds process names so they fit the UI's name column and stay
// usable as command-line arguments.
const maxNameLen = 64

// minLogBuffer is the smallest log_buffer accepted: anything smaller could not
// hold even a screenful of output.
const minLogBuffer = 4 << 10

// minIPCLine is the smallest ipc_max_line accepted: a channel must carry at
// least small messages.
const minIPCLine = 1 << 10

// Upper bounds. Each setting below is something kelpie holds or waits for,
// so a typo's extra zeros must be caught here, not by the kernel's OOM killer
// or a shutdown that never ends.
const (
	// maxLogBuffer bounds one process's output ring, held in memory whole.
	maxLogBuffer = 1 << 30
	// maxIPCLine bounds one channel message, buffered whole before use
	// (16 times the default).
	maxIPCLine = 256 << 20
	// maxStopTimeout bounds how long a stop (and so `kelpie down`) waits.
	maxStopTimeout = time.Hour
	// maxBackoff bounds the first restart delay; maxBackoffMax the cap the
	// delays double up to; maxMinUptime the time a run must last to count
	// as a success. Beyond these a unit would look parked for good.
	maxBackoff    = time.Hour
	maxBackoffMax = 24 * time.Hour
	maxMinUptime  = 24 * time.Hour
	// maxMaxRestarts bounds the crash-loop limit; -1 means no limit at all.
	maxMaxRestarts = 1_000_000
)

// checkName returns why name cannot be a process name, or "" if it can. Names
// are typed on the command line and shown in narrow columns, so they are kept
// to a shell-safe ASCII set.
func checkName(name string) string {
	switch {
	case name == "":
		return "process name is empty"
	case len(name) > maxNameLen:
		return fmt.Sprintf("process name %q is longer than %d characters", name, maxNameLen)
	case !isAlnum(name[0]):
		return fmt.Sprintf("invalid process name %q: it must start with a letter or digit", name)
	}
	for _, r := range name {
		if r > 0x7f || !(isAlnum(byte(r)) || r == '.' || r == '_' || r == '-') {
			return fmt.Sprintf("invalid process name %q: %q is not allowed (use letters, digits, '.', '_' and '-')", name, r)
		}
	}
	return ""
}

// isEnvName reports whether s is a portable environment variable name, the
// only kind every shell and exec path passes through intact.
func isEnvName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// restartPolicies lists the accepted restart values, in the order messages
// show them.
func restartPolicies() []string { return []string{"never", "on-failure", "always"} }

// signal pairs a signal's name (without SIG) with its number.
type signal struct {
	name string
	sig  syscall.Signal
}

// signals lists the signals a stop_signal may name. It is a function rather
// than a package variable so nothing can modify the table at run time.
func signals() []signal {
	return []signal{
		{"HUP", syscall.SIGHUP}, {"INT", syscall.SIGINT}, {"QUIT", syscall.SIGQUIT},
		{"ILL", syscall.SIGILL}, {"TRAP", syscall.SIGTRAP}, {"ABRT", syscall.SIGABRT},
		{"BUS", syscall.SIGBUS}, {"FPE", syscall.SIGFPE}, {"KILL", syscall.SIGKILL},
		{"USR1", syscall.SIGUSR1}, {"SEGV", syscall.SIGSEGV}, {"USR2", syscall.SIGUSR2},
		{"PIPE", syscall.SIGPIPE}, {"ALRM", syscall.SIGALRM}, {"TERM", syscall.SIGTERM},
		{"CHLD", syscall.SIGCHLD}, {"CONT", syscall.SIGCONT}, {"STOP", syscall.SIGSTOP},
		{"TSTP", syscall.SIGTSTP}, {"TTIN", syscall.SIGTTIN}, {"TTOU", syscall.SIGTTOU},
		{"URG", syscall.SIGURG}, {"XCPU", syscall.SIGXCPU}, {"XFSZ", syscall.SIGXFSZ},
		{"VTALRM", syscall.SIGVTALRM}, {"PROF", syscall.SIGPROF}, {"WINCH", syscall.SIGWINCH},
		{"IO", syscall.SIGIO}, {"SYS", syscall.SIGSYS},
	}
}

// parseSignal reads a signal written as TERM, SIGTERM, sigterm or 15. On
// failure it returns a message for the user.
func parseSignal(s string) (syscall.Signal, string) {
	s = strings.TrimSpace(s)
	if s != "" && isDigit(s[0]) {
		n, err := strconv.Atoi(s)
		// 64 is the highest real-time signal on Linux; 0 would mean "use the
		// default" downstream, which is not what someone writing 0 meant.
		if err != nil || n < 1 || n > 64 {
			return 0, fmt.Sprintf("stop_signal: %q is not a signal number (want 1 to 64)", s)
		}
		return syscall.Signal(n), ""
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	names := make([]string, 0, 32)
	for _, sg := range signals() {
		if sg.name == name {
			return sg.sig, ""
		}
		names = append(names, sg.name)
	}
	if m := suggest(name, names); m != "" {
		return 0, fmt.Sprintf("stop_signal: unknown signal %q (did you mean %q?)", s, m)
	}
	return 0, fmt.Sprintf("stop_signal: unknown signal %q (use a name like TERM, INT, HUP, QUIT, USR1 or a number)", s)
}

// parseDuration reads a positive Go duration for the setting key, at most
// maximum.
func parseDuration(key, s string, maximum time.Duration) (time.Duration, string) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil && strings.Contains(err.Error(), "invalid duration") && durationDigits(s):
		return 0, fmt.Sprintf("%s: %s is too large (maximum %s)", key, strings.TrimSpace(s), durationHuman(maximum))
	case err != nil:
		return 0, fmt.Sprintf("%s: %q is not a duration (write e.g. 500ms, 5s, 1m30s)", key, s)
	case d <= 0:
		return 0, fmt.Sprintf("%s: must be greater than 0, got %s", key, s)
	case d > maximum:
		return 0, fmt.Sprintf("%s: %s is too large (maximum %s)", key, strings.TrimSpace(s), durationHuman(maximum))
	}
	return d, ""
}

// durationDigits reports whether s is a well-formed duration, so that
// time.ParseDuration's overflow error, which it words like a syntax error,
// reads as "too large".
func durationDigits(s string) bool {
	const num, unit = `([0-9]+(\.[0-9]*)?|\.[0-9]+)`, `(ns|us|µs|μs|ms|s|m|h)`
	return regexp.MustCompile(`^\s*` + num + unit + `(` + num + unit + `)*\s*$`).MatchString(s)
}

// durationHuman writes a bound back the way a user would (1h, 24h).
func durationHuman(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// parseSize reads a byte count such as 65536, 64KiB or 1 MB, from minimum to
// maximum. Only whole numbers are accepted so that the result is exact.
func parseSize(key, s string, minimum, maximum int64) (int, string) {
	bad := fmt.Sprintf("%s: %q is not a size (write a whole number of bytes with an optional unit: B, KB, KiB, MB, MiB, GB, GiB)", key, s)
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i == 0 {
		return 0, bad
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		n = math.MaxInt64 // reported as too large below, once the unit is known good
	} else if err != nil {
		return 0, bad
	}
	var mult int64
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
		mult = 1
	case "kb":
		mult = 1000
	case "kib":
		mult = 1 << 10
	case "mb":
		mult = 1000 * 1000
	case "mib":
		mult = 1 << 20
	case "gb":
		mult = 1000 * 1000 * 1000
	case "gib":
		mult = 1 << 30
	default:
		return 0, bad
	}
	if n > math.MaxInt/mult || n*mult > maximum {
		return 0, fmt.Sprintf("%s: %s is too large (maximum %s)", key, t, sizeHuman(maximum))
	}
	if n*mult < minimum {
		return 0, fmt.Sprintf("%s: %s is too small (minimum %s)", key, s, sizeHuman(minimum))
	}
	return int(n * mult), ""
}

// suggest returns the candidate closest to word, or "" if none is close
// enough to be a plausible typo. Case is ignored, and a swap of two adjacent
// letters counts as one edit, since that is the most common slip.
func suggest(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestDist := "", math.MaxInt
	for _, c := range candidates {
		if d := editDistance(w, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(1, min(len(w), len(best))/3)
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and adjacent transpositions.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rolling rows: the transposition rule looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// sizeHuman writes a bound back the way a user would (4KiB, 1MiB, 1GiB).
func sizeHuman(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}
