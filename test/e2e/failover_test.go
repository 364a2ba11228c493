package e2e

import (
	"math"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Two replicas with leader election; the leader is killed; the standby takes over. No token
// lapses, and a failover costs at most one extra refresh.
func TestLeaderFailoverKeepsTokensFresh(t *testing.T) {
	g := newGomega(t)
	ns := newNamespace(t)
	const lifetime = 12 * time.Second
	rt := "failover-" + rand.String(16)
	fake.SetBehavior(rt, fakeamplify.Behavior{Lifetime: lifetime})
	mustKubectl(t, secretYAML("creds", rt)+"---\n"+figmaTokenYAML("ha", "creds"), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "figmatoken/ha", "--timeout=90s")

	standby := newManager(operatorKubeconfig, "standby.log")
	g.Expect(standby.Start()).To(Succeed())
	g.Eventually(standby.Log).Should(ContainSubstring("Attempting to acquire leader lease"))
	g.Expect(leaderAcquisitions(standby)).To(BeZero(), "the running manager still leads")

	start, callsBefore := time.Now(), fake.Calls(rt)
	operator.Kill()
	g.Eventually(func() int { return leaderAcquisitions(standby) }).Should(Equal(1))
	failover := time.Since(start)

	// Watch two more refresh cycles under the new leader, checking the token never lapses.
	watchUntil := time.Now().Add(2 * lifetime)
	for time.Now().Before(watchUntil) {
		expires := mustKubectl(t, "", "get", "secret", "creds", "-n", ns, "-o", `jsonpath={.metadata.annotations.figma\.tokenops\.dev/expires-at}`)
		expiry, err := time.Parse(time.RFC3339, expires)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(expiry).To(BeTemporally(">", time.Now()), "the token lapsed during the failover")
		ready := mustKubectl(t, "", "get", "figmatoken", "ha", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		g.Expect(ready).To(Equal("True"))
	}

	// Refreshes come every 2/3 of the lifetime less up to 5% jitter: at most one more than that.
	elapsed := time.Since(start)
	cycles := int(math.Ceil(elapsed.Seconds() / (lifetime.Seconds() * (2.0/3 - 0.05))))
	calls := fake.Calls(rt) - callsBefore
	t.Logf("failover took %s; %d refreshes in %s (%d cycles)", failover.Round(time.Millisecond), calls, elapsed.Round(time.Second), cycles)
	g.Expect(calls).To(BeNumerically("<=", cycles+1), "more than one duplicate refresh per failover")
	g.Expect(calls).To(BeNumerically(">=", 2), "the new leader refreshes")

	// The standby is the operator from now on.
	operator = standby
}
