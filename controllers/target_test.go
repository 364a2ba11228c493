package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// withTarget sends the access token to a separate Secret.
func withTarget(name figmav1alpha1.DNSSubdomain) func(*figmav1alpha1.FigmaToken) {
	return func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.SecretRef.ExpiresAtKey = "expiresAt"
		ft.Spec.Target = &figmav1alpha1.TargetSecret{
			Name:        name,
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{"team": "design"},
		}
	}
}

func TestTargetHoldsOnlyTheAccessTokenAndLeavesTheSourceAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("target")
	f.createSecret("creds", map[string]string{"refreshToken": rt, "other": "kept"})
	source := f.secret("creds")
	f.createFigmaToken("design", "creds", withTarget("figma-access"))

	ft := f.waitReady("design")
	target := f.secret("figma-access")
	f.g.Expect(target.Data).To(HaveLen(2))
	f.g.Expect(string(target.Data["accessToken"])).To(BeElementOf(fake.Issued()))
	f.g.Expect(string(target.Data["expiresAt"])).To(Equal(target.Annotations[figmav1alpha1.AnnotationExpiresAt]))
	f.g.Expect(target.Labels).To(Equal(map[string]string{"app": "web"}))
	f.g.Expect(target.Annotations).To(HaveKeyWithValue("team", "design"))
	f.g.Expect(target.Annotations).To(HaveKeyWithValue(figmav1alpha1.AnnotationOwner, "design"))
	f.g.Expect(target.OwnerReferences).To(HaveLen(1))
	owner := target.OwnerReferences[0]
	f.g.Expect(owner.UID).To(Equal(ft.UID))
	f.g.Expect(owner.Controller).To(Equal(ptr.To(true)))
	f.g.Expect(owner.BlockOwnerDeletion).To(Equal(ptr.To(true)), "garbage-collected with the FigmaToken")

	after := f.secret("creds")
	f.g.Expect(after.ResourceVersion).To(Equal(source.ResourceVersion), "the source Secret is only read")
	f.g.Expect(ft.Status.SecretName).To(Equal("figma-access"))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
	f.expectNoLeak(rt)
}

func TestTargetIsKeptInShapeWithoutUpstreamCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyTarget("design")
	token := string(f.secret("figma-access").Data["accessToken"])

	// A stray key added to the target is removed; the token stays.
	target := f.secret("figma-access")
	f.update(target, func() { target.Data["stray"] = []byte("x") })
	f.g.Eventually(func() map[string][]byte { return f.secret("figma-access").Data }).ShouldNot(HaveKey("stray"))

	// New labels in spec.target reach the target.
	f.update(ft, func() { ft.Spec.Target.Labels = map[string]string{"app": "api"} })
	f.g.Eventually(func() map[string]string { return f.secret("figma-access").Labels }).Should(Equal(map[string]string{"app": "api"}))

	f.g.Expect(string(f.secret("figma-access").Data["accessToken"])).To(Equal(token))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1))
}

func TestExistingTargetNotOwnedConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("foreign-target")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createSecret("figma-access", map[string]string{"accessToken": "someone-elses"})
	f.createFigmaToken("design", "creds", withTarget("figma-access"))

	f.g.Eventually(f.condition("design", figmav1alpha1.ConditionStalled)).Should(Equal("True/" + figmav1alpha1.ReasonSecretConflict))
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionReady)()).To(Equal("False/" + figmav1alpha1.ReasonSecretConflict))
	f.g.Consistently(func() string { return string(f.secret("figma-access").Data["accessToken"]) }).Should(Equal("someone-elses"))
	f.g.Expect(fake.Calls(rt)).To(BeZero())
	f.g.Expect(f.secret("figma-access").OwnerReferences).To(BeEmpty())
}

func TestChangingOrRemovingTheTargetDeletesTheOldOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rt := uniqueToken("move")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createSecret("unrelated", map[string]string{"keep": "me"})
	ft := f.createFigmaToken("design", "creds", withTarget("first"))
	f.waitReady("design")

	f.update(ft, func() { ft.Spec.Target.Name = "second" })
	f.g.Eventually(f.secretValue("second", "accessToken")).ShouldNot(BeEmpty())
	f.g.Eventually(func() bool { return f.secretGone("first") }).Should(BeTrue())

	f.update(ft, func() { ft.Spec.Target = nil })
	f.g.Eventually(f.secretValue("creds", "accessToken")).ShouldNot(BeEmpty())
	f.g.Eventually(func() bool { return f.secretGone("second") }).Should(BeTrue())
	f.g.Eventually(func() string { return f.figmaToken("design").Status.SecretName }).Should(Equal("creds"))
	f.g.Expect(f.secretGone("unrelated")).To(BeFalse())
	f.g.Expect(fake.Calls(rt)).To(Equal(1), "the token obtained is kept and written to each new place, no new call")
}

func (f *fixture) secretGone(name string) bool {
	err := k8s.Get(context.Background(), objectKey(f.ns, name), &corev1.Secret{})
	f.g.Expect(client.IgnoreNotFound(err)).To(Succeed())
	return apierrors.IsNotFound(err)
}

// secretValue reads one key of a Secret; "" while the Secret or the key is missing.
func (f *fixture) secretValue(name, key string) func() string {
	return func() string {
		s := &corev1.Secret{}
		if err := k8s.Get(context.Background(), objectKey(f.ns, name), s); err != nil {
			return ""
		}
		return string(s.Data[key])
	}
}

func TestImmutableTargetConflictsWithoutUpstreamCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ft, rt := f.readyTarget("design")

	target := f.secret("figma-access")
	f.update(target, func() { target.Immutable = ptr.To(true) })
	f.update(ft, func() { ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "now"} })

	f.g.Eventually(f.condition("design", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretConflict"))
	f.g.Expect(f.figmaToken("design").Status.Conditions).To(ContainElement(HaveField("Message", ContainSubstring("immutable"))))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(Equal(1), "no token is fetched that could never be written")
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"), "the token it holds is still valid")
}

func TestMissingSourceKeepsTheTargetReadyUntilItsTokenExpires(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ready, _ := f.readyTarget("design")
	expiresAt := ready.Status.ExpiresAt

	f.g.Expect(k8s.Delete(context.Background(), f.secret("creds"))).To(Succeed())
	f.g.Eventually(f.condition("design", figmav1alpha1.ConditionStalled)).Should(Equal("True/SecretNotFound"))
	ft := f.figmaToken("design")
	f.g.Expect(f.condition("design", figmav1alpha1.ConditionReady)()).To(Equal("True/Refreshed"), "consumers can still use the target's token")
	f.g.Expect(ft.Status.ExpiresAt.Equal(expiresAt)).To(BeTrue(), "expiresAt is kept")
	f.g.Expect(string(f.secret("figma-access").Data["accessToken"])).NotTo(BeEmpty())
}
