package export

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/procs"
)

// The labels every object carries; the first two select a workload's pods.
const (
	labelName    = "app.kubernetes.io/name"
	labelPartOf  = "app.kubernetes.io/part-of"
	labelManaged = "app.kubernetes.io/managed-by"
)

// Kubernetes turns f into Kubernetes objects, one file each: a Deployment
// per process and per cluster (replicas = instances), a CronJob per
// scheduled process, and a Service per cluster (its listen port). Names
// are PREFIX-NAME made DNS-1123 labels; two units that would get one name
// are refused.
func Kubernetes(f *config.File, opt Options) (*Result, error) {
	st, err := newStack(f, opt)
	if err != nil {
		return nil, err
	}
	image := opt.Image
	if image == "" {
		image = DefaultImage
	}
	k := &kube{stack: st, image: image, names: map[string]string{}}
	st.note("", "cwd: workingDir is each unit's directory on this machine (under %s); the image must have the programs there", filepath.Dir(st.path))
	res := &Result{}
	for i := range st.procs {
		files, notes, err := k.process(&st.procs[i])
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
		res.Notes = append(res.Notes, notes...)
	}
	for i := range st.clusters {
		files, notes, err := k.cluster(&st.clusters[i])
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
		res.Notes = append(res.Notes, notes...)
	}
	res.Notes = append(st.notes, res.Notes...)
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Name < res.Files[j].Name })
	return res, nil
}

// kube is one Kubernetes export in progress.
type kube struct {
	*stack
	image string
	names map[string]string // object name -> the unit that has it
}

// objectName is a unit's object name: PREFIX-NAME lower-cased with '_'
// and '.' as '-', a DNS-1035 label (the strictest of the names used: a
// Service's). A name another unit already has, or one too long, is an
// error naming both.
func (k *kube) objectName(unit string) (string, error) {
	n := strings.ToLower(unit)
	n = strings.Map(func(r rune) rune {
		if r == '_' || r == '.' {
			return '-'
		}
		return r
	}, n)
	n = k.prefix + "-" + strings.TrimRight(n, "-")
	switch {
	case len(n) > 63:
		return "", fmt.Errorf("export: %s: the Kubernetes name %q is longer than 63 characters (use a shorter --prefix or name)", unit, n)
	case !prefixRE.MatchString(n):
		return "", fmt.Errorf("export: %s: %q is not a valid Kubernetes name", unit, n)
	}
	if other, dup := k.names[n]; dup {
		return "", fmt.Errorf("export: %s and %s would both be named %q in Kubernetes (names there are lower-case, with '-' for '_' and '.'): rename one", other, unit, n)
	}
	k.names[n] = unit
	return n, nil
}

