// Package k8stest checks `kelpie export kubernetes` against the official
// Kubernetes API types. It is a module of its own so that kelpie's go.mod
// does not grow by the twenty modules k8s.io/api brings.
package k8stest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kelpie-dev/kelpie/config"
	"github.com/kelpie-dev/kelpie/export"
)

// objects is one export decoded.
type objects struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	cronJobs    map[string]*batchv1.CronJob
}

// decode reads every file strictly (an unknown or repeated field is an
// error) into the API type its kind names.
func decode(t *testing.T, res *export.Result) objects {
	t.Helper()
	o := objects{map[string]*appsv1.Deployment{}, map[string]*corev1.Service{}, map[string]*batchv1.CronJob{}}
	for _, f := range res.Files {
		if !strings.HasPrefix(string(f.Data), export.Marker) {
			t.Errorf("%s: does not start with the marker", f.Name)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(f.Data, &tm); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		var name string
		var err error
		switch gvk := tm.APIVersion + " " + tm.Kind; gvk {
		case "apps/v1 Deployment":
			var d appsv1.Deployment
			err = yaml.UnmarshalStrict(f.Data, &d)
			name, o.deployments[d.Name] = d.Name, &d
			if f.Name != d.Name+".deployment.yaml" {
				t.Errorf("%s holds Deployment %s", f.Name, d.Name)
			}
		case "v1 Service":
			var s corev1.Service
			err = yaml.UnmarshalStrict(f.Data, &s)
			name, o.services[s.Name] = s.Name, &s
			if f.Name != s.Name+".service.yaml" {
				t.Errorf("%s holds Service %s", f.Name, s.Name)
			}
		case "batch/v1 CronJob":
			var c batchv1.CronJob
			err = yaml.UnmarshalStrict(f.Data, &c)
			name, o.cronJobs[c.Name] = c.Name, &c
			if f.Name != c.Name+".cronjob.yaml" {
				t.Errorf("%s holds CronJob %s", f.Name, c.Name)
			}
		default:
			t.Fatalf("%s: unexpected kind %q", f.Name, gvk)
		}
		if err != nil {
			t.Fatalf("%s: strict decode: %v", f.Name, err)
		}
		// Services take the strictest names (DNS-1035 labels); every
		// object gets one, so a workload and its Service share it.
		for _, msg := range validation.IsDNS1035Label(name) {
			t.Errorf("%s: name %q: %s", f.Name, name, msg)
		}
	}
	return o
}

// checkLabels checks every label key and value is valid.
func checkLabels(t *testing.T, what string, l map[string]string) {
	t.Helper()
	if len(l) == 0 {
		t.Errorf("%s: no labels", what)
	}
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s: label key %q: %s", what, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			t.Errorf("%s: label %s value %q: %s", what, k, v, msg)
		}
	}
}

// checkPod checks a pod template: its labels, and each container's name,
// command, ports and probes.
func checkPod(t *testing.T, what string, p *corev1.PodTemplateSpec) {
	t.Helper()
	checkLabels(t, what+" template", p.Labels)
	if len(p.Spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(p.Spec.Containers))
	}
	if g := p.Spec.TerminationGracePeriodSeconds; g == nil || *g < 1 {
		t.Errorf("%s: terminationGracePeriodSeconds %v", what, g)
	}
	c := p.Spec.Containers[0]
	for _, msg := range validation.IsDNS1123Label(c.Name) {
		t.Errorf("%s: container name %q: %s", what, c.Name, msg)
	}
	if c.Image == "" || len(c.Command) == 0 {
		t.Errorf("%s: image %q, command %q", what, c.Image, c.Command)
	}
	for _, e := range c.Env {
		for _, msg := range validation.IsEnvVarName(e.Name) {
			t.Errorf("%s: env %q: %s", what, e.Name, msg)
		}
	}
	for _, port := range c.Ports {
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			t.Errorf("%s: port %d: %s", what, port.ContainerPort, msg)
		}
	}
	checkProbe(t, what+" readinessProbe", c.ReadinessProbe, false)
	checkProbe(t, what+" livenessProbe", c.LivenessProbe, true)
}

// checkProbe checks a probe has one handler, valid ports and whole,
// positive timings (a liveness probe's success threshold is 1).
func checkProbe(t *testing.T, what string, p *corev1.Probe, liveness bool) {
	t.Helper()
	if p == nil {
		return
	}
	h := p.ProbeHandler
	n := 0
	for _, set := range []bool{h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.GRPC != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s: %d handlers, want 1", what, n)
	}
	switch {
	case h.Exec != nil && len(h.Exec.Command) == 0:
		t.Errorf("%s: empty exec command", what)
	case h.HTTPGet != nil:
		port := h.HTTPGet.Port.IntValue()
		if len(validation.IsValidPortNum(port)) > 0 || !strings.HasPrefix(h.HTTPGet.Path, "/") ||
			(h.HTTPGet.Scheme != corev1.URISchemeHTTP && h.HTTPGet.Scheme != corev1.URISchemeHTTPS) {
			t.Errorf("%s: httpGet %+v", what, h.HTTPGet)
		}
	case h.TCPSocket != nil:
		if len(validation.IsValidPortNum(h.TCPSocket.Port.IntValue())) > 0 {
			t.Errorf("%s: tcpSocket %+v", what, h.TCPSocket)
		}
	}
	if p.PeriodSeconds < 1 || p.TimeoutSeconds < 1 || p.FailureThreshold < 1 || p.SuccessThreshold < 1 || p.InitialDelaySeconds < 0 {
		t.Errorf("%s: timings %+v", what, p)
	}
	if liveness && p.SuccessThreshold != 1 {
		t.Errorf("%s: successThreshold %d (Kubernetes requires 1 for liveness)", what, p.SuccessThreshold)
	}
}

