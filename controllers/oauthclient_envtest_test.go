package controllers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

// The Figma upstream and its OAuth clients (CONTRACT.md, "Upstreams and OAuth clients"),
// against the fake Figma endpoint, which enforces HTTP Basic client authentication.

// figmaClient creates a FigmaOAuthClient "design-app" of the fixture's namespace, with its
// client secret in Secret "figma-oauth-app".
func (f *fixture) figmaClient(secret string) *figmav1alpha1.FigmaOAuthClient {
	f.t.Helper()
	f.createSecret("figma-oauth-app", map[string]string{"clientSecret": secret})
	c := &figmav1alpha1.FigmaOAuthClient{
		ObjectMeta: metav1.ObjectMeta{Name: "design-app", Namespace: f.ns},
		Spec: figmav1alpha1.OAuthClientSpec{ClientID: figmaAppID, Figma: &figmav1alpha1.FigmaUpstream{
			ClientSecretRef: figmav1alpha1.ClientSecretRef{Name: "figma-oauth-app"}}},
	}
	f.g.Expect(k8s.Create(context.Background(), c)).To(Succeed())
	return c
}

// viaClient names an OAuth client in spec.clientRef.
func viaClient(kind, name string) func(*figmav1alpha1.FigmaToken) {
	return func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.ClientRef = &figmav1alpha1.ClientRef{Kind: kind, Name: figmav1alpha1.DNSSubdomain(name)}
	}
}

// clientReady is "Status/Reason" of a FigmaOAuthClient's Ready condition.
func (f *fixture) clientReady(name string) func() string {
	return func() string {
		c := &figmav1alpha1.FigmaOAuthClient{}
		if err := k8s.Get(context.Background(), objectKey(f.ns, name), c); err != nil {
			return err.Error()
		}
		if r := meta.FindStatusCondition(c.Status.Conditions, figmav1alpha1.ConditionReady); r != nil {
			return string(r.Status) + "/" + r.Reason + "/" + c.Status.Upstream
		}
		return ""
	}
}

func TestAFigmaTokenThroughAFigmaOAuthClientIsReadyWithOneCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.figmaClient(figmaAppSecret)
	rt := uniqueToken("figma")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("design", "creds", viaClient("", "design-app"))

	f.waitReady("design")
	f.g.Eventually(f.clientReady("design-app")).Should(Equal("True/Usable/Figma"))
	f.g.Expect(figmaFake.Calls(rt)).To(Equal(1))
	f.g.Expect(fake.Calls(rt)).To(BeZero(), "no Amplify call")
	creds := f.secret("creds")
	f.g.Expect(string(creds.Data["refreshToken"])).To(Equal(rt), "Figma does not rotate refresh tokens")
	f.g.Expect(figmaFake.IssuedFor(rt)).To(ContainElement(string(creds.Data["accessToken"])))
	f.expectNoLeak(rt, figmaAppSecret)
}

func TestACodeIsExchangedOnceAtFigmaWithItsVerifier(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.figmaClient(figmaAppSecret)
	code, verifier := uniqueToken("code"), uniqueToken("verifier")
	f.createSecret("creds", map[string]string{"code": code, "redirectUri": "http://127.0.0.1:8765/callback", "codeVerifier": verifier})
	f.createFigmaToken("bootstrap", "creds", viaClient(figmav1alpha1.KindFigmaOAuthClient, "design-app"))

	f.waitReady("bootstrap")
	f.g.Consistently(func() int { return figmaFake.Calls(code) }).Should(Equal(1), "a code is sent once")
	f.g.Expect(figmaFake.VerifierFor(code)).To(Equal(verifier))
	data := f.secret("creds").Data
	f.g.Expect(figmaFake.Exchanged()).To(ContainElement(string(data["refreshToken"])))
	for _, spent := range []string{"code", "redirectUri", "codeVerifier"} {
		f.g.Expect(data).NotTo(HaveKey(spent))
	}
	f.expectNoLeak(code, verifier, figmaAppSecret, string(data["refreshToken"]))
}

func TestInvalidGrantAtFigmaIsRefreshRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.figmaClient(figmaAppSecret)
	bad := uniqueToken("revoked")
	figmaFake.SetBehavior(bad, fakefigma.Behavior{Reject: true})
	f.createSecret("creds", map[string]string{"refreshToken": bad})
	f.createFigmaToken("revoked", "creds", viaClient("", "design-app"))

	f.g.Eventually(f.condition("revoked", figmav1alpha1.ConditionStalled)).Should(Equal("True/RefreshRejected"))
	f.g.Expect(f.condition("revoked", figmav1alpha1.ConditionReady)()).To(Equal("False/RefreshRejected"))
	f.g.Expect(f.figmaToken("revoked").Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("invalid_grant, HTTP 400"))))
	f.expectNoLeak(bad, figmaAppSecret)
}

