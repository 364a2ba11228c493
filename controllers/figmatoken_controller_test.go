package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

func TestFirstRefreshWritesTokenAndKeepsEverythingElse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("first")
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: f.ns, Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "design"}},
		StringData: map[string]string{"refreshToken": rt, "other": "kept"},
	}
	f.g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
	uidBefore := f.secret("creds").UID
	f.createFigmaToken("design", "creds", func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.SecretRef.ExpiresAtKey = "expiresAt"
		ft.Spec.ClientID = "client-1"
	})

	ft := f.waitReady("design")
	secret := f.secret("creds")
	issued := fake.Issued()
	f.g.Expect(string(secret.Data["accessToken"])).To(BeElementOf(issued))
	f.g.Expect(string(secret.Data["refreshToken"])).To(Equal(rt))
	f.g.Expect(string(secret.Data["other"])).To(Equal("kept"))
	f.g.Expect(secret.UID).To(Equal(uidBefore), "the Secret is updated in place")
	f.g.Expect(secret.Labels).To(HaveKeyWithValue("app", "web"))
	f.g.Expect(secret.Annotations).To(HaveKeyWithValue("team", "design"))
	f.g.Expect(secret.Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationOwner, "design"))
	f.g.Expect(secret.Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationRefreshTokenHash, MatchRegexp(`^[0-9a-f]{16}$`)))
	f.g.Expect(secret.Annotations[figmav1alpha1.AnnotationExpiresAt]).To(Equal(ft.Status.ExpiresAt.UTC().Format(time.RFC3339)))
	f.g.Expect(string(secret.Data["expiresAt"])).To(Equal(secret.Annotations[figmav1alpha1.AnnotationExpiresAt]))

	f.g.Expect(ft.Status.SecretName).To(Equal("creds"))
	f.g.Expect(ft.Status.ExpiresAt.Time).To(BeTemporally("~", time.Now().Add(time.Hour), time.Minute))
	f.g.Expect(ft.Status.NextRefreshTime.Time).To(BeTemporally("<", ft.Status.ExpiresAt.Add(-19*time.Minute)))
	f.g.Expect(ft.Status.LastRefreshTime).NotTo(BeNil())
	f.g.Expect(ft.Status.FailedAttempts).To(BeZero())
	f.g.Expect(ft.Status.ObservedGeneration).To(Equal(ft.Generation))

	f.g.Eventually(f.eventReasons).Should(ContainElement(figmav1alpha1.ReasonRefreshed))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1), "the operator's own writes must not cause another call")
	f.expectNoLeak(rt)
}

func TestRefreshesShortLivedTokensBeforeExpiry(t *testing.T) {
	f := newFixture(t)
	rt := uniqueToken("periodic")
	fake.SetBehavior(rt, fakeamplify.Behavior{Lifetime: 6 * time.Second})
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("short", "creds")
	f.waitReady("short")

	seen := map[string]bool{}
	f.g.Eventually(func() int {
		secret := f.secret("creds")
		seen[string(secret.Data["accessToken"])] = true
		// Every token in the Secret is still valid when read: refreshed before it lapsed.
		expires, err := time.Parse(time.RFC3339, secret.Annotations[figmav1alpha1.AnnotationExpiresAt])
		f.g.Expect(err).NotTo(HaveOccurred())
		f.g.Expect(expires).To(BeTemporally(">", time.Now().Add(-time.Second)))
		return len(seen)
	}, 45*time.Second).Should(BeNumerically(">=", 4))
	f.g.Expect(f.condition("short", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))
	f.g.Expect(f.eventReasons()).NotTo(ContainElement(figmav1alpha1.ReasonExpired))
	// The first token is announced; routine refreshes are not.
	f.g.Eventually(func() []string { return f.eventReasons() }).Should(HaveExactElements(figmav1alpha1.ReasonRefreshed))
}

