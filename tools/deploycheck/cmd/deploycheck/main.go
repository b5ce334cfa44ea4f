// Command deploycheck validates gokms's deployment files with the libraries
// the real tools use, so the deploy tests need no Docker engine, no cluster
// and no download at run time:
//
//	deploycheck dockerfile FILE   BuildKit's Dockerfile parser and linter (the rules of docker build --check)
//	deploycheck compose FILE      compose-go's loader: the Compose specification's JSON schema and model; prints the project as JSON
//	deploycheck k8s FILE|-        strict decoding into the Kubernetes API types (unknown, duplicate or mistyped fields fail)
//	                              plus the API server's rules that most often break charts; prints the objects as a JSON array
//
// Exit status 1 and one line per finding on stderr when the file is not valid.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: deploycheck dockerfile|compose|k8s FILE")
		os.Exit(2)
	}
	var findings []string
	var err error
	switch os.Args[1] {
	case "dockerfile":
		findings, err = checkDockerfile(os.Args[2])
	case "compose":
		findings, err = checkCompose(os.Args[2])
	case "k8s":
		findings, err = checkK8s(os.Args[2])
	default:
		err = fmt.Errorf("unknown check %q: want dockerfile, compose or k8s", os.Args[1])
	}
	if err != nil {
		findings = append(findings, err.Error())
	}
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
}

func checkDockerfile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var findings []string
	for _, w := range res.Warnings {
		findings = append(findings, fmt.Sprintf("%s:%d: %s", path, w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, loc []parser.Range) {
		findings = append(findings, fmt.Sprintf("%s:%d: %s: %s", path, line(loc), rule, msg))
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return findings, fmt.Errorf("%s: %w", path, err)
	}
	// The whole of docker build --check: the rules that need the build's
	// dispatch (JSONArgsRecommended, SecretsUsedInArgOrEnv, UndefinedVar,
	// ...). Base images are not fetched: they resolve to an empty config.
	dt, err := os.ReadFile(path)
	if err != nil {
		return findings, err
	}
	sm := llb.NewSourceMap(nil, filepath.Base(path), "Dockerfile", dt)
	sm.Definition = &llb.Definition{}
	lr, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{MetaResolver: offlineImages{}, SourceMap: sm})
	if err != nil {
		return findings, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, f := range findings {
		seen[f] = true
	}
	for _, w := range lr.Warnings {
		l := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			l = int(w.Location.Ranges[0].Start.Line)
		}
		if f := fmt.Sprintf("%s:%d: %s: %s", path, l, w.RuleName, w.Detail); !seen[f] {
			findings = append(findings, f)
		}
	}
	if lr.Error != nil {
		findings = append(findings, path+": "+lr.Error.Message)
	}
	// Print the final stage's instructions for the test's own checks.
	if len(stages) == 0 {
		return findings, fmt.Errorf("%s: no FROM", path)
	}
	for _, n := range res.AST.Children {
		fmt.Println(strings.ToUpper(n.Value) + "\t" + strings.Join(nodeArgs(n), "\t") + "\t" + strings.Join(n.Flags, " "))
	}
	return findings, nil
}

func line(loc []parser.Range) int {
	if len(loc) > 0 {
		return loc[0].Start.Line
	}
	return 0
}

// offlineImages answers every base image with an empty linux config, so the
// lint needs no registry.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"config":{}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

func nodeArgs(n *parser.Node) []string {
	var out []string
	for c := n.Next; c != nil; c = c.Next {
		out = append(out, c.Value)
	}
	return out
}

