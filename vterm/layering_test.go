package vterm

import (
	"os/exec"
	"strings"
	"testing"
)

// vterm may use terminal libraries (creack/pty, x/vt and what they pull
// in) but no UI framework, and not procs or ui (procs imports vterm).
func TestLayeringNoUIFramework(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{
		"github.com/charmbracelet/bubbletea", "github.com/charmbracelet/bubbles",
		"github.com/charmbracelet/lipgloss", "github.com/kelpie-dev/kelpie/procs",
		"github.com/kelpie-dev/kelpie/ui",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") {
				t.Errorf("vterm depends on %s", pkg)
			}
		}
	}
}
