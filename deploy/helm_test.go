package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const chart = "deploy/helm/gokms"

type k8sObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec                         json.RawMessage `json:"spec"`
	AutomountServiceAccountToken *bool           `json:"automountServiceAccountToken"`
}

type deployment struct {
	Replicas int `json:"replicas"`
	Strategy struct{ Type string }
	Template struct {
		Metadata struct {
			Labels      map[string]string
			Annotations map[string]string
		}
		Spec struct {
			AutomountServiceAccountToken *bool
			SecurityContext              struct {
				RunAsNonRoot *bool
				RunAsUser    *int64
			}
			Containers []struct {
				Name            string
				Image           string
				Args            []string
				Env             []struct{ Name, Value string }
				LivenessProbe   *struct{ HTTPGet struct{ Path, Port string } }
				ReadinessProbe  *struct{ HTTPGet struct{ Path, Port string } }
				SecurityContext struct {
					ReadOnlyRootFilesystem   *bool
					AllowPrivilegeEscalation *bool
					Capabilities             struct{ Drop []string }
				}
				VolumeMounts []struct{ Name, MountPath string }
			}
			Volumes []struct {
				Name   string
				Secret *struct {
					SecretName string
					Items      []struct{ Key, Path string }
				}
				PersistentVolumeClaim *struct{ ClaimName string }
			}
		}
	}
}

// render runs helm template with the given --set values, then validates the
// output with deploycheck k8s (strict decoding into the Kubernetes API types
// and the API server's cross-field rules). It returns the objects by kind.
func render(t *testing.T, set ...string) (map[string]k8sObject, string, error) {
	t.Helper()
	helm, deploycheck := deployTools(t)
	args := []string{"template", "kms", filepath.Join(repoRoot, chart)}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := run(t, repoRoot, helmEnv(t), helm, args...)
	if err != nil {
		return nil, out, err
	}
	manifest := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(manifest, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	js, err := run(t, repoRoot, nil, deploycheck, "k8s", manifest)
	if err != nil {
		t.Fatalf("rendered chart (%v) fails the Kubernetes schema check: %v\n%s\n--- manifest\n%s", set, err, js, out)
	}
	var objs []k8sObject
	if err := json.Unmarshal([]byte(js), &objs); err != nil {
		t.Fatalf("deploycheck output: %v\n%s", err, js)
	}
	byKind := map[string]k8sObject{}
	for _, o := range objs {
		byKind[o.Kind] = o
	}
	return byKind, out, nil
}

// helmEnv keeps helm's caches and config in the test's temp dir.
func helmEnv(t *testing.T) []string {
	d := t.TempDir()
	return []string{"HELM_CACHE_HOME=" + d, "HELM_CONFIG_HOME=" + d, "HELM_DATA_HOME=" + d}
}

func deploymentOf(t *testing.T, objs map[string]k8sObject) deployment {
	t.Helper()
	o, ok := objs["Deployment"]
	if !ok {
		t.Fatalf("no Deployment rendered; kinds %v", objs)
	}
	var d deployment
	if err := json.Unmarshal(o.Spec, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(d.Template.Spec.Containers))
	}
	return d
}

func TestHelmLint(t *testing.T) {
	helm, _ := deployTools(t)
	for _, set := range [][]string{
		{"existingSecret=gokms", "daemon.testnet=true"},
		{"existingSecret=gokms", "daemon.externalUrl=https://approvals.internal/kms", "store.backend=vault://vault.internal/secret/gokms", "vaultKubernetesAuth.enabled=true", "vaultKubernetesAuth.role=gokms"},
	} {
		args := []string{"lint", "--strict", filepath.Join(repoRoot, chart)}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		if out, err := run(t, repoRoot, helmEnv(t), helm, args...); err != nil {
			t.Fatalf("helm lint --strict %v: %v\n%s", set, err, out)
		}
	}
	// values.schema.json bites: a mistyped value fails the lint.
	out, err := run(t, repoRoot, helmEnv(t), helm, "lint", "--strict", filepath.Join(repoRoot, chart), "--set", "existingSecret=gokms", "--set", "daemon.testnet=true", "--set", "daemon.concurrency=0")
	if err == nil {
		t.Fatalf("helm lint accepted daemon.concurrency=0:\n%s", out)
	}
}

