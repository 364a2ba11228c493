package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// After a restart the cache is trusted for the Secret version the operator wrote, but never
// for a spec changed since: a refreshTokenKey pointing at a missing key is RefreshTokenMissing,
// not Ready from trust.
func TestASpecChangeAfterARestartIsReadFromTheSecret(t *testing.T) {
	f := newFixture(t)
	ft, _ := f.readyFigmaToken("moved")
	restartManager(t)
	f.update(ft, func() { ft.Spec.SecretRef.RefreshTokenKey = "missing" })
	f.g.Eventually(f.condition("moved", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonRefreshTokenMissing))
	f.g.Eventually(func() int64 { return f.figmaToken("moved").Status.ObservedGeneration }).Should(Equal(ft.Generation))
}

// A spec change that changes what the Secret must hold is applied at once from the token it
// holds, without an upstream call, after a restart too (nothing kept in memory): a new
// accessTokenKey gets the token, a new expiresAtKey the expiry.
func TestNewKeysAreWrittenFromTheTokenHeldAfterARestart(t *testing.T) {
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("rekeyed")
	token := string(f.secret("creds").Data["accessToken"])
	restartManager(t)
	f.update(ft, func() {
		ft.Spec.SecretRef.AccessTokenKey = "figmaAccessToken"
		ft.Spec.SecretRef.ExpiresAtKey = "expiresAt"
	})
	f.g.Eventually(f.secretValue("creds", "figmaAccessToken")).Should(Equal(token))
	f.g.Eventually(f.secretValue("creds", "expiresAt")).Should(Equal(f.secret("creds").Annotations[figmav1alpha1.AnnotationExpiresAt]))
	f.g.Expect(f.secret("creds").Data).NotTo(HaveKey("accessToken"), "the token under the old key goes")
	f.g.Eventually(f.condition("rekeyed", figmav1alpha1.ConditionReady)).Should(Equal("True/Refreshed"))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1), "no upstream call for a spec change")
}

// Setting expiresAtKey on a Ready FigmaToken writes the expiry at once, not at the next refresh.
func TestSettingExpiresAtKeyWritesTheExpiryAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("expiry")
	f.update(ft, func() { ft.Spec.SecretRef.ExpiresAtKey = "expiresAt" })
	f.g.Eventually(f.secretValue("creds", "expiresAt")).Should(Equal(f.secret("creds").Annotations[figmav1alpha1.AnnotationExpiresAt]))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}
