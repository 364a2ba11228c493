package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

// Every install path works as the README writes it: its lines, read from the README and run
// in a fresh clone (make deploy-namespaced, make deploy, make build-installer then kubectl
// apply, helm install), each applied for real. Then the manager runs with exactly the
// installed Deployment's arguments and environment, the AWS region among them, as the
// ServiceAccount the install created (a token from the TokenRequest API), holding only the
// install's RBAC, until a FigmaToken is Ready. The test adds only what a Pod gets from its
// cluster: a kubeconfig instead of the in-cluster one, the Pod's namespace for the Lease, no
// listening ports (the test runs several managers) and the fake Amplify endpoint (whose
// region, us-east-1, the README's examples use). Last, the path's uninstall line removes the
// manager and keeps the CRDs, the FigmaToken, and the operator's namespace.
func TestEveryInstallPathStartsAWorkingManager(t *testing.T) {
	const region = "us-east-1"
	dir := freshClone(t)
	for _, path := range []struct {
		name, heading string
		// replace: what the test changes in the README's lines (old, new, ...); ns stands
		// for a namespace the test's FigmaToken may live in.
		replace func(ns string) []string
		// namespace and deployment: what the install creates.
		namespace, deployment string
		// watchesOnly: the install watches the given namespace only.
		watchesOnly bool
	}{
		// First: the installs after it bind cluster-wide roles to the same ServiceAccount.
		{name: "one namespace", heading: "### One namespace", watchesOnly: true,
			replace:   func(ns string) []string { return []string{"WATCH_NAMESPACE=web", "WATCH_NAMESPACE=" + ns} },
			namespace: "figma-token-operator-system", deployment: "figma-token-operator-controller-manager"},
		{name: "kustomize", heading: "### kustomize",
			namespace: "figma-token-operator-system", deployment: "figma-token-operator-controller-manager"},
		{name: "one YAML", heading: "### One YAML",
			namespace: "figma-token-operator-system", deployment: "figma-token-operator-controller-manager"},
		// The suite installed the CRDs before helm could: helm takes them over (a cluster's
		// first helm install creates them).
		{name: "helm", heading: "### Helm",
			replace:   func(string) []string { return []string{"--create-namespace", "--create-namespace --take-ownership"} },
			namespace: "figma-token-operator", deployment: "figma-token-operator"},
	} {
		t.Run(path.name, func(t *testing.T) {
			ns := newNamespace(t)
			replace := strings.NewReplacer()
			if path.replace != nil {
				replace = strings.NewReplacer(path.replace(ns)...)
			}
			for _, line := range readmeCommands(t, path.heading) {
				line = replace.Replace(line)
				if !strings.Contains(line, "AWS_REGION="+region) && !strings.Contains(line, "aws.region="+region) && !strings.HasPrefix(line, "kubectl ") {
					t.Fatalf("the README's line %q names no region %s", line, region)
				}
				runAsANewcomer(t, dir, line)
			}
			deployment := installedDeployment(t, path.namespace, path.deployment)
			if path.watchesOnly {
				sa := "system:serviceaccount:" + path.namespace + ":" + deployment.Spec.Template.Spec.ServiceAccountName
				out, _ := kubectl(nil, "auth", "can-i", "list", "figmatokens.figma.tokenops.dev", "--all-namespaces", "--as="+sa)
				if strings.TrimSpace(out) != "no" {
					t.Fatalf("the namespaced install lets its ServiceAccount list FigmaTokens cluster-wide: %s", out)
				}
			}
			manager := managerAsDeployed(t, deployment, path.name)
			replaceOperator(t, manager)

			rt := "install-" + rand.String(12)
			mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("installed", "creds"), "apply", "-n", ns, "-f", "-")
			mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/installed", "--timeout=90s")
			log := manager.Log()
			if strings.Contains(log, "is forbidden") {
				t.Fatalf("the manager was refused a request:\n%s", log)
			}
			if !strings.Contains(log, `"awsRegion":"`+region+`"`) {
				t.Fatalf("the manager did not take its region from the install:\n%s", log)
			}
			if args := strings.Join(manager.Args, " "); path.watchesOnly && !strings.Contains(args, "--watch-namespace="+ns) {
				t.Fatalf("the Deployment does not watch %s: %s", ns, args)
			}

			runAsANewcomer(t, dir, replace.Replace(readmeUninstall(t, path.heading)))
			if out, err := kubectl(nil, "get", "deployment", path.deployment, "-n", path.namespace); err == nil {
				t.Fatalf("the uninstall left the Deployment:\n%s", out)
			}
			for _, kept := range [][]string{
				{"get", "crd", "figmatokens.figma.tokenops.dev", "clusterfigmaoauthclients.figma.tokenops.dev"},
				{"get", "figmatoken", "installed", "-n", ns},
				{"get", "namespace", path.namespace, "-o", "jsonpath={.status.phase}"},
			} {
				if out := mustKubectl(t, "", kept...); strings.Contains(out, "Terminating") {
					t.Fatalf("the uninstall is deleting namespace %s, which holds the Secrets of ClusterFigmaOAuthClients", path.namespace)
				}
			}
		})
	}
}