// The objects, as far as kelpie fills them in. Field names and order follow
// the API (apps/v1, batch/v1, core/v1); the nested test module decodes the
// output strictly into the official types.
type (
	kMeta struct {
		Name   string            `yaml:"name,omitempty"`
		Labels map[string]string `yaml:"labels,omitempty"`
	}
	kDeployment struct {
		APIVersion string      `yaml:"apiVersion"`
		Kind       string      `yaml:"kind"`
		Metadata   kMeta       `yaml:"metadata"`
		Spec       kDeploySpec `yaml:"spec"`
	}
	kDeploySpec struct {
		Replicas int          `yaml:"replicas"`
		Selector kSelector    `yaml:"selector"`
		Template kPodTemplate `yaml:"template"`
	}
	kSelector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	kPodTemplate struct {
		Metadata kMeta    `yaml:"metadata"`
		Spec     kPodSpec `yaml:"spec"`
	}
	kPodSpec struct {
		RestartPolicy                 string       `yaml:"restartPolicy,omitempty"`
		TerminationGracePeriodSeconds int64        `yaml:"terminationGracePeriodSeconds"`
		Containers                    []kContainer `yaml:"containers"`
	}
	kContainer struct {
		Name           string      `yaml:"name"`
		Image          string      `yaml:"image"`
		Command        []string    `yaml:"command,omitempty"`
		Args           []string    `yaml:"args,omitempty"`
		WorkingDir     string      `yaml:"workingDir,omitempty"`
		Env            []kEnv      `yaml:"env,omitempty"`
		Ports          []kPort     `yaml:"ports,omitempty"`
		Resources      *kResources `yaml:"resources,omitempty"`
		ReadinessProbe *kProbe     `yaml:"readinessProbe,omitempty"`
		LivenessProbe  *kProbe     `yaml:"livenessProbe,omitempty"`
		Stdin          bool        `yaml:"stdin,omitempty"`
		TTY            bool        `yaml:"tty,omitempty"`
	}
	kEnv struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	}
	kPort struct {
		Name          string `yaml:"name,omitempty"`
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string `yaml:"protocol,omitempty"`
	}
	kResources struct {
		Limits map[string]string `yaml:"limits"`
	}
	kProbe struct {
		Exec                *kExec    `yaml:"exec,omitempty"`
		HTTPGet             *kHTTPGet `yaml:"httpGet,omitempty"`
		TCPSocket           *kTCP     `yaml:"tcpSocket,omitempty"`
		InitialDelaySeconds int64     `yaml:"initialDelaySeconds,omitempty"`
		TimeoutSeconds      int64     `yaml:"timeoutSeconds"`
		PeriodSeconds       int64     `yaml:"periodSeconds"`
		SuccessThreshold    int       `yaml:"successThreshold"`
		FailureThreshold    int       `yaml:"failureThreshold"`
	}
	kExec struct {
		Command []string `yaml:"command"`
	}
	kHTTPGet struct {
		Host   string `yaml:"host,omitempty"`
		Path   string `yaml:"path"`
		Port   int    `yaml:"port"`
		Scheme string `yaml:"scheme"`
	}
	kTCP struct {
		Host string `yaml:"host,omitempty"`
		Port int    `yaml:"port"`
	}
	kService struct {
		APIVersion string       `yaml:"apiVersion"`
		Kind       string       `yaml:"kind"`
		Metadata   kMeta        `yaml:"metadata"`
		Spec       kServiceSpec `yaml:"spec"`
	}
	kServiceSpec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []kServicePort    `yaml:"ports"`
	}
	kServicePort struct {
		Name       string `yaml:"name"`
		Protocol   string `yaml:"protocol"`
		Port       int    `yaml:"port"`
		TargetPort int    `yaml:"targetPort"`
	}
	kCronJob struct {
		APIVersion string       `yaml:"apiVersion"`
		Kind       string       `yaml:"kind"`
		Metadata   kMeta        `yaml:"metadata"`
		Spec       kCronJobSpec `yaml:"spec"`
	}
	kCronJobSpec struct {
		Schedule          string       `yaml:"schedule"`
		TimeZone          string       `yaml:"timeZone,omitempty"`
		ConcurrencyPolicy string       `yaml:"concurrencyPolicy"`
		Suspend           bool         `yaml:"suspend,omitempty"`
		JobTemplate       kJobTemplate `yaml:"jobTemplate"`
	}
	kJobTemplate struct {
		Spec kJobSpec `yaml:"spec"`
	}
	kJobSpec struct {
		Template kPodTemplate `yaml:"template"`
	}
)

// labels are a workload's selector labels; with managed, its objects'.
func (k *kube) labels(name string, managed bool) map[string]string {
	l := map[string]string{labelName: name, labelPartOf: k.prefix}
	if managed {
		l[labelManaged] = "kelpie"
	}
	return l
}

// process writes a process's Deployment, or its CronJob if scheduled.
func (k *kube) process(s *procs.Spec) ([]File, []Note, error) {
	name, err := k.objectName(s.Name)
	if err != nil {
		return nil, nil, err
	}
	un := &unitNotes{unit: s.Name}
	c, grace := k.container(un, s, name)
	k.dependencies(un, s)
	if s.Schedule != nil {
		return k.cronJob(un, s, name, c, grace)
	}
	if pol := k.run[s.Name].Restart; pol != procs.RestartAlways {
		un.add("restart %s: a Deployment's pods are always restarted, whatever their exit status", pol)
	}
	replicas := 1
	if s.Disabled {
		replicas = 0
		un.add("disabled: written with replicas: 0 (scale it up to start it)")
	}
	d := k.deployment(name, replicas, c, grace)
	data, err := k.render(un.notes, d)
	if err != nil {
		return nil, nil, err
	}
	return []File{{Name: name + ".deployment.yaml", Data: data, Private: len(k.origins[s.Name]) > 0}}, un.notes, nil
}