func TestRejectedRefreshTokenStallsWithBoundedCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bad := f.rejectedFigmaToken("rejected")
	f.g.Expect(f.condition("rejected", figmav1alpha1.ConditionReady)()).To(Equal("False/RefreshRejected"))
	ft := f.figmaToken("rejected")
	stalled := meta.FindStatusCondition(ft.Status.Conditions, figmav1alpha1.ConditionStalled)
	f.g.Expect(stalled.Message).To(ContainSubstring("InvalidParameterException"))
	f.g.Expect(stalled.Message).To(ContainSubstring("HTTP 400"))
	f.g.Expect(stalled.Message).To(ContainSubstring("request ID"))
	f.g.Expect(ft.Status.FailedAttempts).To(BeEquivalentTo(1))
	f.g.Eventually(f.eventReasons).Should(ContainElement(figmav1alpha1.ReasonRefreshRejected))
	f.g.Consistently(func() int { return fake.Calls(bad) }).Should(Equal(1), "a rejection is retried slowly")
	f.g.Expect(f.secret("creds").Data).NotTo(HaveKey("accessToken"))
	// Failures are errors, so that --zap-log-level=error still shows them.
	f.g.Expect(logs.String()).To(MatchRegexp(`ERROR\s+refresh failed\s.*"name": "rejected".*InvalidParameterException`))
	// The fake echoes the bad token in its error message; it must go nowhere.
	f.expectNoLeak(bad)

	// A person fixes the refresh token: it is used at once.
	good := uniqueToken("good")
	secret := f.secret("creds")
	f.update(secret, func() { secret.Data["refreshToken"] = []byte(good) })
	f.waitReady("rejected")
	f.g.Expect(f.condition("rejected", figmav1alpha1.ConditionStalled)()).To(BeEmpty())
	f.g.Expect(f.figmaToken("rejected").Status.FailedAttempts).To(BeZero())
	f.g.Expect(fake.Calls(good)).To(Equal(1))
}

func TestServerErrorsAreRetriedUntilRecovery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, code string
		status     int
	}{
		{"500", "InternalServerException", 500},
		{"429", "ThrottlingException", 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rt := uniqueToken("flaky")
			// The SDK tries three times per refresh: the first refresh fails, the second succeeds.
			fake.FailNext(rt, 4, tc.status, tc.code)
			f.createSecret("creds", map[string]string{"refreshToken": rt})
			f.createFigmaToken("flaky", "creds")

			f.g.Eventually(f.condition("flaky", figmav1alpha1.ConditionReconciling)).Should(Equal("True/RefreshFailed"))
			ft := f.figmaToken("flaky")
			f.g.Expect(ft.Status.FailedAttempts).To(BeEquivalentTo(1))
			f.g.Expect(ft.Status.LastFailureTime).NotTo(BeNil())
			f.g.Expect(ft.Status.NextRefreshTime.Time).To(BeTemporally("~", ft.Status.LastFailureTime.Add(5*time.Second), 2*time.Second))
			f.g.Expect(f.condition("flaky", figmav1alpha1.ConditionReady)()).To(Equal("False/RefreshFailed"))

			f.waitReady("flaky")
			f.g.Expect(f.condition("flaky", figmav1alpha1.ConditionReconciling)()).To(BeEmpty())
			f.g.Expect(f.figmaToken("flaky").Status.FailedAttempts).To(BeZero())
			f.g.Expect(fake.Calls(rt)).To(Equal(5))
			f.g.Eventually(f.eventReasons).Should(ContainElements(figmav1alpha1.ReasonRefreshFailed, figmav1alpha1.ReasonRefreshed))
		})
	}
}

func TestSecretCreatedAfterTheFigmaToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.createFigmaToken("early", "later")
	f.g.Eventually(f.condition("early", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretNotFound"))
	f.g.Expect(f.condition("early", figmav1alpha1.ConditionReady)()).To(Equal("False/SecretNotFound"))
	f.g.Eventually(f.eventReasons).Should(ContainElement(figmav1alpha1.ReasonSecretNotFound))

	f.createSecret("later", map[string]string{"refreshToken": uniqueToken("later")})
	f.waitReady("early")
	f.g.Expect(f.condition("early", figmav1alpha1.ConditionStalled)()).To(BeEmpty())
}

func TestRotatedRefreshTokenIsUsedAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first, second := uniqueToken("rot1"), uniqueToken("rot2")
	f.createSecret("creds", map[string]string{"refreshToken": first})
	f.createFigmaToken("rotate", "creds")
	f.waitReady("rotate")
	hashBefore := f.secret("creds").Annotations[figmav1alpha1.AnnotationRefreshTokenHash]

	secret := f.secret("creds")
	f.update(secret, func() { secret.Data["refreshToken"] = []byte(second) })
	f.g.Eventually(func() int { return fake.Calls(second) }).Should(Equal(1))
	f.g.Eventually(func() string {
		return f.secret("creds").Annotations[figmav1alpha1.AnnotationRefreshTokenHash]
	}).ShouldNot(Equal(hashBefore))
	f.g.Expect(string(f.secret("creds").Data["refreshToken"])).To(Equal(second))
	f.g.Consistently(func() int { return fake.Calls(first) + fake.Calls(second) }).Should(Equal(2))
}