func checkCompose(path string) ([]string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	opts, err := cli.NewProjectOptions([]string{abs}, cli.WithWorkingDirectory(filepath.Dir(abs)), cli.WithOsEnv, cli.WithDotEnv)
	if err != nil {
		return nil, err
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	fmt.Println(string(b))
	return nil, nil
}

func checkK8s(path string) ([]string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	dec := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var findings []string
	objs := []json.RawMessage{}
	for i := 1; ; i++ {
		doc, err := yr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return findings, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, gvk, err := dec.Decode(doc, nil, nil)
		if err != nil {
			where := fmt.Sprintf("document %d", i)
			if gvk != nil {
				where += " (" + gvk.Kind + ")"
			}
			findings = append(findings, where+": "+err.Error())
			continue
		}
		for _, f := range validate(obj) {
			findings = append(findings, fmt.Sprintf("%s %s: %s", gvk.Kind, name(obj), f))
		}
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
		b, err := json.Marshal(obj)
		if err != nil {
			return findings, err
		}
		objs = append(objs, b)
	}
	b, err := json.Marshal(objs)
	if err != nil {
		return findings, err
	}
	fmt.Println(string(b))
	return findings, nil
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

func name(obj runtime.Object) string {
	if m, ok := obj.(metav1.Object); ok {
		return m.GetName()
	}
	return "?"
}

// validate applies the API server's checks that strict decoding cannot see.
func validate(obj runtime.Object) []string {
	var out []string
	m, ok := obj.(metav1.Object)
	if !ok {
		return []string{"not an object with metadata"}
	}
	if m.GetName() == "" {
		out = append(out, "metadata.name is empty")
	}
	for _, e := range validation.IsDNS1123Subdomain(m.GetName()) {
		out = append(out, "metadata.name: "+e)
	}
	out = append(out, checkLabels("metadata.labels", m.GetLabels())...)
	for k := range m.GetAnnotations() {
		for _, e := range validation.IsQualifiedName(strings.ToLower(k)) {
			out = append(out, "annotation "+k+": "+e)
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		out = append(out, checkSelector(o.Spec.Selector, o.Spec.Template.Labels)...)
		out = append(out, checkPod(o.Spec.Template.Spec)...)
	case *appsv1.StatefulSet:
		out = append(out, checkSelector(o.Spec.Selector, o.Spec.Template.Labels)...)
		out = append(out, checkPod(o.Spec.Template.Spec)...)
	case *corev1.Service:
		for _, p := range o.Spec.Ports {
			if p.Port < 1 || p.Port > 65535 {
				out = append(out, fmt.Sprintf("service port %d out of range", p.Port))
			}
		}
		if len(o.Spec.Selector) == 0 {
			out = append(out, "service has no selector")
		}
	}
	return out
}

func checkLabels(where string, l map[string]string) []string {
	var out []string
	for k, v := range l {
		for _, e := range validation.IsQualifiedName(k) {
			out = append(out, where+" key "+k+": "+e)
		}
		for _, e := range validation.IsValidLabelValue(v) {
			out = append(out, where+" "+k+"="+v+": "+e)
		}
	}
	return out
}

func checkSelector(sel *metav1.LabelSelector, podLabels map[string]string) []string {
	if sel == nil {
		return []string{"spec.selector is required"}
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return []string{"spec.selector: " + err.Error()}
	}
	if s.Empty() {
		return []string{"spec.selector is empty"}
	}
	if !s.Matches(labels.Set(podLabels)) {
		return []string{"spec.selector does not match the pod template's labels (the API server refuses this)"}
	}
	return checkLabels("template labels", podLabels)
}

func checkPod(p corev1.PodSpec) []string {
	var out []string
	vols := map[string]bool{}
	for _, v := range p.Volumes {
		for _, e := range validation.IsDNS1123Label(v.Name) {
			out = append(out, "volume "+v.Name+": "+e)
		}
		vols[v.Name] = true
	}
	if len(p.Containers) == 0 {
		out = append(out, "no containers")
	}
	for _, c := range append(append([]corev1.Container(nil), p.InitContainers...), p.Containers...) {
		for _, e := range validation.IsDNS1123Label(c.Name) {
			out = append(out, "container "+c.Name+": "+e)
		}
		if c.Image == "" {
			out = append(out, "container "+c.Name+": image is empty")
		}
		ports := map[string]bool{}
		for _, cp := range c.Ports {
			if cp.ContainerPort < 1 || cp.ContainerPort > 65535 {
				out = append(out, fmt.Sprintf("container %s: port %d out of range", c.Name, cp.ContainerPort))
			}
			if cp.Name != "" {
				ports[cp.Name] = true
			}
		}
		for _, vm := range c.VolumeMounts {
			if !vols[vm.Name] {
				out = append(out, "container "+c.Name+": volumeMount "+vm.Name+" names no volume")
			}
			if !strings.HasPrefix(vm.MountPath, "/") {
				out = append(out, "container "+c.Name+": mountPath "+vm.MountPath+" is not absolute")
			}
		}
		for what, pr := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if pr == nil || pr.HTTPGet == nil {
				continue
			}
			if pp := pr.HTTPGet.Port; pp.StrVal != "" && !ports[pp.StrVal] {
				out = append(out, "container "+c.Name+": "+what+" probe port "+pp.StrVal+" names no container port")
			}
		}
	}
	return out
}
