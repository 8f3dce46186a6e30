package config

import (
	"strings"
	"syscall"
	"testing"
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
		{"2GB", 2000000000, ""},
		{"1GiB", 1 << 30, ""},
		{"4095", 0, "too small"},
		{"4KB", 0, "too small"}, // 4000 bytes
		{"1.5MiB", 0, "not a size"},
		{"MiB", 0, "not a size"},
		{"1M", 0, "not a size"},
		{"", 0, "not a size"},
		{"99999999999999999999", 0, "not a size"},
	}
	for _, tt := range tests {
		got, msg := parseSize("log_buffer", tt.in, minLogBuffer)
		if got != tt.want || (tt.err == "") != (msg == "") || !strings.Contains(msg, tt.err) {
			t.Errorf("parseSize(%q) = %d, %q; want %d, %q", tt.in, got, msg, tt.want, tt.err)
		}
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
