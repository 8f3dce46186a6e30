package export

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/procs"
)

// Systemd turns f into systemd units: PREFIX.target for the stack, one
// PREFIX-NAME.service per process (with a PREFIX-NAME.timer if it has a
// schedule), and per cluster a PREFIX-NAME.socket shared by the instances
// of the template PREFIX-NAME@.service, 0 .. N-1 as kelpie numbers them.
func Systemd(f *config.File, opt Options) (*Result, error) {
	st, err := newStack(f, opt)
	if err != nil {
		return nil, err
	}
	sd := &systemd{stack: st, oneshot: map[string]bool{}}
	sd.findOneshots()
	res := &Result{}
	var wants []string
	for i := range st.procs {
		s := &st.procs[i]
		files, pulled, notes, err := sd.process(s)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
		res.Notes = append(res.Notes, notes...)
		wants = append(wants, pulled...)
	}
	for i := range st.clusters {
		files, pulled, notes, err := sd.cluster(&st.clusters[i])
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
		res.Notes = append(res.Notes, notes...)
		wants = append(wants, pulled...)
	}
	res.Files = append(res.Files, sd.target(wants))
	res.Notes = append(st.notes, res.Notes...)
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Name < res.Files[j].Name })
	return res, nil
}

// systemd is one systemd export in progress.
type systemd struct {
	*stack
	// oneshot holds the processes another waits on to complete: they run
	// as Type=oneshot, so After= waits for their end.
	oneshot map[string]bool
}

// unitName is the unit NAME (without suffix) of a process or cluster.
func (sd *systemd) unitName(name string) string { return sd.prefix + "-" + name }

// findOneshots marks the processes some unit depends on completing.
func (sd *systemd) findOneshots() {
	for _, s := range sd.allSpecs() {
		for _, d := range s.DependsOn {
			if d.Condition == procs.CondCompleted || d.Condition == procs.CondCompletedSuccessfully {
				if sd.kinds[d.Name] == "process" && sd.run[d.Name].Restart != procs.RestartAlways {
					sd.oneshot[d.Name] = true
				}
			}
		}
	}
}

// allSpecs is every process's and cluster's spec.
func (sd *systemd) allSpecs() []*procs.Spec {
	var out []*procs.Spec
	for i := range sd.procs {
		out = append(out, &sd.procs[i])
	}
	for i := range sd.clusters {
		out = append(out, &sd.clusters[i].Spec)
	}
	return out
}

// unitFile collects a unit file's sections in order.
type unitFile struct {
	sections []string
	lines    map[string][]string
}

// add appends KEY=VALUE to section, opening the section on first use.
func (u *unitFile) add(section, key, value string) {
	if u.lines == nil {
		u.lines = map[string][]string{}
	}
	if _, ok := u.lines[section]; !ok {
		u.sections = append(u.sections, section)
	}
	u.lines[section] = append(u.lines[section], key+"="+value)
}

// render writes the unit after its header comment.
func (u *unitFile) render(head string) []byte {
	var b strings.Builder
	b.WriteString(head)
	for i, s := range u.sections {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + s + "]\n")
		for _, l := range u.lines[s] {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String())
}

// process writes a process's service (and timer): the files, the units the
// target pulls in, and the notes.
func (sd *systemd) process(s *procs.Spec) ([]File, []string, []Note, error) {
	name := sd.unitName(s.Name)
	un := &unitNotes{unit: s.Name}
	u := &unitFile{}
	u.add("Unit", "Description", s.Name+" (kelpie stack "+sd.prefix+")")
	u.add("Unit", "PartOf", sd.prefix+".target")
	var sched schedule
	scheduled := s.Schedule != nil
	if scheduled {
		var err error
		if sched, err = readSchedule(s.Schedule, s.ScheduleText); err != nil {
			return nil, nil, nil, fmt.Errorf("export: process %s: %w", s.Name, err)
		}
	}
	typ := "exec"
	switch {
	case scheduled:
		typ = "oneshot" // one run per time; the timer starts it
	case sd.oneshot[s.Name]:
		typ = "oneshot"
	}
	if err := sd.service(u, un, s, typ, ""); err != nil {
		return nil, nil, nil, err
	}
	if sd.oneshot[s.Name] && !scheduled {
		// Dependents wait for its end (After=), and it stays "active" after
		// a good run, as kelpie's completed state stays.
		u.add("Service", "RemainAfterExit", "yes")
	}
	if s.Disabled {
		un.add("disabled: written but not pulled in by %s.target (start it with systemctl start)", sd.prefix)
	}
	var files []File
	var wants []string
	if scheduled {
		t := &unitFile{}
		t.add("Unit", "Description", s.Name+" schedule "+specifiers(oneLine(s.ScheduleText))+" (kelpie stack "+sd.prefix+")")
		t.add("Unit", "PartOf", sd.prefix+".target")
		if sched.spec != nil {
			for _, c := range onCalendar(sched.spec, sched.zone()) {
				t.add("Timer", "OnCalendar", c)
			}
		} else {
			// As kelpie: the first run one interval after the start.
			t.add("Timer", "OnActiveSec", sdDuration(sched.every))
			t.add("Timer", "OnUnitActiveSec", sdDuration(sched.every))
		}
		// systemd's default accuracy is a minute; kelpie's is the second.
		t.add("Timer", "AccuracySec", "1s")
		t.add("Install", "WantedBy", sd.prefix+".target")
		files = append(files, File{Name: name + ".timer", Data: t.render(header("systemd", sd.path, un.notes))})
		if !s.Disabled {
			wants = append(wants, name+".timer")
		}
	} else {
		u.add("Install", "WantedBy", sd.prefix+".target")
		if !s.Disabled {
			wants = append(wants, name+".service")
		}
	}
	files = append(files, File{Name: name + ".service", Data: u.render(header("systemd", sd.path, un.notes)), Private: len(sd.origins[s.Name]) > 0})
	return files, wants, un.notes, nil
}

