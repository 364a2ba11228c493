package e2e

import (
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Crash consistency: the manager is killed between the upstream answer and the Secret write,
// and between the Secret write and the status write. After a restart the Secret holds a valid
// token and status converges from the Secret's own annotations.
func TestCrashBetweenWrites(t *testing.T) {
	proxy := startAPIProxy(t, operatorUserConfig)
	crashy := newManager(proxy.Kubeconfig, "crashy.log")
	replaceOperator(t, crashy)

	tests := []struct {
		name string
		// held is the request the manager is killed in.
		held func(r *http.Request, ns string) bool
		// afterCrash checks what the crash left behind.
		afterCrash func(t *testing.T, g Gomega, ns string)
		// calls is how many upstream calls it takes in all.
		calls int
	}{
		{
			name: "between the upstream answer and the Secret write",
			held: func(r *http.Request, ns string) bool {
				return r.Method == http.MethodPut && r.URL.Path == "/api/v1/namespaces/"+ns+"/secrets/creds"
			},
			afterCrash: func(t *testing.T, g Gomega, ns string) {
				g.Expect(mustKubectl(t, "", "get", "secret", "creds", "-n", ns, "-o", "jsonpath={.data.accessToken}")).To(BeEmpty(), "the write never happened")
			},
			// The token in the lost answer is gone with the process: one more call gets another.
			calls: 2,
		},
		{
			name: "between the Secret write and the status write",
			held: func(r *http.Request, ns string) bool {
				return r.Method == http.MethodPatch && r.URL.Path == "/apis/figma.tokenops.dev/v1alpha1/namespaces/"+ns+"/figmatokens/crash/status"
			},
			afterCrash: func(t *testing.T, g Gomega, ns string) {
				g.Expect(mustKubectl(t, "", "get", "secret", "creds", "-n", ns, "-o", "jsonpath={.data.accessToken}")).NotTo(BeEmpty(), "the Secret was written")
				g.Expect(mustKubectl(t, "", "get", "figmatoken", "crash", "-n", ns, "-o", "jsonpath={.status}")).To(BeEmpty(), "the status write never happened")
			},
			// Status converges from the Secret, with no new call.
			calls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGomega(t)
			ns := newNamespace(t)
			rt := "crash-" + rand.String(12)
			proxy.Hold(func(r *http.Request) bool { return tt.held(r, ns) })
			mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("crash", "creds"), "apply", "-n", ns, "-f", "-")
			g.Eventually(proxy.Held()).Should(Receive())
			g.Expect(fake.Calls(rt)).To(Equal(1), "the upstream answered")

			crashy.Kill()
			proxy.Hold(nil)
			tt.afterCrash(t, g, ns)
			g.Expect(crashy.Start()).To(Succeed())

			mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/crash", "--timeout=90s")
			expectStatusMirrorsSecret(t, g, ns, "crash")
			g.Expect(fake.Calls(rt)).To(Equal(tt.calls))
		})
	}
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
