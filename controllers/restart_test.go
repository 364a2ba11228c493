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
