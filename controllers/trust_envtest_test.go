package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// The faults a review proved, against the real API server and the real manager; the fake
// client tests in controllers/trust_test.go show each deterministically.

// A user moves from spec.target to in place and reuses the Secret the operator made, with
// the refresh token put in: it is neither deleted as a stale target nor left with the
// ownerReference through which the garbage collector would delete it with the FigmaToken.
func TestAFormerTargetThatBecomesTheSourceKeepsTheRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyTarget("moved-in")
	made := f.secret("figma-access")
	f.g.Expect(made.Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationTargetOf, string(ft.UID)))

	f.update(ft, func() { ft.Spec.Target, ft.Spec.SecretRef.Name = nil, "figma-access" })
	f.update(made, func() { made.Data["refreshToken"] = []byte(rt) })

	f.g.Eventually(func() []metav1.OwnerReference { return f.secret("figma-access").OwnerReferences }).Should(BeEmpty())
	f.g.Eventually(f.condition("moved-in", figmav1alpha1.ConditionReady)).Should(Equal("True/Refreshed"))
	f.g.Consistently(func() string { return string(f.secret("figma-access").Data["refreshToken"]) }).Should(Equal(rt))
	f.g.Expect(fake.Calls(rt)).To(Equal(1), "the token the former target holds is this FigmaToken's: no call")
	f.g.Expect(f.secret("figma-access").Annotations).NotTo(HaveKey(figmav1alpha1.AnnotationTargetOf))
	f.g.Expect(f.figmaToken("moved-in").Status.Conditions).NotTo(ContainElement(HaveField("Reason", figmav1alpha1.ReasonSecretNotFound)))
}

// A source Secret on which a user set a controller ownerReference to its FigmaToken (to have
// it collected with it) is written, and never deleted by the operator.
func TestASourceOwnedByItsFigmaTokenIsNotDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("owned-source")
	source := f.createSecret("creds", map[string]string{"refreshToken": rt})
	ft := f.createFigmaToken("owner", "creds")
	f.update(source, func() { f.g.Expect(ctrl.SetControllerReference(ft, source, k8s.Scheme())).To(Succeed()) })

	f.waitReady("owner")
	f.g.Consistently(func() map[string][]byte { return f.secret("creds").Data }).Should(HaveKeyWithValue("refreshToken", []byte(rt)))
	f.g.Expect(metav1.IsControlledBy(f.secret("creds"), ft)).To(BeTrue(), "the user's ownerReference stays")
}

// a owns a Secret that b names too (b is SecretConflict). A generator replaces the Secret
// wholesale (the refresh token, an empty access token, no annotations): it stays a's, which
// restores its kept token without a call, and b stays SecretConflict.
func TestAWholesaleReplaceKeepsASharedSecretWithItsOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, rt := f.readyFigmaToken("a")
	f.createFigmaToken("b", "creds")
	f.g.Eventually(f.condition("b", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonSecretConflict))
	token := string(f.secret("creds").Data["accessToken"])

	replaced := f.secret("creds")
	f.update(replaced, func() {
		replaced.Annotations = nil
		replaced.Data = map[string][]byte{"refreshToken": []byte(rt), "accessToken": {}}
	})
	f.g.Eventually(f.secretValue("creds", "accessToken")).Should(Equal(token))
	f.g.Expect(f.secret("creds").Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationOwner, "a"))
	f.g.Consistently(f.condition("b", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonSecretConflict))
	f.g.Expect(f.condition("a", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"))
	f.g.Expect(fake.Calls(rt)).To(Equal(1), "restoring the kept token costs no call")
}

// shardLabel is the label the instances of the sharded tests select on.
const shardLabel = "figma.tokenops.dev/shard"

// shards runs the suite's manager as the default instance ("shard notin (b)") beside a second
// manager for shard b, until the test ends.
func shards(t *testing.T) {
	t.Helper()
	selector := func(s string) labels.Selector {
		parsed, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return parsed
	}
	restartManager(t, func(o *operator.Options) { o.WatchLabelSelector = selector(shardLabel + " notin (b)") })
	t.Cleanup(func() { restartManager(t) })
	opts := operator.Options{MetricsAddr: "0", ProbeAddr: "0", MaxConcurrentReconciles: 4, SkipNameValidation: true,
		WatchLabelSelector: selector(shardLabel + "=b")}
	stop, err := runManager("shard b", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
}

// inShard puts a FigmaToken into shard b.
func inShard(ft *figmav1alpha1.FigmaToken) { ft.Labels = map[string]string{shardLabel: "b"} }

// Two FigmaTokens in two shards name one Secret: one claims it and calls upstream, the other
// finds it claimed. Each shard's cache holds only its own FigmaTokens.
func TestAcrossShardsOneSecretCostsOneCall(t *testing.T) {
	f := newFixture(t)
	shards(t)
	rt := uniqueToken("shared")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("a", "creds")
	f.createFigmaToken("b", "creds", inShard)

	owner := func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationOwner] }
	f.g.Eventually(owner).ShouldNot(BeEmpty())
	other := map[string]string{"a": "b", "b": "a"}[owner()]
	f.waitReady(owner())
	f.g.Eventually(f.condition(other, figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonSecretConflict))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}

