package vterm

import (
	"reflect"
	"unsafe"

	"github.com/charmbracelet/x/vt"
)

// noAltScrollback turns off the alternate screen's scrollback. x/vt v0.1.0
// gives both screens a 10,000-line scrollback of full cells and offers no
// way to reach the alternate one, so a full-screen program that scrolls
// (vim, less) would fill up to ~100 MiB of cells nobody can read, and pay an
// O(n) slice shift per line once full. The field is found by name and type
// and left alone if x/vt changed shape; the test for it fails then.
func noAltScrollback(e *vt.Emulator) bool {
	f := reflect.ValueOf(e).Elem().FieldByName("scrs")
	if !f.IsValid() || f.Type() != reflect.TypeFor[[2]vt.Screen]() {
		return false
	}
	scrs := (*[2]vt.Screen)(unsafe.Pointer(f.UnsafeAddr()))
	scrs[1].SetScrollback(nil)
	return true
}
