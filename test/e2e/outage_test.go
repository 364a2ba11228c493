package e2e

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// The API server becomes unreachable while the operator runs (every connection, watches
// included, is cut and new ones are refused, as during a restart of the API server), then
// comes back. The operator reconnects and carries on: tokens keep being refreshed, new
// FigmaTokens are served, and no token is refreshed twice.
func TestOperatorCarriesOnAfterAPIServerOutage(t *testing.T) {
	g := newGomega(t)
	proxy := startAPIProxy(t, operatorUserConfig)
	behindProxy := newManager(proxy.Kubeconfig, "outage.log")
	replaceOperator(t, behindProxy)

	ns := newNamespace(t)
	rt := "outage-" + rand.String(12)
	fake.SetBehavior(rt, fakeamplify.Behavior{Lifetime: 20 * time.Second})
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("steady", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/steady", "--timeout=90s")

	proxy.Down()
	g.Eventually(behindProxy.Log, "60s").Should(ContainSubstring("connection refused"), "the operator noticed the outage")
	g.Expect(proxy.Up()).To(Succeed())

	mustKubectl(t, secretYAML("later", "later-"+rand.String(12))+"---\n"+figmaTokenYAML("later", "later"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/later", "--timeout=90s")
	// The token from before the outage is refreshed on schedule once it is due.
	g.Eventually(func() int { return fake.Calls(rt) }, "60s").Should(Equal(2))
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/steady", "--timeout=30s")
}