// cluster writes a cluster's socket and service template.
func (sd *systemd) cluster(c *procs.Cluster) ([]File, []string, []Note, error) {
	s := &c.Spec
	name := sd.unitName(s.Name)
	un := &unitNotes{unit: s.Name}
	listen, err := listenStream(c)
	if err != nil {
		return nil, nil, nil, err
	}
	mode := c.Mode
	if mode == "" {
		mode = procs.ModeFDs
	}
	if mode != procs.ModeFDs {
		un.add("mode %s: kelpie accepts and hands connections out; under systemd every instance gets the socket itself (LISTEN_FDS, as mode fds) and must accept on it", mode)
	}
	sock := &unitFile{}
	sock.add("Unit", "Description", s.Name+" socket (kelpie stack "+sd.prefix+")")
	sock.add("Unit", "PartOf", sd.prefix+".target")
	sock.add("Socket", "ListenStream", listen)
	sock.add("Socket", "Accept", "no")
	sock.add("Socket", "FileDescriptorName", s.Name)
	// The socket is bound before any instance runs, as kelpie binds it; a
	// connection that comes while none runs starts instance 0.
	sock.add("Socket", "Service", name+"@0.service")
	sock.add("Install", "WantedBy", sd.prefix+".target")

	u := &unitFile{}
	u.add("Unit", "Description", s.Name+" instance %i (kelpie stack "+sd.prefix+")")
	u.add("Unit", "PartOf", sd.prefix+".target")
	u.add("Unit", "Requires", name+".socket")
	u.add("Unit", "After", name+".socket")
	if err := sd.service(u, un, s, "exec", name+".socket"); err != nil {
		return nil, nil, nil, err
	}
	u.add("Install", "WantedBy", sd.prefix+".target")
	n := c.Count()
	wants := []string{name + ".socket"}
	for i := range n {
		wants = append(wants, name+"@"+strconv.Itoa(i)+".service")
	}
	head := header("systemd", sd.path, un.notes)
	return []File{
		{Name: name + ".socket", Data: sock.render(head)},
		{Name: name + "@.service", Data: u.render(head), Private: len(sd.origins[s.Name]) > 0},
	}, wants, un.notes, nil
}

// listenStream is a cluster's listen address as ListenStream= takes it:
// an IP address and port, or a port alone for every address.
func listenStream(c *procs.Cluster) (string, error) {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "", fmt.Errorf("export: cluster %s: listen %q: %w", c.Spec.Name, c.Listen, err)
	}
	if port == "0" {
		return "", fmt.Errorf("export: cluster %s listens on port 0 (any free port): systemd and Kubernetes need a fixed port; set one in listen:", c.Spec.Name)
	}
	switch {
	case host == "":
		return port, nil
	case host == "localhost":
		return "127.0.0.1:" + port, nil
	case net.ParseIP(host) == nil:
		return "", fmt.Errorf("export: cluster %s: listen host %q is a name; systemd binds addresses only (write an IP address)", c.Spec.Name, host)
	}
	return net.JoinHostPort(host, port), nil
}

