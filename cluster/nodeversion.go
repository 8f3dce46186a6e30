package cluster

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// VerifiedNodeMajors returns the Node major versions whose internal cluster
// protocol NodePrimary was checked against (v20.20.2).
func VerifiedNodeMajors() []int { return []int{20} }

// CheckNodeVersion runs `node --version` with the given binary and returns
// the version, or an error naming it when its major is not one of
// VerifiedNodeMajors: the NODE_CLUSTER protocol is undocumented and may
// change with any major.
func CheckNodeVersion(ctx context.Context, node string) (string, error) {
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if errors.Is(err, syscall.ECHILD) && len(out) > 0 {
		// A supervisor in this process reaps every child (wait4 on any
		// pid, as a subreaper must) and may take this one first. Output
		// waited for the end of its stdout, so what it printed is whole;
		// only the exit status is lost, and the version says enough.
		err = nil
	}
	if err != nil {
		return "", fmt.Errorf("cluster: %s --version: %w", node, err)
	}
	v := strings.TrimSpace(string(out))
	return v, NodeVersionVerified(v)
}

// NodeVersionVerified checks a version as `node --version` prints it
// ("v20.20.2").
func NodeVersionVerified(v string) error {
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return fmt.Errorf("cluster: node version %q: not a version", v)
	}
	if !slices.Contains(VerifiedNodeMajors(), n) {
		return fmt.Errorf("cluster: node %s: kelpie's node mode is verified only with Node %v (it speaks Node's undocumented internal cluster protocol); use mode round-robin or fds with this Node", v, VerifiedNodeMajors())
	}
	return nil
}