// b (shard b) is SecretConflict because a (the default instance) owns the Secret. a's
// deletion sends b's instance no event, yet b takes the Secret over within 30 s.
func TestAcrossShardsASecretWhoseOwnerIsDeletedIsHandedOver(t *testing.T) {
	f := newFixture(t)
	shards(t)
	a, _ := f.readyFigmaToken("a")
	f.createFigmaToken("b", "creds", inShard)
	f.g.Eventually(f.condition("b", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonSecretConflict))

	f.g.Expect(k8s.Delete(context.Background(), a)).To(Succeed())
	f.g.Eventually(func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationOwner] }).Should(Equal("b"))
	f.waitReady("b")
	f.g.Expect(f.secret("creds").Data).To(HaveKey("refreshToken"))
	f.g.Expect(f.eventReasons()).To(ContainElement(figmav1alpha1.ReasonSecretConflict))
}

// A FigmaToken relabelled from the default instance into shard b while its requested refresh
// is in flight (a slow answer): shard b finds the request noted in the Secret and waits for
// the answer, so the one request costs one call.
func TestARelabelDuringARequestedRefreshCostsOneCall(t *testing.T) {
	f := newFixture(t)
	shards(t)
	ft, rt := f.readyFigmaToken("moving")
	fake.SetBehavior(rt, fakeamplify.Behavior{Delay: 3 * time.Second})
	f.update(ft, func() {
		ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "2026-11-25T10:00:00Z"}
	})
	f.g.Eventually(func() map[string]string { return f.secret("creds").Annotations }).Should(HaveKey(figmav1alpha1.AnnotationRefreshInFlight))
	f.update(ft, func() { inShard(ft) })

	f.g.Eventually(func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationHandledRefreshRequest] }).Should(Equal("2026-11-25T10:00:00Z"))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(2), "the first token, and one call for the request")
	f.g.Expect(f.secret("creds").Annotations).NotTo(HaveKey(figmav1alpha1.AnnotationRefreshInFlight))
	f.g.Eventually(f.condition("moving", figmav1alpha1.ConditionReady)).Should(Equal("True/Refreshed"))

	// The next request is shard b's alone.
	f.update(ft, func() { ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt] = "2026-11-25T11:00:00Z" })
	f.g.Eventually(func() string { return f.secret("creds").Annotations[figmav1alpha1.AnnotationHandledRefreshRequest] }).Should(Equal("2026-11-25T11:00:00Z"))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(3))
}

// A target an earlier version made (no target-of mark) becomes the source: the operator's
// own ownerReference on it, which managedFields show it set, is removed all the same, so the
// garbage collector cannot take the refresh token with the FigmaToken.
func TestAnEarlierVersionsTargetThatBecomesTheSourceIsReleased(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyTarget("upgraded-target")
	// Suspended, nothing writes the target: the mark is not put back before the spec change.
	f.update(ft, func() { ft.Spec.Suspend = true })
	f.g.Eventually(func() int64 { return f.figmaToken("upgraded-target").Status.ObservedGeneration }).Should(Equal(ft.Generation))
	made := f.secret("figma-access")
	f.update(made, func() {
		delete(made.Annotations, figmav1alpha1.AnnotationTargetOf) // as an earlier version made it
		made.Data["refreshToken"] = []byte(rt)
	})
	f.update(ft, func() { ft.Spec.Target, ft.Spec.SecretRef.Name = nil, "figma-access" })

	f.g.Eventually(func() []metav1.OwnerReference { return f.secret("figma-access").OwnerReferences }).Should(BeEmpty())
	f.g.Expect(string(f.secret("figma-access").Data["refreshToken"])).To(Equal(rt))
}

// The same for a target v0.1.0 made: it wrote without a field manager of its own (the
// binary's name, "manager", in managedFields), in the write that set the refresh's record.
// A GitOps sync points spec.secretRef at it and removes spec.target at once; the operator's
// reference goes, while the FigmaToken is suspended too.
func TestAV010TargetThatBecomesTheSourceIsReleased(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("v010")
	ft := f.createFigmaToken("legacy", "figma-access", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Suspend = true })
	legacy := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "figma-access", Namespace: f.ns, Annotations: map[string]string{
		figmav1alpha1.AnnotationOwner:     "legacy",
		figmav1alpha1.AnnotationExpiresAt: "2026-11-25T11:00:00Z", figmav1alpha1.AnnotationRefreshedAt: "2026-11-25T10:00:00Z",
	}}, StringData: map[string]string{"accessToken": "from-v0.1.0", "refreshToken": rt}}
	f.g.Expect(ctrl.SetControllerReference(ft, legacy, k8s.Scheme())).To(Succeed())
	f.g.Expect(k8s.Create(context.Background(), legacy, client.FieldOwner("manager"))).To(Succeed())

	f.g.Eventually(func() []metav1.OwnerReference { return f.secret("figma-access").OwnerReferences }).Should(BeEmpty())
	f.g.Expect(string(f.secret("figma-access").Data["refreshToken"])).To(Equal(rt))
}