// TestHelmFileStore: the default chart is one daemon on the file store,
// replaced (never doubled) on upgrade, with the password and the API key
// from the Secret as files and the hardening of the systemd unit.
func TestHelmFileStore(t *testing.T) {
	objs, manifest, err := render(t, "existingSecret=gokms-secrets", "daemon.externalUrl=https://approvals.internal/kms")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, manifest)
	}
	for _, k := range []string{"Deployment", "Service", "PersistentVolumeClaim", "ServiceAccount"} {
		if _, ok := objs[k]; !ok {
			t.Errorf("no %s rendered", k)
		}
	}
	if objs["PersistentVolumeClaim"].Metadata.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("the store's PVC is not kept on uninstall")
	}
	d := deploymentOf(t, objs)
	if d.Replicas != 1 || d.Strategy.Type != "Recreate" {
		t.Errorf("file store: replicas %d strategy %q, want 1 and Recreate", d.Replicas, d.Strategy.Type)
	}
	ps := d.Template.Spec
	c := ps.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, w := range []string{"daemon", "--path /data/wallet.dat", "--password-file /run/secrets/gokms/password", "--envFile /run/secrets/gokms/gokms.env", "--listen :9464", "--externalUrl https://approvals.internal/kms"} {
		if !strings.Contains(args, w) {
			t.Errorf("args %q lack %q", args, w)
		}
	}
	if strings.Contains(args, "--testnet") {
		t.Errorf("mainnet values rendered --testnet")
	}
	if len(c.Env) != 0 {
		t.Errorf("env %v: secrets must come as files", c.Env)
	}
	var secretItems []string
	for _, v := range ps.Volumes {
		if v.Secret != nil {
			if v.Secret.SecretName != "gokms-secrets" {
				t.Errorf("secret volume from %q", v.Secret.SecretName)
			}
			for _, it := range v.Secret.Items {
				secretItems = append(secretItems, it.Key)
			}
		}
	}
	if strings.Join(secretItems, ",") != "gokms.env,password" {
		t.Errorf("secret items %v, want gokms.env and password", secretItems)
	}
	for what, p := range map[string]*struct{ HTTPGet struct{ Path, Port string } }{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port != "metrics" {
			t.Errorf("%s probe %+v, want GET /healthz on the metrics port", what, p)
		}
	}
	if a := d.Template.Metadata.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9464" || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v lack the Prometheus scrape annotations", a)
	}
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		strings.Join(sc.Capabilities.Drop, ",") != "ALL" {
		t.Errorf("container securityContext %+v", sc)
	}
	if ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot || ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser != 65532 {
		t.Errorf("pod securityContext %+v: want non-root 65532 (the image's user)", ps.SecurityContext)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Errorf("the file store needs no service account token, yet it is mounted")
	}
}

