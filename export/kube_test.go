package export

import (
	"strings"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/procs"
)

func TestHTTPGet(t *testing.T) {
	for _, c := range []struct {
		url  string
		want kHTTPGet
	}{
		{"http://127.0.0.1:8000/healthz?x=1", kHTTPGet{Path: "/healthz?x=1", Port: 8000, Scheme: "HTTP"}},
		{"https://localhost/", kHTTPGet{Path: "/", Port: 443, Scheme: "HTTPS"}},
		{"http://[::1]:9000", kHTTPGet{Path: "/", Port: 9000, Scheme: "HTTP"}},
		{"http://0.0.0.0/up", kHTTPGet{Path: "/up", Port: 80, Scheme: "HTTP"}},
		{"http://db.internal:8080/ping", kHTTPGet{Host: "db.internal", Path: "/ping", Port: 8080, Scheme: "HTTP"}},
	} {
		g, err := httpGet(c.url)
		if err != nil || *g != c.want {
			t.Errorf("httpGet(%q) = %+v, %v; want %+v", c.url, g, err, c.want)
		}
	}
}

// Times are rounded up to whole seconds with a note only when that changed
// them; a liveness probe's success threshold is made 1, with a note.
func TestProbeSeconds(t *testing.T) {
	k := &kube{stack: &stack{}}
	un := &unitNotes{unit: "web"}
	p := k.probe(un, "liveness", &procs.Probe{
		Kind: procs.ProbeTCP, Addr: "localhost:80", Period: 1500 * time.Millisecond,
		Timeout: 2 * time.Second, SuccessThreshold: 3, InitialDelay: 100 * time.Millisecond,
	}, true)
	if p.PeriodSeconds != 2 || p.TimeoutSeconds != 2 || p.InitialDelaySeconds != 1 || p.SuccessThreshold != 1 ||
		p.FailureThreshold != procs.DefaultProbeFailure || p.TCPSocket == nil || p.TCPSocket.Host != "" || p.TCPSocket.Port != 80 {
		t.Fatalf("probe %+v", p)
	}
	var text []string
	for _, n := range un.notes {
		text = append(text, n.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"liveness.period 1.5s: rounded up to 2s", "liveness.initial_delay 100ms: rounded up to 1s", "success_threshold 3"} {
		if !strings.Contains(all, want) {
			t.Errorf("no note %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "timeout") {
		t.Errorf("a whole-second timeout was noted as rounded:\n%s", all)
	}
}

// A cluster on port 0 or on a host name cannot be a socket unit: said, not
// guessed.
func TestListenStream(t *testing.T) {
	for listen, want := range map[string]string{
		":8000": "8000", "127.0.0.1:80": "127.0.0.1:80", "[::1]:80": "[::1]:80", "localhost:81": "127.0.0.1:81",
	} {
		got, err := listenStream(&procs.Cluster{Spec: procs.Spec{Name: "api"}, Listen: listen})
		if err != nil || got != want {
			t.Errorf("listenStream(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	for _, bad := range []string{":0", "api.example:80"} {
		if _, err := listenStream(&procs.Cluster{Spec: procs.Spec{Name: "api"}, Listen: bad}); err == nil {
			t.Errorf("listenStream(%q) accepted it", bad)
		}
	}
}

// An interval becomes a cron table only when one says exactly the same.
func TestCronTableOfIntervals(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "*/5 * * * *", time.Hour: "0 * * * *", 6 * time.Hour: "0 */6 * * *",
		24 * time.Hour: "0 0 * * *", 90 * time.Second: "", 7 * time.Minute: "", 30 * time.Second: "",
	} {
		got, ok := cronTable(schedule{every: d})
		if got != want || ok != (want != "") {
			t.Errorf("cronTable(@every %s) = %q, %v; want %q", d, got, ok, want)
		}
	}
}
