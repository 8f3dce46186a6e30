package vterm

import (
	"reflect"
	"unsafe"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
)

// x/vt v0.1.0 offers no way to change two things kelpie must: both reach
// unexported fields, found by name and type and left alone if x/vt changed
// shape (then the fix is not applied, and TestTermScrollback or
// TestTermMemoryFullScrollback fails and says so).

// noAltScrollback turns off the alternate screen's scrollback. x/vt gives
// both screens a 10,000-line scrollback of full cells, and Emulator only
// reaches the main one; a full-screen program that scrolls (vim, less) would
// fill up to ~100 MiB of cells nobody can read, and pay an O(n) slice shift
// per line once full.
func noAltScrollback(e *vt.Emulator) bool {
	f := reflect.ValueOf(e).Elem().FieldByName("scrs")
	if !f.IsValid() || f.Type() != reflect.TypeFor[[2]vt.Screen]() {
		return false
	}
	scrs := (*[2]vt.Screen)(unsafe.Pointer(f.UnsafeAddr()))
	scrs[1].SetScrollback(nil)
	return true
}

// parserData is the payload buffer kept for OSC, DCS, APC, PM and SOS
// strings. x/vt allocates 4 MiB per emulator for it; a title or colour
// query needs a few bytes, and everything big (images, clipboard) is dropped
// anyway, so a longer string is cut, which is harmless.
const parserData = 64 << 10

// shrinkParser gives the emulator's parser a parserData payload buffer.
func shrinkParser(e *vt.Emulator) bool {
	f := reflect.ValueOf(e).Elem().FieldByName("parser")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*ansi.Parser]() {
		return false
	}
	p := *(**ansi.Parser)(unsafe.Pointer(f.UnsafeAddr()))
	if p == nil {
		return false
	}
	p.SetDataSize(parserData)
	return true
}