// TestHelmRemoteStores: Vault Kubernetes auth and Azure workload identity
// are wired as gokms and the platforms expect, without a password file.
func TestHelmRemoteStores(t *testing.T) {
	objs, manifest, err := render(t, "existingSecret=s", "daemon.testnet=true", "store.backend=vault://vault.internal/secret/gokms",
		"vaultKubernetesAuth.enabled=true", "vaultKubernetesAuth.role=gokms-daemon")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, manifest)
	}
	if _, ok := objs["PersistentVolumeClaim"]; ok {
		t.Errorf("a remote store rendered a PVC")
	}
	d := deploymentOf(t, objs)
	c := d.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--backend vault://vault.internal/secret/gokms") || strings.Contains(args, "--password-file") || strings.Contains(args, "--path") {
		t.Errorf("vault args %q", args)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["GOKMS_VAULT_AUTH"] != "kubernetes" || env["GOKMS_VAULT_K8S_ROLE"] != "gokms-daemon" {
		t.Errorf("vault kubernetes auth env %v", env)
	}
	if p := d.Template.Spec.AutomountServiceAccountToken; p == nil || !*p {
		t.Errorf("Vault Kubernetes auth needs the service account token mounted")
	}

	objs, manifest, err = render(t, "existingSecret=s", "daemon.testnet=true", "store.backend=azure://kms.vault.azure.net",
		"azureWorkloadIdentity.enabled=true", "azureWorkloadIdentity.clientId=00000000-0000-0000-0000-000000000019")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, manifest)
	}
	d = deploymentOf(t, objs)
	if d.Template.Metadata.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("pod labels %v lack azure.workload.identity/use", d.Template.Metadata.Labels)
	}
	if objs["ServiceAccount"].Metadata.Annotations["azure.workload.identity/client-id"] != "00000000-0000-0000-0000-000000000019" {
		t.Errorf("service account annotations %v", objs["ServiceAccount"].Metadata.Annotations)
	}
}

// TestHelmRefusals: the chart refuses what would double-sign or not start.
func TestHelmRefusals(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"daemon.testnet=true"}, "existingSecret"},
		{[]string{"existingSecret=s"}, "mainnet needs the four-eye endpoint"},
		{[]string{"existingSecret=s", "daemon.testnet=true", "replicaCount=3"}, "a file store has one writer"},
		{[]string{"existingSecret=s", "daemon.testnet=true", "replicaCount=3", "store.backend=vault://v/secret/gokms"}, "could sign one pending transaction twice"},
		{[]string{"existingSecret=s", "daemon.testnet=true", "store.backend=s3://bucket"}, "/store/backend"},
		{[]string{"existingSecret=s", "daemon.testnet=true", "vaultKubernetesAuth.enabled=true"}, "vaultKubernetesAuth.role"},
	} {
		_, out, err := render(t, tc.set...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("helm template %v: err %v; want a refusal mentioning %q, got:\n%s", tc.set, err, tc.want, out)
		}
	}
	// Several replicas are accepted once state is shared and the store remote.
	objs, out, err := render(t, "existingSecret=s", "daemon.testnet=true", "replicaCount=3", "store.backend=vault://v/secret/gokms", "sharedState.enabled=true")
	if err != nil {
		t.Fatalf("shared state, 3 replicas: %v\n%s", err, out)
	}
	if d := deploymentOf(t, objs); d.Replicas != 3 || d.Strategy.Type == "Recreate" {
		t.Errorf("shared state: replicas %d strategy %q", d.Replicas, d.Strategy.Type)
	}
}

// TestKubernetesCheckBites: deploycheck k8s rejects the mistakes it exists
// for (a misspelt field, a selector that matches no pod, a probe on a port
// that does not exist), so a green chart test means something.
func TestKubernetesCheckBites(t *testing.T) {
	_, deploycheck := deployTools(t)
	_, manifest, err := render(t, "existingSecret=s", "daemon.testnet=true")
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(string) string{
		"misspelt field": func(s string) string { return strings.Replace(s, "readinessProbe:", "readinesProbe:", 1) },
		"selector": func(s string) string {
			return strings.Replace(s, "      app.kubernetes.io/instance: kms", "      app.kubernetes.io/instance: other", 1)
		},
		"probe port":       func(s string) string { return strings.Replace(s, "port: metrics\n", "port: metricz\n", 1) },
		"mistyped replica": func(s string) string { return strings.Replace(s, "replicas: 1", "replicas: one", 1) },
	} {
		bad := mutate(manifest)
		if bad == manifest {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		p := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(p, []byte(bad), 0o644)
		if out, err := run(t, repoRoot, nil, deploycheck, "k8s", p); err == nil {
			t.Errorf("%s: deploycheck accepted it:\n%s", name, out)
		}
	}
}