// service fills a service's [Unit] ordering and [Service] section. socket,
// if set, is the socket unit whose descriptor it is given.
func (sd *systemd) service(u *unitFile, un *unitNotes, s *procs.Spec, typ, socket string) error {
	sd.dependencies(u, un, s)
	if s.Ready != nil && s.Ready.Kind == procs.ProbeNotify && typ == "exec" {
		typ = "notify"
	}
	run := sd.run[s.Name]
	pol := run.Restart
	if run.MaxRestarts < 0 {
		u.add("Unit", "StartLimitIntervalSec", "0")
	} else if pol != procs.RestartNever {
		// kelpie parks a unit after max_restarts runs in a row each shorter
		// than min_uptime: about that many starts in that many
		// (min_uptime + backoff).
		n := run.MaxRestarts
		per := run.MinUptime + run.BackoffInitial
		u.add("Unit", "StartLimitIntervalSec", sdDuration(time.Duration(n)*per))
		u.add("Unit", "StartLimitBurst", strconv.Itoa(n))
	}
	u.add("Service", "Type", typ)
	if typ == "notify" || s.Watchdog > 0 {
		// The shell or a child of the main process may be the one to send
		// READY=1 or WATCHDOG=1, as kelpie allows.
		u.add("Service", "NotifyAccess", "all")
	}
	if socket != "" {
		u.add("Service", "Sockets", socket)
	}
	if s.Dir != "" {
		if err := checkPath(s.Dir); err != nil {
			return fmt.Errorf("export: %s: cwd: %w", s.Name, err)
		}
		u.add("Service", "WorkingDirectory", specifiers(s.Dir))
	}
	for _, kv := range s.Env {
		u.add("Service", "Environment", quoteEnv(kv))
	}
	sd.secrets(un, "the unit file", "keep it out of version control, or move them to an EnvironmentFile= of mode 0600 (or LoadCredential=)")
	if socket != "" {
		// Written as is: %i is systemd's instance name, kelpie's index.
		u.add("Service", "Environment", `"`+procs.WorkerIDVar+`=%i"`)
	}
	start, err := execStart(s, un)
	if err != nil {
		return err
	}
	u.add("Service", "ExecStart", start)
	sd.readiness(u, un, s)
	switch pol {
	case procs.RestartNever:
		u.add("Service", "Restart", "no")
	default:
		u.add("Service", "Restart", string(pol))
		u.add("Service", "RestartSec", sdDuration(run.BackoffInitial))
	}
	if s.BackoffMax > 0 {
		un.add("backoff_max %s: systemd 252 restarts after a fixed RestartSec (RestartSteps= and RestartMaxDelaySec= need systemd 254)", s.BackoffMax)
	}
	u.add("Service", "KillMode", "control-group")
	u.add("Service", "KillSignal", signalName(run.StopSignal))
	u.add("Service", "TimeoutStopSec", sdDuration(run.StopTimeout))
	if s.MaxMemory > 0 {
		u.add("Service", "MemoryMax", strconv.FormatUint(s.MaxMemory, 10))
		un.add("max_memory: MemoryMax= is a hard limit (the kernel reclaims, then kills the unit), where kelpie restarts it gracefully")
	}
	if s.Watchdog > 0 {
		u.add("Service", "WatchdogSec", sdDuration(s.Watchdog))
	}
	sd.lost(un, s)
	return nil
}

// dependencies writes depends_on as ordering and requirement.
func (sd *systemd) dependencies(u *unitFile, un *unitNotes, s *procs.Spec) {
	for _, d := range s.DependsOn {
		var units []string
		switch sd.kinds[d.Name] {
		case "process":
			units = []string{sd.unitName(d.Name) + ".service"}
		case "cluster":
			for _, c := range sd.clusters {
				if c.Spec.Name == d.Name {
					for i := range c.Count() {
						units = append(units, sd.unitName(d.Name)+"@"+strconv.Itoa(i)+".service")
					}
				}
			}
			if d.Condition == procs.CondCompleted || d.Condition == procs.CondCompletedSuccessfully {
				un.add("depends_on %s (%s): a cluster serves until stopped; ordered after its start only", d.Name, d.Condition)
			}
		default:
			un.add("depends_on %s (%s): %s is a worker group, which only kelpie runs", d.Name, d.Condition, d.Name)
			continue
		}
		if sd.kinds[d.Name] == "process" && !sd.oneshot[d.Name] &&
			(d.Condition == procs.CondCompleted || d.Condition == procs.CondCompletedSuccessfully) {
			un.add("depends_on %s (%s): %s restarts always, so it never completes; ordered after its start only", d.Name, d.Condition, d.Name)
		}
		rel := "Requires"
		if d.Condition == procs.CondCompleted {
			rel = "Wants" // any end will do, a failed one too
		}
		for _, x := range units {
			u.add("Unit", "After", x)
			u.add("Unit", rel, x)
		}
	}
}