// check runs every invariant over an export.
func check(t *testing.T, o objects) {
	t.Helper()
	for name, d := range o.deployments {
		checkLabels(t, name, d.Labels)
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() {
			t.Fatalf("%s: selector %v: %v", name, d.Spec.Selector, err)
		}
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector %s does not match the template's labels %v", name, sel, d.Spec.Template.Labels)
		}
		// No other workload's pods are selected too.
		for other, od := range o.deployments {
			if other != name && sel.Matches(labels.Set(od.Spec.Template.Labels)) {
				t.Errorf("%s: selector %s also matches %s's pods", name, sel, other)
			}
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 0 {
			t.Errorf("%s: replicas %v", name, d.Spec.Replicas)
		}
		checkPod(t, name, &d.Spec.Template)
	}
	for name, s := range o.services {
		checkLabels(t, name, s.Labels)
		d := o.deployments[name]
		if d == nil {
			t.Fatalf("Service %s has no Deployment of its name", name)
		}
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) || len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s: selector %v does not select its Deployment's pods %v", name, s.Spec.Selector, d.Spec.Template.Labels)
		}
		if len(s.Spec.Ports) == 0 {
			t.Errorf("Service %s: no ports", name)
		}
		for _, p := range s.Spec.Ports {
			found := false
			for _, cp := range d.Spec.Template.Spec.Containers[0].Ports {
				found = found || (cp.ContainerPort == p.TargetPort.IntVal && cp.Protocol == p.Protocol)
			}
			if !found || len(validation.IsValidPortNum(int(p.Port))) > 0 {
				t.Errorf("Service %s: port %d -> %s matches no container port", name, p.Port, p.TargetPort.String())
			}
		}
	}
	for name, c := range o.cronJobs {
		checkLabels(t, name, c.Labels)
		if _, err := cron.ParseStandard(c.Spec.Schedule); err != nil || strings.Contains(c.Spec.Schedule, "TZ") {
			t.Errorf("CronJob %s: schedule %q: %v", name, c.Spec.Schedule, err)
		}
		pol := c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy
		if pol != corev1.RestartPolicyOnFailure && pol != corev1.RestartPolicyNever {
			t.Errorf("CronJob %s: restartPolicy %q (a Job's pods take OnFailure or Never)", name, pol)
		}
		checkPod(t, name, &c.Spec.JobTemplate.Spec.Template)
	}
}

// The config that uses every feature: every object decodes strictly into
// its API type and holds kelpie's invariants; replicas are the cluster's
// instances.
func TestStackDecodesStrictly(t *testing.T) {
	f, err := config.Load("../testdata/stack/kelpie.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := export.Kubernetes(f, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, res)
	check(t, o)
	if len(o.deployments) == 0 || len(o.services) == 0 || len(o.cronJobs) == 0 {
		t.Fatalf("want Deployments, Services and CronJobs, got %d, %d, %d", len(o.deployments), len(o.services), len(o.cronJobs))
	}
	if r := o.deployments["stack-api"].Spec.Replicas; r == nil || *r != 3 {
		t.Errorf("stack-api replicas %v, want the cluster's 3 instances", r)
	}
	if r := o.deployments["stack-janitor"].Spec.Replicas; r == nil || *r != 0 {
		t.Errorf("disabled janitor: replicas %v, want 0", r)
	}
	if s := o.services["stack-api"]; s.Spec.Ports[0].Port != 8080 {
		t.Errorf("stack-api Service port %d, want the listen port 8080", s.Spec.Ports[0].Port)
	}
}

// A strict decode does reject an unknown field: the check above would
// otherwise prove nothing.
func TestStrictDecodeRejectsUnknownFields(t *testing.T) {
	var d appsv1.Deployment
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n"), &d)
	if err == nil {
		t.Fatal("an unknown field was accepted")
	}
}

// Names that are not DNS labels are made so, and two that would meet are
// refused with a message naming both.
func TestNamesMadeValidAndCollisionsRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) *config.File {
		t.Helper()
		path := filepath.Join(dir, "kelpie.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := write("processes:\n  Web_Server.v2:\n    run: [/bin/true]\n  9lives:\n    run: [/bin/true]\n")
	res, err := export.Kubernetes(f, export.Options{Prefix: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, res)
	check(t, o)
	for _, want := range []string{"shop-web-server-v2", "shop-9lives"} {
		if o.deployments[want] == nil {
			t.Errorf("no Deployment %s in %v", want, o.deployments)
		}
	}
	f = write("processes:\n  web_1:\n    run: [/bin/true]\n  web.1:\n    run: [/bin/true]\n")
	_, err = export.Kubernetes(f, export.Options{})
	if err == nil || !strings.Contains(err.Error(), "web_1") || !strings.Contains(err.Error(), "web.1") {
		t.Fatalf("colliding names: got %v, want an error naming web_1 and web.1", err)
	}
}
