package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

func TestProbeConfig(t *testing.T) {
	dir := t.TempDir()
	src := `processes:
  db:
    run: ./db
    ready:
      log: "ready to accept connections"
      initial_delay: 0s
      period: 1s
      timeout: 2s
      success_threshold: 2
      failure_threshold: 5
  web:
    run: ["./web"]
    ready: {http: "http://127.0.0.1:8080/ready"}
    liveness: {exec: "curl -f localhost:8080", period: 5s}
  cache:
    run: ./cache
    ready: {tcp: "127.0.0.1:6379"}
    liveness: {exec: [./check, --quick]}
  m:
    run: ./m
    ready: {message: true}
  d:
    run: ./d
    ready: {notify: true}
    watchdog: 10s
`
	f, err := Parse(filepath.Join(dir, "kelpie.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]procs.Spec{}
	for _, s := range f.Specs {
		by[s.Name] = s
	}
	db := by["db"].Ready
	if db == nil || db.Kind != procs.ProbeLog || db.Log != "ready to accept connections" || db.Period != time.Second ||
		db.Timeout != 2*time.Second || db.SuccessThreshold != 2 || db.FailureThreshold != 5 || db.InitialDelay != 0 {
		t.Errorf("db ready: %+v", db)
	}
	if p := by["web"].Ready; p == nil || p.Kind != procs.ProbeHTTP || p.URL != "http://127.0.0.1:8080/ready" {
		t.Errorf("web ready: %+v", p)
	}
	if p := by["web"].Liveness; p == nil || !slices.Equal(p.Exec, []string{"/bin/sh", "-c", "curl -f localhost:8080"}) || p.Period != 5*time.Second {
		t.Errorf("web liveness: %+v", p)
	}
	if p := by["cache"].Liveness; p == nil || !slices.Equal(p.Exec, []string{"./check", "--quick"}) {
		t.Errorf("cache liveness: %+v", p)
	}
	if p := by["cache"].Ready; p == nil || p.Kind != procs.ProbeTCP || p.Addr != "127.0.0.1:6379" {
		t.Errorf("cache ready: %+v", p)
	}
	if m := by["m"]; m.Ready == nil || m.Ready.Kind != procs.ProbeMessage || !m.IPC {
		t.Errorf("a message probe gives the unit its channel: %+v", m)
	}
	if d := by["d"]; d.Ready == nil || d.Ready.Kind != procs.ProbeNotify || d.Watchdog != 10*time.Second {
		t.Errorf("d: %+v", d)
	}
}

func TestProbeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		src       string
		line, col int
		want      string
	}{
		{"two kinds", api("    run: x", "    ready: {log: a, tcp: 'h:1'}"), 4, 21, "ready: has both log and tcp"},
		{"no kind", api("    run: x", "    ready: {period: 1s}"), 4, 12, "ready: say how to check: one of log, http"},
		{"bad regexp", api("    run: x", "    ready: {log: '(a'}"), 4, 18, "ready.log: error parsing regexp"},
		{"bad url", api("    run: x", "    ready: {http: 'ftp://x'}"), 4, 19, `ready.http: want an http:// or https:// URL, got "ftp://x"`},
		{"bad addr", api("    run: x", "    ready: {tcp: localhost}"), 4, 18, `ready.tcp: want host:port, got "localhost"`},
		{"liveness notify", api("    run: x", "    liveness: {notify: true}"), 4, 16, "liveness: a notify probe can only say a unit is ready"},
		{"threshold zero", api("    run: x", "    ready: {tcp: 'h:1', failure_threshold: 0}"), 4, 44, "ready.failure_threshold: want a whole number from 1 to 1000"},
		{"bad period", api("    run: x", "    ready: {tcp: 'h:1', period: soon}"), 4, 33, `ready.period: "soon" is not a duration`},
		{"unknown key", api("    run: x", "    ready: {tcp: 'h:1', perod: 1s}"), 4, 25, `unknown key "perod" in ready (did you mean "period"?)`},
		{"empty exec", api("    run: x", "    liveness: {exec: ''}"), 4, 22, "liveness.exec: want a command"},
		{"not mapping", api("    run: x", "    ready: yes"), 4, 12, "ready: want a mapping"},
		{"bad watchdog", api("    run: x", "    watchdog: 0s"), 4, 15, "watchdog: must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parseErrors(t, dir, tt.src)
			e := es[0]
			if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("got %d:%d %q\nwant %d:%d containing %q", e.Line, e.Col, e.Msg, tt.line, tt.col, tt.want)
			}
		})
	}
}
