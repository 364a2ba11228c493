package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// A leader paused (SIGSTOP: a frozen node, a suspended VM) for longer than its lease, while
// a standby takes over and new work comes in, writes nothing when it wakes: the lease fence
// refuses its writes until its own leader election finds the lease lost and it exits. Each
// replica talks through its own proxy, so every write is attributed to the replica that
// sent it.
func TestAPausedLeaderWritesNothingWhenItWakes(t *testing.T) {
	g := newGomega(t)
	ns := newNamespace(t)
	rt := "paused-" + rand.String(12)
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("paused", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/paused", "--timeout=90s")

	proxyA, proxyB := startAPIProxy(t, operatorUserConfig), startAPIProxy(t, operatorUserConfig)
	a, b := newManager(proxyA.Kubeconfig, "paused-a.log"), newManager(proxyB.Kubeconfig, "paused-b.log")
	replaceOperator(t, a)
	g.Eventually(func() int { return leaderAcquisitions(a) }).Should(Equal(1))
	g.Expect(b.Start()).To(Succeed())
	t.Cleanup(b.Stop)
	g.Eventually(b.Log).Should(ContainSubstring("Attempting to acquire leader lease"))

	var (
		mu     sync.Mutex
		writes []string // what the paused leader wrote, its Lease aside
	)
	proxyA.ObserveResponses(func(resp *http.Response) {
		req := resp.Request
		if req.Method != http.MethodGet && !strings.Contains(req.URL.Path, "/leases") {
			mu.Lock()
			writes = append(writes, req.Method+" "+req.URL.Path)
			mu.Unlock()
		}
	})
	g.Expect(a.Pause()).To(Succeed())
	paused := true
	t.Cleanup(func() {
		if paused {
			_ = a.Resume()
		}
	})
	g.Eventually(func() int { return leaderAcquisitions(b) }, time.Minute).Should(Equal(1), "the standby takes over")
	// Work waiting for the paused leader when it wakes: a refresh requested meanwhile, which
	// the new leader handles.
	mustKubectl(t, "", "annotate", "-n", ns, "figmatoken/paused", "figma.tokenops.dev/refresh-requested-at=while-paused")
	mustKubectl(t, "", "wait", "-n", ns, "--for=jsonpath={.status.lastHandledRefreshRequest}=while-paused", "figmatoken/paused", "--timeout=60s")

	g.Expect(a.Resume()).To(Succeed())
	paused = false
	g.Eventually(a.Exited(), time.Minute).Should(BeClosed(), "the woken replica finds its lease lost and exits")
	mu.Lock()
	defer mu.Unlock()
	g.Expect(writes).To(BeEmpty(), "the deposed leader wrote after it woke")
	g.Expect(fake.Calls(rt)).To(Equal(2), "the first refresh and the requested one, by the new leader")
}