// A wrong client secret is the client's fault: OAuthClientRejected, and fixing the Secret
// is tried at once, not after the backoff.
func TestAWrongClientSecretIsOAuthClientRejectedAndRecoversWhenTheSecretIsFixed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.figmaClient("wrong-client-secret")
	rt := uniqueToken("wrong-secret")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("wrong", "creds", viaClient("", "design-app"))

	f.g.Eventually(f.condition("wrong", figmav1alpha1.ConditionStalled)).Should(Equal("True/OAuthClientRejected"))
	f.g.Expect(f.eventReasons()).To(ContainElement(figmav1alpha1.ReasonOAuthClientRejected))
	clientSecret := f.secret("figma-oauth-app")
	f.update(clientSecret, func() { clientSecret.Data["clientSecret"] = []byte(figmaAppSecret) })
	f.waitReady("wrong")
	f.g.Expect(f.condition("wrong", figmav1alpha1.ConditionStalled)()).To(BeEmpty())
	f.expectNoLeak(rt, figmaAppSecret, "wrong-client-secret")
}

// A client whose Secret is missing is not Ready, and its FigmaTokens are Stalled before any
// call; once the Secret is there they go on.
func TestAClientWithoutItsSecretStallsItsFigmaTokensBeforeAnyCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := &figmav1alpha1.FigmaOAuthClient{
		ObjectMeta: metav1.ObjectMeta{Name: "design-app", Namespace: f.ns},
		Spec: figmav1alpha1.OAuthClientSpec{ClientID: figmaAppID, Figma: &figmav1alpha1.FigmaUpstream{
			ClientSecretRef: figmav1alpha1.ClientSecretRef{Name: "figma-oauth-app"}}},
	}
	f.g.Expect(k8s.Create(context.Background(), c)).To(Succeed())
	rt := uniqueToken("no-client-secret")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("waiting", "creds", viaClient("", "design-app"))

	f.g.Eventually(f.condition("waiting", figmav1alpha1.ConditionStalled)).Should(Equal("True/OAuthClientNotReady"))
	f.g.Eventually(f.clientReady("design-app")).Should(Equal("False/ClientSecretNotFound/Figma"))
	f.g.Expect(figmaFake.Calls(rt)).To(BeZero())
	f.g.Expect(f.figmaToken("waiting").Status.FailedAttempts).To(BeZero(), "found before any call: not a failed attempt")

	f.createSecret("figma-oauth-app", map[string]string{"clientSecret": figmaAppSecret})
	f.waitReady("waiting")
	f.g.Eventually(f.clientReady("design-app")).Should(Equal("True/Usable/Figma"))
	f.g.Expect(figmaFake.Calls(rt)).To(Equal(1))
}

// Another namespace's FigmaOAuthClient is never used: clientRef has no namespace, and a
// client of the same name elsewhere is not looked at.
func TestAnotherNamespacesClientIsNeverUsed(t *testing.T) {
	t.Parallel()
	owner := newFixture(t)
	owner.figmaClient(figmaAppSecret)
	f := newFixture(t)
	rt := uniqueToken("borrower")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("borrower", "creds", viaClient("", "design-app"))

	f.g.Eventually(f.condition("borrower", figmav1alpha1.ConditionStalled)).Should(Equal("True/OAuthClientNotReady"))
	f.g.Expect(f.figmaToken("borrower").Status.Conditions).To(ContainElement(HaveField("Message",
		ContainSubstring("FigmaOAuthClient design-app not found in namespace "+f.ns))))
	f.g.Consistently(func() int { return figmaFake.Calls(rt) }).Should(BeZero())
}

// A ClusterFigmaOAuthClient serves the namespaces its selector admits: a FigmaToken outside
// is refused with no call, and goes on once its namespace gets the label.
func TestAClusterClientIsUsedOnlyInTheNamespacesItAdmits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	name := "cluster-app-" + rand.String(6)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: clusterResourceNamespace},
		StringData: map[string]string{"clientSecret": figmaAppSecret}}
	f.g.Expect(k8s.Create(context.Background(), secret)).To(Succeed())
	admit := "admit-" + rand.String(6)
	cc := &figmav1alpha1.ClusterFigmaOAuthClient{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: figmav1alpha1.ClusterOAuthClientSpec{
			OAuthClientSpec: figmav1alpha1.OAuthClientSpec{ClientID: figmaAppID, Figma: &figmav1alpha1.FigmaUpstream{
				ClientSecretRef: figmav1alpha1.ClientSecretRef{Name: figmav1alpha1.DNSSubdomain(name)}}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"figma.tokenops.dev/clients": admit}},
		}}
	f.g.Expect(k8s.Create(context.Background(), cc)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), cc) })
	rt := uniqueToken("tenant")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("tenant", "creds", viaClient(figmav1alpha1.KindClusterFigmaOAuthClient, name))

	f.g.Eventually(f.condition("tenant", figmav1alpha1.ConditionStalled)).Should(Equal("True/OAuthClientNotReady"))
	f.g.Expect(f.figmaToken("tenant").Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("does not admit namespace "+f.ns))))
	f.g.Consistently(func() int { return figmaFake.Calls(rt) }).Should(BeZero())
	f.g.Eventually(func() string {
		got := &figmav1alpha1.ClusterFigmaOAuthClient{}
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(cc), got)
		return got.Status.Upstream + "/" + string(meta.FindStatusCondition(got.Status.Conditions, figmav1alpha1.ConditionReady).Status)
	}).Should(Equal("Figma/True"))

	ns := &corev1.Namespace{}
	f.g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: f.ns}, ns)).To(Succeed())
	f.update(ns, func() { ns.Labels["figma.tokenops.dev/clients"] = admit })
	f.waitReady("tenant")
	f.g.Expect(figmaFake.Calls(rt)).To(Equal(1))
	f.expectNoLeak(rt, figmaAppSecret)
}

