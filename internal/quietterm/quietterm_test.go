package quietterm

import (
	"os"
	"testing"
)

func TestHushAndRestore(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	s := hush()
	if !s.hushed || os.Getenv("TERM") != "dumb" {
		t.Fatalf("not hushed: %+v, TERM %q", s, os.Getenv("TERM"))
	}
	s.restore()
	if os.Getenv("TERM") != "xterm-256color" {
		t.Errorf("TERM after restore: %q", os.Getenv("TERM"))
	}
	os.Unsetenv("TERM")
	s = hush()
	s.restore()
	if v, ok := os.LookupEnv("TERM"); ok {
		t.Errorf("an unset TERM came back as %q", v)
	}
}

func TestHushedAtInit(t *testing.T) {
	// The test binary went through this package's init like kelpie does.
	if !Hushed() {
		t.Fatal("TERM was not hushed at init")
	}
}