// cluster writes a cluster's Deployment and Service.
func (k *kube) cluster(cl *procs.Cluster) ([]File, []Note, error) {
	s := &cl.Spec
	name, err := k.objectName(s.Name)
	if err != nil {
		return nil, nil, err
	}
	un := &unitNotes{unit: s.Name}
	_, portText, err := net.SplitHostPort(cl.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("export: cluster %s: listen %q: %w", s.Name, cl.Listen, err)
	}
	port, _ := strconv.Atoi(portText)
	if port == 0 {
		return nil, nil, fmt.Errorf("export: cluster %s listens on port 0 (any free port): systemd and Kubernetes need a fixed port; set one in listen:", s.Name)
	}
	c, grace := k.container(un, s, name)
	c.Ports = []kPort{{Name: "listen", ContainerPort: port, Protocol: "TCP"}}
	un.add("listen %s: no socket is handed over (LISTEN_FDS is absent); each pod must bind port %d itself, on all addresses", cl.Listen, port)
	if mode := cl.Mode; mode != "" && mode != procs.ModeFDs {
		un.add("mode %s: kelpie accepts and hands connections out; here the Service balances them and every pod accepts on its own port", mode)
	}
	un.add("%s: not set (a Deployment's pods have no index; a StatefulSet's do)", procs.WorkerIDVar)
	if pol := k.run[s.Name].Restart; pol != procs.RestartAlways {
		un.add("restart %s: a Deployment's pods are always restarted, whatever their exit status", pol)
	}
	k.dependencies(un, s)
	d := k.deployment(name, cl.Count(), c, grace)
	svc := kService{
		APIVersion: "v1", Kind: "Service",
		Metadata: kMeta{Name: name, Labels: k.labels(name, true)},
		Spec: kServiceSpec{
			Selector: k.labels(name, false),
			Ports:    []kServicePort{{Name: "listen", Protocol: "TCP", Port: port, TargetPort: port}},
		},
	}
	dd, err := k.render(un.notes, d)
	if err != nil {
		return nil, nil, err
	}
	sd, err := k.render(un.notes, svc)
	if err != nil {
		return nil, nil, err
	}
	return []File{{Name: name + ".deployment.yaml", Data: dd, Private: len(k.origins[s.Name]) > 0}, {Name: name + ".service.yaml", Data: sd}}, un.notes, nil
}

// deployment wraps a container in a Deployment.
func (k *kube) deployment(name string, replicas int, c kContainer, grace int64) kDeployment {
	return kDeployment{
		APIVersion: "apps/v1", Kind: "Deployment",
		Metadata: kMeta{Name: name, Labels: k.labels(name, true)},
		Spec: kDeploySpec{
			Replicas: replicas,
			Selector: kSelector{MatchLabels: k.labels(name, false)},
			Template: kPodTemplate{
				Metadata: kMeta{Labels: k.labels(name, true)},
				Spec:     kPodSpec{TerminationGracePeriodSeconds: grace, Containers: []kContainer{c}},
			},
		},
	}
}

// cronJob writes a scheduled process as a CronJob: one Job per time, none
// started while the last still runs (kelpie skips a time it is busy at).
func (k *kube) cronJob(un *unitNotes, s *procs.Spec, name string, c kContainer, grace int64) ([]File, []Note, error) {
	sched, err := readSchedule(s.Schedule, s.ScheduleText)
	if err != nil {
		return nil, nil, fmt.Errorf("export: process %s: %w", s.Name, err)
	}
	table, ok := cronTable(sched)
	if !ok {
		un.add("schedule %s: a CronJob takes cron fields, which cannot say this interval; not exported", s.ScheduleText)
		// No file: no value written in clear to speak of.
		un.notes = slices.DeleteFunc(un.notes, func(n Note) bool { return n.Kind == Secret })
		return nil, un.notes, nil
	}
	if sched.spec == nil {
		un.add("schedule %s: written as %q, which runs at fixed clock times rather than counting from the start", s.ScheduleText, table)
	}
	zone := sched.zone()
	if zone == "" {
		un.add("schedule: the times are the cluster's time zone (often UTC), not this machine's; set TZ= in the schedule to pin one")
	}
	pol := "OnFailure"
	if k.run[s.Name].Restart == procs.RestartNever {
		pol = "Never"
	}
	cj := kCronJob{
		APIVersion: "batch/v1", Kind: "CronJob",
		Metadata: kMeta{Name: name, Labels: k.labels(name, true)},
		Spec: kCronJobSpec{
			Schedule: table, TimeZone: zone, ConcurrencyPolicy: "Forbid", Suspend: s.Disabled,
			JobTemplate: kJobTemplate{Spec: kJobSpec{Template: kPodTemplate{
				Metadata: kMeta{Labels: k.labels(name, true)},
				Spec:     kPodSpec{RestartPolicy: pol, TerminationGracePeriodSeconds: grace, Containers: []kContainer{c}},
			}}},
		},
	}
	if s.Disabled {
		un.add("disabled: written with suspend: true")
	}
	data, err := k.render(un.notes, cj)
	if err != nil {
		return nil, nil, err
	}
	return []File{{Name: name + ".cronjob.yaml", Data: data, Private: len(k.origins[s.Name]) > 0}}, un.notes, nil
}

