package controllers_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// With spec.refreshInterval, a 90-day token's next refresh is planned an interval after
// its last, not two months away: a revoked grant shows within the interval.
func TestRefreshIntervalPlansTheNextRefreshFarFromExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("interval")
	fake.SetBehavior(rt, fakeamplify.Behavior{Lifetime: 90 * 24 * time.Hour})
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("daily", "creds", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshInterval = "24h" })
	st := f.waitReady("daily").Status
	f.g.Eventually(func() time.Time {
		next := f.figmaToken("daily").Status.NextRefreshTime
		if next == nil {
			return time.Time{}
		}
		return next.Time
	}).Should(BeTemporally("==", st.LastRefreshTime.Add(24*time.Hour)))
	f.g.Expect(st.ExpiresAt.Sub(st.LastRefreshTime.Time)).To(BeNumerically(">", 89*24*time.Hour))
	f.g.Expect(fake.Calls(rt)).To(Equal(1))
}
