package main

import (
	"slices"
	"testing"
)

func TestParseHostAndTheRemoteCommand(t *testing.T) {
	t.Setenv(envRemoteCommand, "")
	t.Setenv(envSSHCommand, "")
	for _, c := range []struct {
		in, cmd string
		args    []string
	}{
		{"ssh://web1", "kelpie dial-stdio", []string{"--", "web1"}},
		{"ssh://deploy@web1:2222/srv/it's/kelpie.yaml", `kelpie dial-stdio --file '/srv/it'\''s/kelpie.yaml'`, []string{"-p", "2222", "-l", "deploy", "--", "web1"}},
		{"ssh://web1/~/app/kelpie.yaml", "kelpie dial-stdio --file ~/'app/kelpie.yaml'", []string{"--", "web1"}},
		{"ssh://[::1]:22", "kelpie dial-stdio", []string{"-p", "22", "--", "::1"}},
	} {
		h, err := parseHost(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		cl := &cli{}
		cmd := cl.remoteCommand(h.path)
		if cmd != c.cmd {
			t.Errorf("%s: remote command %q, want %q", c.in, cmd, c.cmd)
		}
		args, err := cl.sshArgs(h, cmd)
		if err != nil {
			t.Fatal(err)
		}
		want := append(append([]string{"ssh", "-T", "-o", "ServerAliveInterval=15"}, c.args...), cmd)
		if !slices.Equal(args, want) {
			t.Errorf("%s: ssh %q, want %q", c.in, args, want)
		}
	}
	for _, bad := range []string{"web1", "http://web1", "ssh://", "ssh://-oProxyCommand=x", "ssh://u:pw@web1", "ssh://web1?x=1"} {
		if _, err := parseHost(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