// container is a unit's container and its termination grace period.
func (k *kube) container(un *unitNotes, s *procs.Spec, name string) (kContainer, int64) {
	c := kContainer{Name: name, Image: k.image, WorkingDir: s.Dir, TTY: s.TTY, Stdin: s.TTY}
	if s.Shell != "" {
		c.Command, c.Args = []string{"/bin/sh", "-c"}, []string{kubeText(s.Shell)}
	} else if len(s.Argv) > 0 {
		c.Command = []string{kubeText(s.Argv[0])}
		for _, a := range s.Argv[1:] {
			c.Args = append(c.Args, kubeText(a))
		}
	}
	for _, kv := range s.Env {
		key, v, _ := strings.Cut(kv, "=")
		c.Env = append(c.Env, kEnv{Name: key, Value: kubeText(v)})
	}
	k.secrets(un, "the workload's file", "they belong in a Secret (kubectl create secret generic NAME --from-env-file=FILE), referenced with envFrom: or valueFrom.secretKeyRef, not in a manifest")
	if s.MaxMemory > 0 {
		c.Resources = &kResources{Limits: map[string]string{"memory": quantity(s.MaxMemory)}}
		un.add("max_memory: resources.limits.memory is a hard limit (the container is OOM-killed), where kelpie restarts it gracefully")
	}
	c.ReadinessProbe = k.probe(un, "ready", s.Ready, false)
	c.LivenessProbe = k.probe(un, "liveness", s.Liveness, true)
	run := k.run[s.Name]
	grace, changed := wholeSeconds(run.StopTimeout)
	if changed {
		un.add("stop_timeout %s: rounded up to %ds (Kubernetes takes whole seconds)", s.StopTimeout, grace)
	}
	if run.StopSignal != syscall.SIGTERM {
		un.add("stop_signal %s: Kubernetes stops a container with SIGTERM (or the image's STOPSIGNAL)", signalName(run.StopSignal))
	}
	if s.IPC {
		un.add("ipc: the message channel (NODE_CHANNEL_FD) has no Kubernetes counterpart; the process runs without one")
	}
	if s.Watch != nil {
		un.add("watch %s: Kubernetes does not restart a container when files change", strings.Join(s.Watch.Paths, " "))
	}
	if s.Watchdog > 0 {
		un.add("watchdog %s: there is no sd_notify socket in a pod (use a liveness probe)", s.Watchdog)
	}
	if s.BackoffInitial > 0 || s.BackoffMax > 0 || s.MinUptime > 0 || s.MaxRestarts != 0 {
		un.add("backoff, backoff_max, min_uptime, max_restarts: Kubernetes applies its own crash-loop back-off")
	}
	return c, grace
}

// dependencies notes depends_on, which Kubernetes has no way to say.
func (k *kube) dependencies(un *unitNotes, s *procs.Spec) {
	for _, d := range s.DependsOn {
		un.add("depends_on %s (%s): Kubernetes starts every workload at once, in no order; the program must wait (or retry) itself", d.Name, d.Condition)
	}
}

