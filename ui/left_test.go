package ui

import (
	"strings"
	"testing"
)

// ← on a member folds its group and selects the group row, as in a tree.
func TestLeftOnAMemberFoldsItsGroup(t *testing.T) {
	fb := newFake(workerFixture()...)
	hs := newHarness(t, fb, 120, 40)
	selectRow(t, hs, "primes")
	hs.key("right")
	selectRow(t, hs, "primes/1")
	hs.key("left")
	v, ok := hs.m.table.selectedRow()
	if !ok || v.u.info.Name != "primes" {
		t.Fatalf("← on primes/1 selected %v:\n%s", v.u.info.Name, hs.screen())
	}
	if strings.Contains(hs.screen(), "├─primes/1") {
		t.Errorf("the group is still open:\n%s", hs.screen())
	}
}
