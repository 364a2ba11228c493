package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/rand"
)

// The namespaced install works end to end as a user applies it: config/namespaced, rendered
// as make deploy-namespaced renders it, applied for real; then the manager runs with the
// Deployment's own arguments as the ServiceAccount the overlay creates (a token from the
// TokenRequest API), holding nothing but the overlay's Roles: no cluster-wide grant.
func TestNamespacedInstallWorksAsAUserAppliesIt(t *testing.T) {
	ns := newNamespace(t)
	const operatorNamespace = "figma-token-operator-system"
	render := exec.Command(filepath.Join(root, "hack/render.sh"), filepath.Join(root, "config/namespaced"), "registry.example.com/fto:v1.2.3")
	render.Env = append(os.Environ(), "KUBECTL="+kubectlBin)
	out, err := render.Output()
	if err != nil {
		t.Fatalf("rendering config/namespaced: %v\n%s", err, stderrOf(err))
	}
	rendered := bytes.ReplaceAll(out, []byte("WATCHED_NAMESPACE"), []byte(ns))
	objects := decodeAll(t, rendered)
	for _, o := range objects {
		if o.GetKind() == "ClusterRole" || o.GetKind() == "ClusterRoleBinding" {
			t.Fatalf("the namespaced install grants %s %s", o.GetKind(), o.GetName())
		}
	}
	mustKubectl(t, string(rendered), "apply", "--server-side", "--force-conflicts", "--field-manager=namespaced-install", "-f", "-")

	// The manager as the Deployment runs it, less the ports (the test runs several managers)
	// and with the namespace a Pod would take its Lease in.
	var args []string
	for _, arg := range findDeployment(t, objects).Spec.Template.Spec.Containers[0].Args {
		if !strings.HasPrefix(arg, "--metrics-bind-address") && !strings.HasPrefix(arg, "--health-probe-bind-address") {
			args = append(args, arg)
		}
	}
	if !strings.Contains(strings.Join(args, " "), "--watch-namespace="+ns) {
		t.Fatalf("the Deployment does not watch %s: %v", ns, args)
	}
	args = append(args, "--leader-election-namespace="+operatorNamespace, "--zap-log-level=debug")

	token := strings.TrimSpace(mustKubectl(t, "", "create", "token", "figma-token-operator-controller-manager", "-n", operatorNamespace))
	kubeconfig := filepath.Join(work, "sa-"+ns+".kubeconfig")
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
	narrow := newManager(kubeconfig, "namespaced.log")
	narrow.Args = args
	replaceOperator(t, narrow)

	rt := "namespaced-" + rand.String(12)
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("narrow", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/narrow", "--timeout=90s")
	if log := narrow.Log(); strings.Contains(log, "is forbidden") {
		t.Fatalf("the manager was refused a request:\n%s", log)
	}
}