// probe maps a kelpie probe to a Kubernetes one: one handler, whole
// seconds (rounded up, with a note when that changed a value).
func (k *kube) probe(un *unitNotes, what string, p *procs.Probe, liveness bool) *kProbe {
	if p == nil {
		return nil
	}
	kp := &kProbe{}
	switch p.Kind {
	case procs.ProbeExec:
		// Probe commands are exec'd as written: no $(VAR) expansion.
		kp.Exec = &kExec{Command: append([]string(nil), p.Exec...)}
	case procs.ProbeHTTP:
		g, err := httpGet(p.URL)
		if err != nil {
			un.add("%s (http %s): %v; not exported", what, p.URL, err)
			return nil
		}
		kp.HTTPGet = g
		if u, err := url.Parse(p.URL); err == nil {
			loopbackNote(un, what, u.Hostname())
		}
	case procs.ProbeTCP:
		host, port, err := net.SplitHostPort(p.Addr)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 1 || n > 65535 {
			un.add("%s (tcp %s): not a numeric port; not exported", what, p.Addr)
			return nil
		}
		kp.TCPSocket = &kTCP{Host: probeHost(host), Port: n}
		loopbackNote(un, what, host)
	default:
		un.add("%s (%s): Kubernetes probes are exec, httpGet and tcpSocket; not exported", what, p.Kind)
		return nil
	}
	// The timings and thresholds are procs' own, its defaults filled in.
	d, err := p.WithDefaults(liveness)
	if err != nil {
		un.add("%s (%s): %v; not exported", what, p.Kind, err)
		return nil
	}
	p = d
	secs := func(key string, d time.Duration) int64 {
		n, changed := wholeSeconds(d)
		if changed {
			un.add("%s.%s %s: rounded up to %ds (Kubernetes takes whole seconds)", what, key, d, n)
		}
		return n
	}
	if p.InitialDelay > 0 {
		kp.InitialDelaySeconds = secs("initial_delay", p.InitialDelay)
	}
	kp.PeriodSeconds = secs("period", p.Period)
	kp.TimeoutSeconds = secs("timeout", p.Timeout)
	kp.SuccessThreshold = p.SuccessThreshold
	kp.FailureThreshold = p.FailureThreshold
	if liveness && kp.SuccessThreshold != 1 {
		un.add("%s.success_threshold %d: Kubernetes takes only 1 for a liveness probe", what, kp.SuccessThreshold)
		kp.SuccessThreshold = 1
	}
	return kp
}

// httpGet splits a probe URL into an httpGet handler. A loopback host is
// left out: the kubelet probes from the node, and without a host it asks
// the pod's own address, which is what the process meant.
func httpGet(raw string) (*kHTTPGet, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	g := &kHTTPGet{Host: probeHost(u.Hostname()), Path: u.RequestURI(), Scheme: strings.ToUpper(u.Scheme)}
	switch p := u.Port(); {
	case p != "":
		if g.Port, err = strconv.Atoi(p); err != nil || g.Port < 1 || g.Port > 65535 {
			return nil, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
	case u.Scheme == "https":
		g.Port = 443
	default:
		g.Port = 80
	}
	return g, nil
}

// probeHost is a probe's host as Kubernetes should see it: empty (the
// pod's address) for a loopback or unspecified one.
func probeHost(h string) string {
	if h == "" || h == "localhost" {
		return ""
	}
	if ip := net.ParseIP(h); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return ""
	}
	return h
}

// loopbackNote says that a probe's loopback host was dropped: the kubelet
// probes the pod's IP, which a server bound to loopback only does not
// answer on.
func loopbackNote(un *unitNotes, what, host string) {
	if host == "" || probeHost(host) != "" {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return
	}
	un.addKind(Info, "%s: the probe goes to the pod's IP, not %s: a server bound to loopback only fails it (bind 0.0.0.0 in the container)", what, host)
}

// kubeText escapes Kubernetes' $(VAR) expansion in command, args and env
// values: $$ is read as a literal $, so doubling every $ keeps the text as
// written.
func kubeText(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// quantity writes a byte count as a Kubernetes quantity, in Mi or Gi when
// exact.
func quantity(n uint64) string {
	switch {
	case n%(1<<30) == 0:
		return strconv.FormatUint(n>>30, 10) + "Gi"
	case n%(1<<20) == 0:
		return strconv.FormatUint(n>>20, 10) + "Mi"
	case n%(1<<10) == 0:
		return strconv.FormatUint(n>>10, 10) + "Ki"
	}
	return strconv.FormatUint(n, 10)
}

// render writes one object as YAML after the header comment.
func (k *kube) render(notes []Note, obj any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header("kubernetes", k.path, notes))
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(obj); err != nil {
		return nil, fmt.Errorf("export: writing YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export: writing YAML: %w", err)
	}
	return b.Bytes(), nil
}