func TestForeignAccessTokenIsLeftUntouched(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("foreign")
	f.createSecret("creds", map[string]string{"refreshToken": rt, "accessToken": "written-by-someone-else"})
	rvBefore := f.secret("creds").ResourceVersion
	f.createFigmaToken("intruder", "creds")

	f.g.Eventually(f.condition("intruder", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretConflict"))
	ready := meta.FindStatusCondition(f.figmaToken("intruder").Status.Conditions, figmav1alpha1.ConditionReady)
	f.g.Expect(ready.Reason).To(Equal(figmav1alpha1.ReasonSecretConflict))
	f.g.Expect(ready.Message).To(ContainSubstring("kubectl annotate secret creds figma.tokenops.dev/owner=intruder"))
	f.g.Eventually(f.eventReasons).Should(ContainElement(figmav1alpha1.ReasonSecretConflict))
	f.g.Expect(f.secret("creds").ResourceVersion).To(Equal(rvBefore))
	f.g.Expect(fake.Calls(rt)).To(BeZero())

	// Handing the Secret over as the message says makes it this FigmaToken's.
	secret := f.secret("creds")
	f.update(secret, func() { secret.Annotations = map[string]string{figmav1alpha1.AnnotationOwner: "intruder"} })
	f.waitReady("intruder")
}

func TestSecondFigmaTokenOnOneSecretConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.readyFigmaToken("first")
	f.createFigmaToken("second", "creds")

	f.g.Eventually(f.condition("second", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretConflict"))
	f.g.Expect(f.secret("creds").Annotations[figmav1alpha1.AnnotationOwner]).To(Equal("first"))
	f.g.Expect(f.condition("first", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))

	// When the owner goes, the other FigmaToken takes the Secret over.
	f.g.Expect(k8s.Delete(context.Background(), f.figmaToken("first"))).To(Succeed())
	f.waitReady("second")
	f.g.Expect(f.secret("creds").Annotations[figmav1alpha1.AnnotationOwner]).To(Equal("second"))
}

// When the owner of a shared Secret goes, every sibling may take it over, but only the one
// whose claim lands first calls upstream.
func TestSiblingsClaimBeforeTheyCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, rt := f.readyFigmaToken("first")
	for _, name := range []string{"second", "third", "fourth"} {
		f.createFigmaToken(name, "creds")
		f.g.Eventually(f.condition(name, figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretConflict"))
	}
	// Slow answers, so that every sibling that called would be in flight together.
	fake.SetBehavior(rt, fakeamplify.Behavior{Delay: 2 * time.Second})

	f.g.Expect(k8s.Delete(context.Background(), f.figmaToken("first"))).To(Succeed())
	owner := func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationOwner] }
	f.g.Eventually(owner).Should(BeElementOf("second", "third", "fourth"))
	f.waitReady(owner())
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(2), "one call for the takeover, whoever claims it")
	for _, name := range []string{"second", "third", "fourth"} {
		if name != owner() {
			f.g.Expect(f.condition(name, figmav1alpha1.ConditionStalled)()).To(Equal("True/SecretConflict"))
		}
	}
}

func TestRefreshRequestedAnnotationRefreshesOncePerValue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("force")
	f.g.Expect(fake.Calls(rt)).To(Equal(1))

	f.update(ft, func() {
		ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "2026-11-25T10:00:00Z"}
	})
	f.g.Eventually(func() int { return fake.Calls(rt) }).Should(Equal(2))
	f.g.Eventually(func() string { return f.figmaToken("force").Status.LastHandledRefreshRequest }).Should(Equal("2026-11-25T10:00:00Z"))
	f.g.Expect(f.secret("creds").Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationHandledRefreshRequest, "2026-11-25T10:00:00Z"))

	// Other edits, including other annotations, do not refresh again.
	f.update(ft, func() { ft.Annotations["note"] = "unrelated" })
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(2))
}

