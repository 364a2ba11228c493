package e2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// There is no kubelet here, so hack/kubernetes/secret-projector projects the Secret with the
// kubelet's own code (MakePayload and AtomicWriter) on every change, as a Secret volume
// would. A reader polling the file across several refreshes must always see a complete,
// current token.
func TestPodsReadingTheMountedSecretAlwaysSeeACurrentToken(t *testing.T) {
	g := newGomega(t)
	ns := newNamespace(t)
	rt := "mounted-" + rand.String(16)
	fake.SetBehavior(rt, fakeamplify.Behavior{Lifetime: 6 * time.Second})
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("mounted", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/mounted", "--timeout=90s")

	mount := filepath.Join(work, "mount-"+ns)
	startProjector(t, ns, "creds", mount)
	tokenFile := filepath.Join(mount, "accessToken")
	g.Eventually(func() error { _, err := os.Stat(tokenFile); return err }).Should(Succeed())

	const wantRefreshes = 3
	startIssued := len(fake.IssuedFor(rt))
	seen := map[string]bool{}
	reads := 0
	ticker := time.NewTicker(5 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.After(2 * time.Minute)
	for len(fake.IssuedFor(rt)) < startIssued+wantRefreshes || len(seen) < wantRefreshes+1 {
		select {
		case <-deadline:
			t.Fatalf("after %d reads: %d refreshes issued, %d distinct tokens read", reads, len(fake.IssuedFor(rt))-startIssued, len(seen))
		case <-ticker.C:
		}
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			t.Fatalf("read %d: the mounted token is missing: %v", reads, err)
		}
		reads++
		token := string(data)
		issued := fake.IssuedFor(rt) // after the read: the token read is in it
		at := slices.Index(issued, token)
		if at < 0 {
			t.Fatalf("read %d: the mounted file holds an empty, partial or unknown token (%d bytes)", reads, len(data))
		}
		if at < len(issued)-2 {
			t.Fatalf("read %d: the mounted token is %d refreshes old", reads, len(issued)-1-at)
		}
		seen[token] = true
	}
	t.Logf("%d reads across %d refreshes, all complete and current", reads, len(seen)-1)
}

// startProjector builds and runs hack/kubernetes/secret-projector for one Secret.
func startProjector(t *testing.T, namespace, secret, dir string) {
	t.Helper()
	binary := filepath.Join(work, "secret-projector")
	if _, err := os.Stat(binary); err != nil {
		cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-o", binary, "./secret-projector")
		cmd.Dir = filepath.Join(root, "hack", "kubernetes")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building secret-projector: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(binary, "--kubeconfig", adminKubeconfig, "--namespace", namespace, "--secret", secret, "--dir", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}