// readiness writes a ready probe systemd can run: notify is Type=notify
// (set by the caller); exec, http and tcp become an ExecStartPost loop that
// holds the unit in "activating" until the check passes (so After= waits
// for it), bounded by TimeoutStartSec.
func (sd *systemd) readiness(u *unitFile, un *unitNotes, s *procs.Spec) {
	if s.Liveness != nil {
		un.add("liveness (%s): systemd runs no periodic health check (a watchdog: with sd_notify is its way)", s.Liveness.Kind)
	}
	if s.Ready == nil {
		return
	}
	// The timings are procs' own, its defaults filled in.
	p, err := s.Ready.WithDefaults(false)
	if err != nil {
		un.add("ready (%s): %v; not exported", s.Ready.Kind, err)
		return
	}
	var check string
	timeout := p.Timeout
	switch p.Kind {
	case procs.ProbeNotify:
		return
	case procs.ProbeLog, procs.ProbeMessage:
		un.add("ready (%s): systemd cannot watch output or a message channel for readiness; the unit is ready once started", p.Kind)
		return
	case procs.ProbeExec:
		check = "timeout -k 1 " + seconds(timeout) + " " + shQuoteAll(p.Exec)
	case procs.ProbeHTTP:
		check = "curl -fsS -o /dev/null --max-time " + seconds(timeout) + " " + shQuote(p.URL)
		un.add("ready (http): checked with curl, which the server must have")
	case procs.ProbeTCP:
		host, port, _ := net.SplitHostPort(p.Addr)
		if host == "" {
			host = "127.0.0.1"
		}
		check = "timeout -k 1 " + seconds(timeout) + " bash -c " + shQuote(": </dev/tcp/"+host+"/"+port) + " 2>/dev/null"
		un.add("ready (tcp): checked with bash's /dev/tcp, which the server must have")
	default:
		un.add("ready (%s): not understood by this export", p.Kind)
		return
	}
	period := seconds(p.Period)
	var script string
	if n := p.SuccessThreshold; n > 1 {
		script = fmt.Sprintf("n=0; while [ $n -lt %d ]; do if %s; then n=$((n+1)); else n=0; fi; [ $n -ge %d ] || sleep %s; done", n, check, n, period)
	} else {
		script = fmt.Sprintf("until %s; do sleep %s; done", check, period)
	}
	if p.InitialDelay > 0 {
		script = "sleep " + seconds(p.InitialDelay) + "; " + script
	}
	u.add("Service", "ExecStartPost", "/bin/sh -c "+execArg(script))
	u.add("Service", "TimeoutStartSec", sdDuration(p.InitialDelay+procs.ReadyTimeout))
}

// lost notes what a process does under kelpie that systemd cannot do.
func (sd *systemd) lost(un *unitNotes, s *procs.Spec) {
	if s.IPC {
		un.add("ipc: the message channel (NODE_CHANNEL_FD) has no systemd counterpart; the process runs without one")
	}
	if s.Watch != nil {
		un.add("watch %s: systemd does not restart a unit when files change", strings.Join(s.Watch.Paths, " "))
	}
	if s.TTY {
		un.add("tty: systemd gives a service no pseudo-terminal; its output goes to the journal")
	}
}

// target writes the stack's target: starting it starts every unit kelpie
// would start, stopping it stops them all (PartOf=).
func (sd *systemd) target(wants []string) File {
	u := &unitFile{}
	u.add("Unit", "Description", "kelpie stack "+sd.prefix)
	for _, w := range wants {
		u.add("Unit", "Wants", w)
	}
	u.add("Install", "WantedBy", "default.target")
	return File{Name: sd.prefix + ".target", Data: u.render(header("systemd", sd.path, sd.notes))}
}

// execStart is the spec's command as ExecStart= takes it: a shell string
// under /bin/sh -c, argv word by word, a relative program path resolved
// against the working directory as kelpie resolves it, a bare program name
// resolved with the unit's PATH (see programPath).
func execStart(s *procs.Spec, un *unitNotes) (string, error) {
	if s.Shell != "" {
		shellProgram(s, un)
		return "/bin/sh -c " + execArg(s.Shell), nil
	}
	if len(s.Argv) == 0 {
		return "", fmt.Errorf("export: %s has no command", s.Name)
	}
	prog := s.Argv[0]
	if strings.Contains(prog, "/") && !filepath.IsAbs(prog) && s.Dir != "" {
		prog = filepath.Join(s.Dir, prog)
	}
	if !strings.Contains(prog, "/") {
		prog = programPath(s, un, prog)
	}
	if strings.ContainsAny(prog[:1], "@-:+!") {
		// systemd reads these as flags on the program (ignore failure, run
		// as root, ...): a program so named must be given by path.
		return "", fmt.Errorf("export: %s: program %q starts with %q, which systemd reads as a flag: give it as ./%s", s.Name, prog, prog[:1], prog)
	}
	words := []string{execArg(prog)}
	for _, a := range s.Argv[1:] {
		words = append(words, execArg(a))
	}
	return strings.Join(words, " "), nil
}

