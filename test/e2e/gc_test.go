package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// garbageCollector is kube-controller-manager running only its garbage collector, so that
// ownerReferences do in the suite what they do in a cluster.
type garbageCollector struct {
	cmd *exec.Cmd
}

// startGarbageCollector starts it from the envtest assets, which hack/envtest.sh builds with
// kube-controller-manager among them: without it the suite cannot test garbage collection,
// and fails rather than skip that test.
func startGarbageCollector(assets, kubeconfig string) (*garbageCollector, error) {
	binary := filepath.Join(assets, "kube-controller-manager")
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("no kube-controller-manager among the envtest assets (run hack/envtest.sh): %w", err)
	}
	logFile, err := os.Create(filepath.Join(work, "kube-controller-manager.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "--kubeconfig", kubeconfig, "--controllers=garbagecollector",
		"--leader-elect=false", "--secure-port=0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &garbageCollector{cmd: cmd}, nil
}

func (g *garbageCollector) stop() {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
	}
}

// Deleting a FigmaToken deletes the target Secret it created (garbage collection through
// its ownerReference) and leaves the source Secret, refresh token included, as it was.
func TestDeletingTheFigmaTokenCollectsItsTargetOnly(t *testing.T) {
	t.Parallel()
	g := newGomega(t)
	ns := newNamespace(t)
	readyWithTarget(t, ns)

	mustKubectl(t, "", "delete", "-n", ns, "figmatoken/design", "--wait=true")
	g.Eventually(func() string {
		out, _ := kubectl(nil, "get", "-n", ns, "secret/figma-access", "-o", "name")
		return out
	}).Should(ContainSubstring("NotFound"))
	refreshToken := mustKubectl(t, "", "get", "-n", ns, "secret/creds", "-o", "jsonpath={.data.refreshToken}")
	g.Expect(strings.TrimSpace(refreshToken)).NotTo(BeEmpty())
}
