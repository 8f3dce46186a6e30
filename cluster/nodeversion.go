package cluster

import (
	"context"
	"errors"
)

// VerifiedNodeMajors are the Node major versions whose internal cluster
// protocol kelpie's NodePrimary was checked against.
var VerifiedNodeMajors = []int{20}

// CheckNodeVersion runs `node --version` with the given binary and returns
// the version, or an error naming it when its major is not one of
// VerifiedNodeMajors.
func CheckNodeVersion(ctx context.Context, node string) (string, error) {
	return "", errors.New("cluster: CheckNodeVersion: not implemented yet")
}