// systemdPath is the fixed search path systemd looks up a bare ExecStart=
// program in (and the PATH its services get unless Environment= sets one).
const systemdPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// unitPath is the PATH kelpie runs the unit with: its env's, else kelpie's
// own (which the unit inherits).
func unitPath(s *procs.Spec) string {
	path := os.Getenv("PATH")
	for _, kv := range s.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	return path
}

// programPath resolves a bare program name as kelpie would find it, in the
// unit's PATH on this machine: systemd looks in its own fixed search path
// instead, where it may find another program or none. Found, the absolute
// path is written (and said); not found, the name is kept and that said.
func programPath(s *procs.Spec, un *unitNotes, name string) string {
	if p := lookPath(name, unitPath(s)); p != "" {
		un.addKind(Info, "run: %s resolved to %s with the unit's PATH on this machine (systemd would search only %s); the server must have it there", name, p, systemdPath)
		return p
	}
	un.addKind(Info, "run: %s is not in the unit's PATH on this machine; systemd will look for it in %s only", name, systemdPath)
	return name
}

// shellProgram notes a shell command whose first word is a program kelpie
// finds in the unit's PATH outside systemd's search path: under systemd,
// /bin/sh looks in systemd's PATH, not the user's (set PATH in env:).
func shellProgram(s *procs.Spec, un *unitNotes) {
	word, _, _ := strings.Cut(strings.TrimSpace(s.Shell), " ")
	if word == "" || strings.ContainsAny(word, "/=$'\"`;&|<>(){}*?[~") {
		return
	}
	path := unitPath(s)
	p := lookPath(word, path)
	if p == "" || lookPath(word, systemdPath) == p || path == systemdPath {
		return
	}
	un.addKind(Info, "run: %s is %s with the unit's PATH on this machine, but /bin/sh under systemd searches %s (set PATH in env: to keep kelpie's)", word, p, systemdPath)
}

// lookPath finds an executable regular file named name in the absolute
// directories of path ("" if none): a relative entry means nothing to a
// service.
func lookPath(name, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// specifiers escapes systemd's % specifiers.
func specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// execArg writes one word of a command line so that systemd passes it
// through unchanged: $ and % doubled (systemd expands $VAR and %x even in
// quotes), and the word double-quoted with C escapes if it has anything
// the splitter reads (space, quotes, backslash, control characters).
func execArg(s string) string {
	s = strings.ReplaceAll(specifiers(s), "$", "$$")
	if s == ";" {
		return `\;` // a lone ; separates commands
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '"' || r == '\'' || r == '\\' || unicode.IsControl(r) || r == utf8.RuneError
	}) {
		return s
	}
	return cQuote(s)
}

// quoteEnv writes one KEY=VALUE for Environment=: quoted, with C escapes
// and % doubled (systemd expands specifiers there, but not $).
func quoteEnv(kv string) string { return cQuote(specifiers(kv)) }

// cQuote double-quotes s with the C escapes systemd's unquoting reads, so
// no byte of it can end the line or the word.
func cQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
}

// checkPath refuses a directory systemd could not be told: its path
// settings take no quotes or escapes.
func checkPath(p string) error {
	if strings.ContainsFunc(p, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) ||
		strings.TrimSpace(p) != p {
		return fmt.Errorf("%q has characters a unit file cannot hold", p)
	}
	return nil
}

// sdDuration writes d as a systemd time span: whole seconds, else
// milliseconds, else microseconds (systemd's resolution).
func sdDuration(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return strconv.FormatInt(int64((d+time.Microsecond-1)/time.Microsecond), 10) + "us"
}

// shQuote quotes s for the POSIX shell, leaving a plain word bare so that
// the unit files stay readable (the CLI's shellQuote quotes always).
func shQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:=@,+%", r)))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shQuoteAll quotes each word of argv for the shell.
func shQuoteAll(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = shQuote(a)
	}
	return strings.Join(out, " ")
}
