package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Crash consistency: the manager is killed between the upstream answer and the Secret write,
// and between the Secret write and the status write. After a restart the Secret holds a valid
// token and status converges from the Secret's own annotations.
func TestCrashBetweenWrites(t *testing.T) {
	proxy := newAPIProxy(t, operatorUserConfig)
	crashy := &managerProcess{binary: operator.binary, kubeconfig: proxy.kubeconfig, logPath: filepath.Join(work, "crashy.log")}
	replaceOperator(t, crashy)

	t.Run("between the upstream answer and the Secret write", func(t *testing.T) {
		g := newGomega(t)
		ns := newNamespace(t)
		rt := "crash-before-write-" + rand.String(12)
		proxy.holdRequests(func(r *http.Request) bool {
			return r.Method == http.MethodPut && r.URL.Path == "/api/v1/namespaces/"+ns+"/secrets/creds"
		})
		mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("crash", "creds"), "apply", "-n", ns, "-f", "-")
		g.Eventually(proxy.held).Should(Receive())
		g.Expect(fake.Calls(rt)).To(Equal(1), "the upstream answered")

		crashy.kill()
		proxy.holdRequests(nil)
		g.Expect(mustKubectl(t, "", "get", "secret", "creds", "-n", ns, "-o", "jsonpath={.data.accessToken}")).To(BeEmpty(), "the write never happened")
		g.Expect(crashy.start()).To(Succeed())

		mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/crash", "--timeout=90s")
		expectStatusMirrorsSecret(t, g, ns, "crash")
		// The token from the lost answer is gone with the process: one more call gets another.
		g.Expect(fake.Calls(rt)).To(Equal(2))
	})

	t.Run("between the Secret write and the status write", func(t *testing.T) {
		g := newGomega(t)
		ns := newNamespace(t)
		rt := "crash-after-write-" + rand.String(12)
		proxy.holdRequests(func(r *http.Request) bool {
			return r.Method == http.MethodPatch && r.URL.Path == "/apis/figma.tokenops.dev/v1alpha1/namespaces/"+ns+"/figmatokens/crash/status"
		})
		mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("crash", "creds"), "apply", "-n", ns, "-f", "-")
		g.Eventually(proxy.held).Should(Receive())
		g.Expect(mustKubectl(t, "", "get", "secret", "creds", "-n", ns, "-o", "jsonpath={.data.accessToken}")).NotTo(BeEmpty(), "the Secret was written")

		crashy.kill()
		proxy.holdRequests(nil)
		g.Expect(mustKubectl(t, "", "get", "figmatoken", "crash", "-n", ns, "-o", "jsonpath={.status}")).To(BeEmpty(), "the status write never happened")
		g.Expect(crashy.start()).To(Succeed())

		mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/crash", "--timeout=90s")
		expectStatusMirrorsSecret(t, g, ns, "crash")
		g.Expect(fake.Calls(rt)).To(Equal(1), "status converged from the Secret, with no new call")
	})
}

// expectStatusMirrorsSecret checks that status.expiresAt is the Secret's expires-at annotation
// and that it lies in the future.
func expectStatusMirrorsSecret(t *testing.T, g Gomega, ns, name string) {
	t.Helper()
	annotation := mustKubectl(t, "", "get", "secret", "creds", "-n", ns, "-o", `jsonpath={.metadata.annotations.figma\.tokenops\.dev/expires-at}`)
	status := mustKubectl(t, "", "get", "figmatoken", name, "-n", ns, "-o", "jsonpath={.status.expiresAt}")
	g.Expect(status).To(Equal(annotation))
	expiry, err := time.Parse(time.RFC3339, annotation)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(expiry).To(BeTemporally(">", time.Now()))
}
