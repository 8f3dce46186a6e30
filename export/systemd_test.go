package export

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/kelpie-dev/kelpie/config"
)

func TestExecArgEscaping(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"$HOME", "$$HOME"},
		{"50%", "50%%"},
		{"a b", `"a b"`},
		{`say "hi"`, `"say \"hi\""`},
		{`it's`, `"it's"`},
		{`back\slash`, `"back\\slash"`},
		{"two\nlines", `"two\nlines"`},
		{"bell\a", `"bell\x07"`},
		{"", `""`},
		{";", `\;`},
		{"${X}%i", "$${X}%%i"},
	} {
		if got := execArg(c.in); got != c.want {
			t.Errorf("execArg(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got, want := quoteEnv("K=a \"b\" $c 5%\n"), `"K=a \"b\" $c 5%%\n"`; got != want {
		t.Errorf("quoteEnv = %s, want %s", got, want)
	}
}

// loadYAML writes body as a kelpie.yaml in a new directory and loads it.
func loadYAML(t *testing.T, body string) *config.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kelpie.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A value holding a newline cannot start a directive of its own: values
// are quoted with C escapes, and systemd-analyze reads the units cleanly.
func TestNoDirectiveInjection(t *testing.T) {
	f := loadYAML(t, `processes:
  evil:
    run: ["/bin/echo", "x\n[Service]\nExecStartPre=/bin/false"]
    env:
      X: "y\n[Service]\nExecStartPre=/bin/false\n"
`)
	res, err := Systemd(f, Options{Prefix: "inj"})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range res.Files {
		sections := 0
		for _, line := range strings.Split(string(file.Data), "\n") {
			if line == "[Service]" {
				sections++
			}
			if strings.HasPrefix(line, "ExecStartPre") || sections > 1 {
				t.Fatalf("%s: a value became a directive:\n%s", file.Name, file.Data)
			}
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	if err := Write(dir, res.Files, false); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", filepath.Join(dir, "inj-evil.service")).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// Every cron table's OnCalendar= values elapse at exactly the times cron
// (robfig/cron, which kelpie runs) gives, as systemd-analyze calendar
// computes them: day-of-month OR day-of-week included.
func TestOnCalendarMatchesCron(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: OnCalendar= is not checked against systemd")
	}
	base := time.Date(2026, 3, 7, 10, 17, 0, 0, time.UTC)
	const n = 8
	for _, expr := range []string{
		"*/15 9-17 * * 1-5", "30 2 1,15 * 0", "@weekly", "@monthly", "@yearly", "@hourly",
		"5 4 * * sun", "23 0-20/2 * * *", "0 0 31 * *", "0 12 * jan,jul *", "0 0 * * 6,0",
		"*/7 * * * *", "0 0 1-7 * 1", "0 0 29 2 *", "10-40/10 3 */5 2-11/3 *",
	} {
		sched, err := cron.ParseStandard("TZ=UTC " + expr)
		if err != nil {
			t.Fatal(err)
		}
		var want []time.Time
		for at := base; len(want) < n; {
			at = sched.Next(at)
			want = append(want, at)
		}
		s, err := readSchedule(sched, expr)
		if err != nil {
			t.Fatal(err)
		}
		values := onCalendar(s.spec, s.zone())
		var got []time.Time
		for _, v := range values {
			cmd := exec.Command(analyze, "calendar", "--iterations="+strconv.Itoa(n), "--base-time="+base.Format("2006-01-02 15:04:05")+" UTC", v)
			cmd.Env = append(os.Environ(), "TZ=UTC")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s -> %q: %v\n%s", expr, v, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				_, at, ok := strings.Cut(line, ": ")
				if !strings.Contains(line, "elapse:") && !strings.Contains(line, "Iter. #") || !ok {
					continue
				}
				tm, err := time.Parse("Mon 2006-01-02 15:04:05 MST", strings.TrimSpace(at))
				if err != nil {
					t.Fatalf("%s: reading %q: %v", expr, line, err)
				}
				got = append(got, tm.UTC())
			}
		}
		slices.SortFunc(got, func(a, b time.Time) int { return a.Compare(b) })
		got = slices.CompactFunc(got, func(a, b time.Time) bool { return a.Equal(b) })
		if len(got) > n {
			got = got[:n]
		}
		if !slices.EqualFunc(got, want, func(a, b time.Time) bool { return a.Equal(b) }) {
			t.Errorf("%s -> %q:\n got %v\nwant %v", expr, values, got, want)
		}
	}
}

// Write creates the directory, replaces its own files, and refuses to
// replace anyone else's unless forced, listing them all and writing
// nothing.
func TestWriteRefusesForeignFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "units")
	ours := []File{
		{Name: "a.service", Data: []byte(Marker + " test\n1\n")},
		{Name: "b.service", Data: []byte(Marker + " test\n2\n")},
	}
	if err := Write(dir, ours, false); err != nil {
		t.Fatal(err)
	}
	ours[0].Data = []byte(Marker + " test\nagain\n")
	if err := Write(dir, ours, false); err != nil {
		t.Fatalf("replacing kelpie's own file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.service")); string(b) != string(ours[0].Data) {
		t.Fatalf("a.service = %q", b)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.service"), []byte("[Service]\nExecStart=/bin/mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte(Marker+" but a link\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "a.service")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "a.service")); err != nil {
		t.Fatal(err)
	}
	err := Write(dir, ours, false)
	if err == nil || !strings.Contains(err.Error(), "b.service") || !strings.Contains(err.Error(), "a.service") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("foreign files: got %v, want an error listing a.service and b.service and naming --force", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.service")); !strings.Contains(string(b), "/bin/mine") {
		t.Fatal("a refused write still changed b.service")
	}
	if err := Write(dir, ours, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != Marker+" but a link\n" {
		t.Fatalf("the link's target was written through: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.service")); string(b) != string(ours[1].Data) {
		t.Fatalf("--force did not replace b.service: %q", b)
	}
	if err := Write(dir, []File{{Name: "../x", Data: nil}}, true); err == nil {
		t.Fatal("a name with a directory was accepted")
	}
}

func TestPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/My Shop_2/kelpie.yaml": "my-shop-2",
		"/srv/42/kelpie.yaml":        "kelpie",
		"/srv/9lives/Procfile":       "lives",
		"/srv/ünï/kelpie.yaml":       "n",
		"/srv/ü/kelpie.yaml":         "kelpie",
	} {
		if got := Prefix(in); got != want {
			t.Errorf("Prefix(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "Shop", "-x", "x-", "a_b", strings.Repeat("a", 31)} {
		if CheckPrefix(bad) == nil {
			t.Errorf("CheckPrefix(%q) accepted it", bad)
		}
	}
}

// A scheduled process with no restart: restarts never under kelpie (its
// next chance is its next time), and exports so: Restart=no with no start
// limit, and a CronJob whose pods' restartPolicy is Never. A restart: the
// config gives is kept.
func TestScheduledProcessExportsRestartNever(t *testing.T) {
	f := loadYAML(t, `processes:
  nightly:
    run: ["/bin/echo", "nightly"]
    schedule: "0 3 * * *"
  retried:
    run: ["/bin/echo", "retried"]
    schedule: "0 4 * * *"
    restart: on-failure
`)
	sd, err := Systemd(f, Options{Prefix: "s"})
	if err != nil {
		t.Fatal(err)
	}
	k8s, err := Kubernetes(f, Options{Prefix: "s"})
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]string{}
	for _, file := range append(sd.Files, k8s.Files...) {
		data[file.Name] = string(file.Data)
	}
	for _, c := range []struct{ file, want, not string }{
		{"s-nightly.service", "\nRestart=no\n", "StartLimitBurst"},
		{"s-retried.service", "\nRestart=on-failure\n", "Restart=no"},
		{"s-nightly.cronjob.yaml", "restartPolicy: Never\n", "restartPolicy: OnFailure"},
		{"s-retried.cronjob.yaml", "restartPolicy: OnFailure\n", "restartPolicy: Never"},
	} {
		got, ok := data[c.file]
		if !ok {
			t.Fatalf("no %s among %v", c.file, slices.Sorted(maps.Keys(data)))
		}
		if !strings.Contains(got, c.want) || strings.Contains(got, c.not) {
			t.Errorf("%s: want %q and no %q:\n%s", c.file, c.want, c.not, got)
		}
	}
}
