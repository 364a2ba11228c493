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

// Every install path works as the README writes it: make deploy, make deploy-namespaced,
// make build-installer then kubectl apply, and Helm with the README's values, each applied
// for real. Then the manager runs with exactly the installed Deployment's arguments and
// environment, the AWS region among them, as the ServiceAccount the install created (a
// token from the TokenRequest API), holding only the install's RBAC, until a FigmaToken is
// Ready. The test adds only what a Pod gets from its cluster: a kubeconfig instead of the
// in-cluster one, the Pod's namespace for the Lease, no listening ports (the test runs
// several managers) and the fake Amplify endpoint (whose region, us-east-1, the README's
// examples use).
func TestEveryInstallPathStartsAWorkingManager(t *testing.T) {
	const region = "us-east-1"
	img := "registry.example.com/figma-token-operator:v0.1.0" // the README's, kept in step by internal/versions
	for _, path := range []struct {
		name string
		// install applies the operator as the README says and returns the Deployment's
		// namespace and name; ns is a namespace the test's FigmaToken may live in.
		install func(t *testing.T, ns string) (string, string)
		// watchesOnly: the install watches the given namespace only.
		watchesOnly bool
	}{
		// First: the installs after it bind cluster-wide roles to the same ServiceAccount.
		{name: "make deploy-namespaced", watchesOnly: true, install: func(t *testing.T, ns string) (string, string) {
			makeTarget(t, "deploy-namespaced", "WATCH_NAMESPACE="+ns, "IMG="+img, "AWS_REGION="+region)
			return "figma-token-operator-system", "figma-token-operator-controller-manager"
		}},
		{name: "make deploy", install: func(t *testing.T, _ string) (string, string) {
			makeTarget(t, "deploy", "IMG="+img, "AWS_REGION="+region)
			return "figma-token-operator-system", "figma-token-operator-controller-manager"
		}},
		{name: "make build-installer, kubectl apply", install: func(t *testing.T, _ string) (string, string) {
			makeTarget(t, "build-installer", "IMG="+img, "AWS_REGION="+region)
			mustKubectl(t, "", "apply", "--server-side", "-f", filepath.Join(root, "dist", "install.yaml"))
			return "figma-token-operator-system", "figma-token-operator-controller-manager"
		}},
		{name: "helm with the README's values", install: func(t *testing.T, _ string) (string, string) {
			helm := toolBinary(t, "HELM", "helm-*")
			const release, namespace = "figma-token-operator", "figma-token-operator"
			_, _ = kubectl(nil, "create", "namespace", namespace)
			out, err := exec.Command(helm, "template", release, filepath.Join(root, "charts/figma-token-operator"), "-n", namespace,
				"--set", "image.repository=registry.example.com/figma-token-operator", "--set", "image.tag=v0.1.0",
				"--set", "aws.region="+region,
				"--set", `serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::111122223333:role/figma-token-operator`).Output()
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderrOf(err))
			}
			// helm install would own the CRD the suite installed; applying what it renders
			// creates the same objects.
			mustKubectl(t, string(out), "apply", "--server-side", "--force-conflicts", "-f", "-")
			return namespace, release
		}},
	} {
		t.Run(path.name, func(t *testing.T) {
			ns := newNamespace(t)
			namespace, name := path.install(t, ns)
			deployment := installedDeployment(t, namespace, name)
			if path.watchesOnly {
				sa := "system:serviceaccount:" + namespace + ":" + deployment.Spec.Template.Spec.ServiceAccountName
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

// makeTarget runs a make target of the repository as a user would, against the suite's API
// server, without regenerating the manifests (the suite checks they are current).
func makeTarget(t *testing.T, target string, vars ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "-o", "manifests", target, "KUBECTL=" + kubectlBin}, vars...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KUBECONFIG="+adminKubeconfig)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
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
