package quietterm

import (
	"os"
	"strings"
	"testing"
)

func TestWantsScreen(t *testing.T) {
	for args, want := range map[string]bool{
		"":                        true,
		"up":                      true,
		"-f up":                   true, // a config file named up
		"-f x.yaml up --socket s": true,
		"up --headless=false":     true,
		"up --headless":           false,
		"--headless":              false,
		"--headless=true":         false,
		"ps":                      false,
		"logs api -F":             false,
		"--socket s logs":         false,
		"-f kelpie.yaml validate": false,
		"--help":                  false,
		"up -h":                   false,
		"--version":               false,
		"completion bash":         false,
		"__complete logs ''":      false,
		"-- up":                   false,
	} {
		if got := WantsScreen(strings.Fields(args)); got != want {
			t.Errorf("WantsScreen(%q) = %v, want %v", args, got, want)
		}
	}
}

func TestHushAndRestore(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	if s := hush([]string{"up"}); s.hushed || os.Getenv("TERM") != "xterm-256color" {
		t.Fatalf("hushed for the screen: %+v", s)
	}
	s := hush([]string{"logs", "api"})
	if !s.hushed || os.Getenv("TERM") != "dumb" {
		t.Fatalf("not hushed for logs: %+v, TERM %q", s, os.Getenv("TERM"))
	}
	s.restore()
	if os.Getenv("TERM") != "xterm-256color" {
		t.Errorf("TERM after restore: %q", os.Getenv("TERM"))
	}
	os.Unsetenv("TERM")
	s = hush([]string{"ps"})
	s.restore()
	if v, ok := os.LookupEnv("TERM"); ok {
		t.Errorf("an unset TERM came back as %q", v)
	}
}