func TestSuspendStopsCallsAndWrites(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("suspend")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	rvBefore := f.secret("creds").ResourceVersion
	ft := f.createFigmaToken("paused", "creds", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Suspend = true })

	f.g.Eventually(f.condition("paused", figmav1alpha1.ConditionReady)).Should(Equal("False/Suspended"))
	f.g.Expect(f.condition("paused", figmav1alpha1.ConditionStalled)()).To(BeEmpty())
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(BeZero())
	f.g.Expect(f.secret("creds").ResourceVersion).To(Equal(rvBefore))

	f.update(ft, func() { ft.Spec.Suspend = false })
	f.waitReady("paused")
}

func TestDeletingTheFigmaTokenLeavesTheSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("gone")
	accessToken := f.secret("creds").Data["accessToken"]

	f.g.Expect(k8s.Delete(context.Background(), ft)).To(Succeed())
	f.g.Eventually(func() bool {
		return k8s.Get(context.Background(), objectKey(f.ns, "gone"), &figmav1alpha1.FigmaToken{}) != nil
	}).Should(BeTrue())
	f.g.Consistently(func() map[string][]byte { return f.secret("creds").Data }).Should(And(
		HaveKeyWithValue("refreshToken", []byte(rt)), HaveKeyWithValue("accessToken", accessToken)))
}

func TestRestartMakesNoCallAndStatusConvergesFromTheSecret(t *testing.T) {
	f := newFixture(t)
	ft, rt := f.readyFigmaToken("survivor")
	expiresAt := ft.Status.ExpiresAt

	// Lose the status while the operator is down: the Secret alone must bring it back.
	(*stopMgr.Load())()
	ft = f.figmaToken("survivor")
	ft.Status = figmav1alpha1.FigmaTokenStatus{}
	f.g.Expect(k8s.Status().Update(context.Background(), ft)).To(Succeed())
	if err := startManager(); err != nil {
		t.Fatal(err)
	}

	f.waitReady("survivor")
	f.g.Expect(f.figmaToken("survivor").Status.ExpiresAt.Equal(expiresAt)).To(BeTrue())
	restartManager(t)
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
	f.g.Expect(f.condition("survivor", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))
}

func TestFixedRefreshTokenIsUsedAtOnceAfterARestart(t *testing.T) {
	f := newFixture(t)
	bad := f.rejectedFigmaToken("rejected")
	f.g.Expect(f.figmaToken("rejected").Status.FailedCredentialHash).To(MatchRegexp(`^[0-9a-f]{16}$`))

	// Whoever restarts or takes over must know which credential failed: a fixed one is used
	// at once, not after the rejection backoff (a minute here, up to an hour later).
	restartManager(t)
	good := uniqueToken("good")
	secret := f.secret("creds")
	f.update(secret, func() { secret.Data["refreshToken"] = []byte(good) })
	f.g.Eventually(func() int { return fake.Calls(good) }, 20*time.Second).Should(Equal(1))
	f.waitReady("rejected")
	f.g.Expect(fake.Calls(bad)).To(Equal(1))
	f.g.Expect(f.figmaToken("rejected").Status.FailedCredentialHash).To(BeEmpty())
}

func TestImmutableSecretConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("immutable")
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "frozen", Namespace: f.ns},
		StringData: map[string]string{"refreshToken": rt},
		Immutable:  ptr.To(true),
	}
	f.g.Expect(k8s.Create(context.Background(), s)).To(Succeed())
	f.createFigmaToken("frozen", "frozen")
	f.g.Eventually(f.condition("frozen", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretConflict"))
	f.g.Expect(fake.Calls(rt)).To(BeZero())
}