// TestTheKustomizeInstallsRenderWithoutARegion: without AWS_REGION the kustomize paths
// render a manager without --aws-region (its Amplify upstream off, the Figma upstream
// serving), and say so.
func TestTheKustomizeInstallsRenderWithoutARegion(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("hack/render.sh", "config/default", "registry.example.com/fto:v1")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AWS_REGION=", "KUBECTL="+kubectlBin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("render without a region: %v\n%s", err, stderr.String())
	}
	if strings.Contains(string(out), "--aws-region") || !strings.Contains(string(out), "POD_NAMESPACE") {
		t.Fatalf("the rendered Deployment names a region, or lacks POD_NAMESPACE:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "Amplify upstream is off") {
		t.Fatalf("the render does not say the Amplify upstream is off: %q", stderr.String())
	}
}

func installedDeployment(t *testing.T, namespace, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := json.Unmarshal([]byte(mustKubectl(t, "", "get", "deployment", name, "-n", namespace, "-o", "json")), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// managerAsDeployed is the manager binary with the Deployment's arguments and environment,
// as its ServiceAccount; see TestEveryInstallPathStartsAWorkingManager for what is added.
func managerAsDeployed(t *testing.T, d *appsv1.Deployment, name string) *harness.Manager {
	t.Helper()
	container := d.Spec.Template.Spec.Containers[0]
	var args []string
	leaseNamespace := false
	for _, arg := range container.Args {
		switch {
		case strings.HasPrefix(arg, "--metrics-bind-address"), strings.HasPrefix(arg, "--health-probe-bind-address"):
			continue
		case strings.HasPrefix(arg, "--leader-election-namespace"):
			leaseNamespace = true
		}
		args = append(args, arg)
	}
	args = append(args, "--metrics-bind-address=0", "--health-probe-bind-address=0")
	if !leaseNamespace {
		args = append(args, "--leader-election-namespace="+d.Namespace)
	}
	var env []string
	for _, e := range container.Env {
		value := e.Value
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			value = d.Namespace // the downward API, as the kubelet gives it
		case e.ValueFrom != nil:
			t.Fatalf("env %s comes from the cluster (valueFrom): the test cannot give it", e.Name)
		}
		env = append(env, e.Name+"="+value)
	}
	return &harness.Manager{
		Binary: filepath.Join(work, "manager"), Kubeconfig: serviceAccountKubeconfig(t, d.Namespace, d.Spec.Template.Spec.ServiceAccountName),
		Endpoint: fakeURL, LogPath: filepath.Join(work, "install-"+strings.ReplaceAll(name, " ", "-")+".log"),
		Args: args, Env: env, AsDeployed: true,
	}
}

// serviceAccountKubeconfig is the admin kubeconfig with a TokenRequest token of the
// ServiceAccount instead of the admin's credentials.
func serviceAccountKubeconfig(t *testing.T, namespace, serviceAccount string) string {
	t.Helper()
	token := strings.TrimSpace(mustKubectl(t, "", "create", "token", serviceAccount, "-n", namespace))
	kubeconfig := filepath.Join(work, "sa-"+namespace+"-"+serviceAccount+".kubeconfig")
	admin, err := os.ReadFile(adminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kubeconfig, admin, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]string{
		{"config", "set-credentials", "sa", "--token=" + token},
		{"config", "set-context", "--current", "--user=sa"},
	} {
		if out, err := kubectlWith(kubeconfig, set...); err != nil {
			t.Fatalf("kubectl %v: %v: %s", set, err, out)
		}
	}
	return kubeconfig
}
