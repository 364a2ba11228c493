package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"

	"github.com/tokenops/figma-token-operator/internal/harness"
	assembly "github.com/tokenops/figma-token-operator/internal/operator"
)

// kubectl runs the suite's kubectl as the cluster admin; stdin may be nil.
func kubectl(stdin io.Reader, args ...string) (string, error) {
	return run(stdin, adminKubeconfig, args...)
}

// kubectlWith runs kubectl with another kubeconfig.
func kubectlWith(kubeconfig string, args ...string) (string, error) {
	return run(nil, kubeconfig, args...)
}

func run(stdin io.Reader, kubeconfig string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// mustKubectl runs kubectl and fails the test when it fails.
func mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectl(strings.NewReader(stdin), args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := "e2e-" + rand.String(6)
	mustKubectl(t, "", "create", "namespace", ns)
	return ns
}

func newGomega(t *testing.T) Gomega {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(90 * time.Second)
	g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	g.SetDefaultConsistentlyDuration(3 * time.Second)
	g.SetDefaultConsistentlyPollingInterval(200 * time.Millisecond)
	return g
}

// secretYAML and figmaTokenYAML render the test's objects for kubectl apply.
func secretYAML(name, refreshToken string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n  refreshToken: %q\n", name, refreshToken)
}

func figmaTokenYAML(name, secret string) string {
	return fmt.Sprintf("apiVersion: figma.tokenops.dev/v1alpha1\nkind: FigmaToken\nmetadata:\n  name: %s\nspec:\n  secretRef:\n    name: %s\n", name, secret)
}

// applyShardedFigmaTokens applies a Secret creds-NAME with the refresh token and a
// FigmaToken NAME naming it, for each name of tokens, labeled for a shard where shards
// names one, and waits until all are Ready.
func applyShardedFigmaTokens(t *testing.T, ns string, tokens, shards map[string]string) {
	t.Helper()
	for name, rt := range tokens {
		manifest := secretYAML("creds-"+name, rt) + "---\n" + figmaTokenYAML(name, "creds-"+name)
		if shard := shards[name]; shard != "" {
			manifest = strings.Replace(manifest, "kind: FigmaToken\nmetadata:\n", "kind: FigmaToken\nmetadata:\n  labels:\n    figma.tokenops.dev/shard: "+shard+"\n", 1)
		}
		mustKubectl(t, manifest, "apply", "-n", ns, "-f", "-")
	}
	for name := range tokens {
		mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/"+name, "--timeout=90s")
	}
}

// newManager is the manager binary as the suite runs it: leader election with short leases
// (a killed leader is replaced within seconds), debug logs to logName in the run's folder.
func newManager(kubeconfig, logName string, extraArgs ...string) *harness.Manager {
	return &harness.Manager{
		Binary: filepath.Join(work, "manager"), Kubeconfig: kubeconfig, Endpoint: fakeURL, FigmaEndpoint: figmaURL, LogPath: filepath.Join(work, logName),
		Args: append([]string{
			"--leader-elect", "--leader-election-namespace", "system",
			"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "500ms",
			"--zap-log-level", "debug",
		}, extraArgs...),
	}
}

// replaceOperator stops the suite's manager for the rest of a test and starts m instead;
// the suite's manager comes back when the test ends.
func replaceOperator(t *testing.T, m *harness.Manager) {
	t.Helper()
	operator.Stop() // graceful: it hands its lease back
	t.Cleanup(func() {
		m.Stop()
		operator = newManager(operatorKubeconfig, "manager.log")
		if err := operator.Start(); err != nil {
			t.Fatal(err)
		}
	})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
}

// startAPIProxy puts a proxy between a manager and the API server, as user, for one test.
func startAPIProxy(t *testing.T, user *rest.Config) *harness.APIProxy {
	t.Helper()
	p, err := harness.StartAPIProxy(user, filepath.Join(t.TempDir(), "proxy.kubeconfig"), nil) // one per proxy
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// leaderAcquisitions counts how often a manager became leader, from its log.
func leaderAcquisitions(m *harness.Manager) int {
	return strings.Count(m.Log(), `"msg":"Successfully acquired lease","lock":"system/`+assembly.LeaderElectionID)
}
