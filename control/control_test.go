package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPathPrecedenceAndDefault(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	t.Setenv(EnvSocket, "")
	def, err := Path("", "/home/me/shop/kelpie.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(def) != filepath.Join(rt, "kelpie") || !strings.HasPrefix(filepath.Base(def), "shop-") {
		t.Fatalf("default path %s", def)
	}
	fi, err := os.Stat(filepath.Dir(def))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir: %v %v", fi.Mode(), err)
	}
	other, _ := Path("", "/home/me/other/kelpie.yaml")
	if other == def {
		t.Fatal("two configs share a socket")
	}
	t.Setenv(EnvSocket, "/tmp/from-env.sock")
	if p, _ := Path("", "/x/kelpie.yaml"); p != "/tmp/from-env.sock" {
		t.Fatalf("env ignored: %s", p)
	}
	if p, _ := Path("/tmp/flag.sock", "/x/kelpie.yaml"); p != "/tmp/flag.sock" {
		t.Fatalf("flag ignored: %s", p)
	}
}

func TestListenIsExclusiveAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.sock")
	srv, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	_, err = Listen(path)
	if _, ok := err.(*AlreadyRunningError); !ok {
		t.Fatalf("second listen: %v", err)
	}
	srv.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket left after Close: %v", err)
	}
	if err := Do(path, Request{Cmd: "ps"}, func(Response) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "no kelpie is running") {
		t.Fatalf("dial a closed socket: %v", err)
	}
}