// Moving a Ready FigmaToken from Amplify to a Figma client costs no call while its token is
// valid; the next refresh goes to Figma.
func TestSwitchingFromAmplifyToFigmaCostsNoCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.figmaClient(figmaAppSecret)
	ft, rt := f.readyFigmaToken("switch")
	f.g.Expect(fake.Calls(rt)).To(Equal(1))

	f.update(ft, func() { ft.Spec.ClientRef = &figmav1alpha1.ClientRef{Name: "design-app"} })
	f.g.Eventually(func() int64 { return f.figmaToken("switch").Status.ObservedGeneration }).Should(Equal(ft.Generation))
	f.g.Consistently(func() int { return fake.Calls(rt) + figmaFake.Calls(rt) }).Should(Equal(1), "no call for a switch")
	f.g.Expect(f.condition("switch", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))

	f.update(ft, func() {
		ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: time.Now().UTC().Format(time.RFC3339)}
	})
	f.g.Eventually(func() int { return figmaFake.Calls(rt) }).Should(Equal(1), "the next refresh goes through the new client")
	f.g.Expect(fake.Calls(rt)).To(Equal(1))
}

// Retry-After on a 429 holds the FigmaToken back until then, also across a restart.
func TestRetryAfterIsObeyedAcrossARestart(t *testing.T) {
	f := newFixture(t)
	f.figmaClient(figmaAppSecret)
	rt := uniqueToken("throttled")
	figmaFake.FailNext(rt, 1, fakefigma.Failure{Status: http.StatusTooManyRequests, RetryAfter: "8"})
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("throttled", "creds", viaClient("", "design-app"))

	var until time.Time
	f.g.Eventually(func() *metav1.Time { return f.figmaToken("throttled").Status.RetryAfter }).ShouldNot(BeNil())
	until = f.figmaToken("throttled").Status.RetryAfter.Time
	f.g.Expect(f.condition("throttled", figmav1alpha1.ConditionReconciling)()).To(Equal("True/RefreshFailed"))
	f.g.Expect(f.figmaToken("throttled").Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("no request before"))))
	restartManager(t)

	f.waitReady("throttled")
	calls := figmaFake.CallTimes(rt)
	f.g.Expect(calls).To(HaveLen(2))
	f.g.Expect(calls[1]).To(BeTemporally(">=", until), "no request before Retry-After")
	f.g.Expect(f.figmaToken("throttled").Status.RetryAfter).To(BeNil(), "cleared by the success")
}

// A manager without an AWS region starts, serves Figma FigmaTokens, and stalls Amplify ones
// before any call, saying how to turn Amplify on.
func TestAManagerWithoutARegionServesFigmaTokens(t *testing.T) {
	(*stopMgr.Load())()
	if err := startManagerWith(operator.Upstreams{Figma: figmaAPI}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restartManager(t) })
	f := newFixture(t)
	f.figmaClient(figmaAppSecret)
	viaFigma, viaAmplify := uniqueToken("figma-no-region"), uniqueToken("amplify-no-region")
	f.createSecret("figma-creds", map[string]string{"refreshToken": viaFigma})
	f.createSecret("creds", map[string]string{"refreshToken": viaAmplify})
	f.createFigmaToken("figma", "figma-creds", viaClient("", "design-app"))
	f.createFigmaToken("amplify", "creds")

	f.waitReady("figma")
	f.g.Eventually(f.condition("amplify", figmav1alpha1.ConditionStalled)).Should(Equal("True/AWSAccessDenied"))
	stalled := meta.FindStatusCondition(f.figmaToken("amplify").Status.Conditions, figmav1alpha1.ConditionStalled)
	f.g.Expect(stalled.Message).To(And(ContainSubstring("--aws-region"), ContainSubstring("AWS_REGION")))
	f.g.Expect(f.figmaToken("amplify").Status.FailedAttempts).To(BeZero())
	f.g.Expect(fake.Calls(viaAmplify)).To(BeZero())
	f.g.Expect(strings.Count(strings.Join(f.eventReasons(), ","), figmav1alpha1.ReasonAWSAccessDenied)).To(Equal(1))
}
