package config

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"4096", 4096, ""},
		{"4096B", 4096, ""},
		{"4KiB", 4096, ""},
		{"8kb", 8000, ""},
		{"1MB", 1000000, ""},
		{"1 MiB", 1 << 20, ""},
		{"1GB", 1000000000, ""},
		{"1GiB", 1 << 30, ""},
		{"2GB", 0, "log_buffer: 2GB is too large (maximum 1GiB)"},
		{"1000GiB", 0, "log_buffer: 1000GiB is too large (maximum 1GiB)"},
		{"1073741825", 0, "too large"},
		{"4095", 0, "too small"},
		{"4KB", 0, "too small"}, // 4000 bytes
		{"1.5MiB", 0, "not a size"},
		{"MiB", 0, "not a size"},
		{"1M", 0, "not a size"},
		{"", 0, "not a size"},
		{"99999999999999999999", 0, "too large"},
		{"99999999999999999999 parsecs", 0, "not a size"},
	}
	for _, tt := range tests {
		got, msg := parseSize("log_buffer", tt.in, minLogBuffer, maxLogBuffer)
		if got != tt.want || (tt.err == "") != (msg == "") || !strings.Contains(msg, tt.err) {
			t.Errorf("parseSize(%q) = %d, %q; want %d, %q", tt.in, got, msg, tt.want, tt.err)
		}
	}
}

func TestParseDurationBounds(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"1h", time.Hour, ""},
		{"59m59s", time.Hour - time.Second, ""},
		{"61m", 0, "stop_timeout: 61m is too large (maximum 1h)"},
		{"9999999999h", 0, "stop_timeout: 9999999999h is too large (maximum 1h)"},
		{"1.5.5s", 0, "is not a duration"},
		{"5 seconds", 0, "is not a duration"},
		{"0s", 0, "must be greater than 0"},
	}
	for _, tt := range tests {
		got, msg := parseDuration("stop_timeout", tt.in, maxStopTimeout)
		if got != tt.want || (tt.err == "") != (msg == "") || !strings.Contains(msg, tt.err) {
			t.Errorf("parseDuration(%q) = %s, %q; want %s, %q", tt.in, got, msg, tt.want, tt.err)
		}
	}
	if s := durationHuman(maxBackoffMax); s != "24h" {
		t.Errorf("durationHuman(24h) = %q", s)
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
	}{
		{"TERM", syscall.SIGTERM}, {"SIGTERM", syscall.SIGTERM}, {"sigterm", syscall.SIGTERM},
		{"int", syscall.SIGINT}, {"SIGKILL", syscall.SIGKILL}, {"USR2", syscall.SIGUSR2},
		{"15", syscall.SIGTERM}, {"9", syscall.SIGKILL}, {"64", syscall.Signal(64)},
		{"", 0}, {"SIG", 0}, {"65", 0}, {"TERMINATE", 0},
	}
	for _, tt := range tests {
		got, msg := parseSignal(tt.in)
		if got != tt.want || (tt.want == 0) == (msg == "") {
			t.Errorf("parseSignal(%q) = %d, %q; want %d", tt.in, got, msg, tt.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "A1", "9lives", "api.v2", "my_app-1", strings.Repeat("x", 64)} {
		if msg := checkName(ok); msg != "" {
			t.Errorf("checkName(%q) = %q, want ok", ok, msg)
		}
	}
	for _, bad := range []string{"", ".a", "_a", "-a", "a b", "a/b", "a:b", "ünï", strings.Repeat("x", 65)} {
		if checkName(bad) == "" {
			t.Errorf("checkName(%q) accepted it", bad)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := processKeys()
	tests := []struct{ in, want string }{
		{"restrat", "restart"},
		{"RUN", "run"},
		{"stop_sigal", "stop_signal"},
		{"backof", "backoff"},
		{"log_bufer", "log_buffer"},
		{"zzz", ""},
		{"replicas", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := editDistance("ab", "ba"); d != 1 {
		t.Errorf("editDistance(ab, ba) = %d, want 1 (one transposition)", d)
	}
}
