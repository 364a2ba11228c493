package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/rand"
)

// An operator started with --watch-namespace needs no cluster-wide grant: the Role rendered
// from config/rbac-namespaced in the watched namespace is enough. It runs here as the
// ServiceAccount config/rbac names, with a token from the TokenRequest API.
func TestNamespacedRBACIsEnoughWithWatchNamespace(t *testing.T) {
	ns := newNamespace(t)
	const saNamespace = "figma-token-operator-system"
	if _, err := kubectl(nil, "get", "serviceaccount", "controller-manager", "-n", saNamespace); err != nil {
		_, _ = kubectl(nil, "create", "namespace", saNamespace) // the install tests may have made it
		mustKubectl(t, "", "create", "serviceaccount", "controller-manager", "-n", saNamespace)
		mustKubectl(t, "", "create", "rolebinding", "sa-leader-election", "-n", "system", "--role=leader-election-role",
			"--serviceaccount="+saNamespace+":controller-manager")
	}
	rendered := mustKubectl(t, "", "kustomize", filepath.Join(root, "config", "rbac-namespaced"))
	mustKubectl(t, strings.ReplaceAll(rendered, "WATCHED_NAMESPACE", ns), "apply", "-f", "-")

	token := strings.TrimSpace(mustKubectl(t, "", "create", "token", "controller-manager", "-n", saNamespace))
	kubeconfig := filepath.Join(work, "sa-"+ns+".kubeconfig")
	admin, err := os.ReadFile(adminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kubeconfig, admin, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"config", "set-credentials", "sa", "--token=" + token},
		{"config", "set-context", "--current", "--user=sa"},
	} {
		if out, err := kubectlWith(kubeconfig, args...); err != nil {
			t.Fatalf("kubectl %v: %v: %s", args, err, out)
		}
	}

	narrow := newManager(kubeconfig, "namespaced.log", "--watch-namespace", ns)
	replaceOperator(t, narrow)

	rt := "namespaced-" + rand.String(12)
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("narrow", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/narrow", "--timeout=90s")
	if log := narrow.Log(); strings.Contains(log, "is forbidden") {
		t.Fatalf("the manager was refused a request:\n%s", log)
	}
}
