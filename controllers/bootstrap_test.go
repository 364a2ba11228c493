package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

const redirectURI = "https://design.example.com/oauth/callback"

func TestAuthorizationCodeIsExchangedOnceThenRefreshed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := uniqueToken("code")
	f.createSecret("creds", map[string]string{"code": code, "redirectUri": redirectURI, "other": "kept"})
	ft := f.createFigmaToken("design", "creds")

	f.waitReady("design")
	secret := f.secret("creds")
	refreshToken := string(secret.Data["refreshToken"])
	f.g.Expect(refreshToken).NotTo(BeEmpty(), "the exchanged refresh token is stored")
	f.g.Expect(string(secret.Data["accessToken"])).To(BeElementOf(fake.Issued()))
	f.g.Expect(secret.Data).NotTo(HaveKey("code"), "a used code is removed")
	f.g.Expect(string(secret.Data["redirectUri"])).To(Equal(redirectURI))
	f.g.Expect(string(secret.Data["other"])).To(Equal("kept"))
	f.g.Eventually(f.eventReasons).Should(ContainElement(figmav1alpha1.ReasonRefreshed))

	// From now on the stored refresh token is used, and the code never again.
	f.update(ft, func() { ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "now"} })
	f.g.Eventually(func() int { return fake.Calls(refreshToken) }).Should(Equal(1))
	f.g.Consistently(func() int { return fake.Calls(code) }).Should(Equal(1))
	f.expectNoLeak(code, refreshToken)
}

func TestUsedAuthorizationCodeStalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := uniqueToken("used-code")
	fake.SetBehavior(code, fakeamplify.Behavior{Reject: true})
	f.createSecret("creds", map[string]string{"code": code, "redirectUri": redirectURI})
	f.createFigmaToken("design", "creds")

	f.g.Eventually(f.condition("design", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonRefreshRejected))
	stalled := meta.FindStatusCondition(f.figmaToken("design").Status.Conditions, figmav1alpha1.ConditionStalled)
	f.g.Expect(stalled.Message).To(ContainSubstring("authorization code"))
	f.g.Expect(stalled.Message).To(ContainSubstring("InvalidParameterException"))
	f.g.Expect(string(f.secret("creds").Data["code"])).To(Equal(code), "a refused code is left for the user to see")
	f.g.Consistently(func() int { return fake.Calls(code) }).Should(Equal(1), "a refused code is not tried again")
	f.expectNoLeak(code)

	// A new code is tried at once, without waiting out the slow backoff.
	fresh := uniqueToken("fresh-code")
	secret := f.secret("creds")
	f.update(secret, func() { secret.Data["code"] = []byte(fresh) })
	f.waitReady("design")
	f.g.Expect(fake.Calls(fresh)).To(Equal(1))
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionStalled)()).To(BeEmpty())
}

func TestAuthorizationCodeWithTarget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := uniqueToken("code-target")
	f.createSecret("creds", map[string]string{"code": code, "redirectUri": redirectURI})
	f.createFigmaToken("design", "creds", withTarget("figma-access"))

	f.waitReady("design")
	source, target := f.secret("creds"), f.secret("figma-access")
	f.g.Expect(source.Data).To(HaveKey("refreshToken"))
	f.g.Expect(source.Data).NotTo(HaveKey("code"))
	f.g.Expect(source.Data).NotTo(HaveKey("accessToken"))
	f.g.Expect(target.Data).NotTo(HaveKey("refreshToken"))
	f.g.Expect(string(target.Data["accessToken"])).To(BeElementOf(fake.Issued()))
	f.g.Consistently(func() int { return fake.Calls(code) }).Should(Equal(1))
}

func TestAuthorizationCodeWithoutRedirectURIIsMissing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := uniqueToken("code-alone")
	f.createSecret("creds", map[string]string{"code": code})
	f.createFigmaToken("design", "creds")

	f.g.Eventually(f.condition("design", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonRefreshTokenMissing))
	f.g.Expect(fake.Calls(code)).To(BeZero())
}

// A code works once. When its tokens cannot be stored (the Secret vanished during the
// exchange), they are kept and stored once the Secret is back, without a second exchange.
func TestExchangedTokensSurviveAFailedWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := uniqueToken("code-kept")
	fake.SetBehavior(code, fakeamplify.Behavior{Delay: 3 * time.Second})
	f.createSecret("creds", map[string]string{"code": code, "redirectUri": redirectURI})
	f.createFigmaToken("design", "creds")

	f.g.Eventually(func() int { return fake.Calls(code) }).Should(Equal(1)) // the exchange is in flight
	f.g.Expect(k8s.Delete(context.Background(), f.secret("creds"))).To(Succeed())
	f.g.Eventually(f.condition("design", figmav1alpha1.ConditionReady)).Should(Equal("False/" + figmav1alpha1.ReasonSecretNotFound))

	f.createSecret("creds", map[string]string{"code": code, "redirectUri": redirectURI})
	f.waitReady("design")
	secret := f.secret("creds")
	f.g.Expect(secret.Data).To(HaveKey("refreshToken"))
	f.g.Expect(secret.Data).NotTo(HaveKey("code"))
	f.g.Expect(fake.Calls(code)).To(Equal(1), "the code was exchanged once")
}

// An exchange whose access token is unusable still yields a good refresh token: it is kept
// and refreshed on the next attempt, and the spent code is not sent again.
func TestExchangeWithAnUnusableAccessTokenRefreshesTheKeptToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code := uniqueToken("code-unusable")
	zero := int64(0)
	fake.SetBehavior(code, fakeamplify.Behavior{ExpiresIn: &zero})
	f.createSecret("creds", map[string]string{"code": code, "redirectUri": redirectURI})
	f.createFigmaToken("design", "creds")

	f.waitReady("design")
	secret := f.secret("creds")
	refreshToken := string(secret.Data["refreshToken"])
	f.g.Expect(refreshToken).NotTo(BeEmpty())
	f.g.Expect(secret.Data).NotTo(HaveKey("code"))
	f.g.Expect(fake.Calls(code)).To(Equal(1), "the code was exchanged once")
	f.g.Expect(fake.Calls(refreshToken)).To(Equal(1), "the kept refresh token gave the access token")
	issued := fake.IssuedFor(refreshToken) // the exchange's unusable token, then the refreshed one
	f.g.Expect(string(secret.Data["accessToken"])).To(Equal(issued[len(issued)-1]))
}
