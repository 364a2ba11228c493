package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Whose AWS identity signs an Amplify call (CONTRACT.md, "Upstreams and OAuth clients"):
// a client's role, assumed with STS AssumeRole and the namespace's ExternalId.

// amplifyClient creates a FigmaOAuthClient "tenant-app" on the Amplify upstream, signing as
// roleARN ("" for the operator's own identity).
func (f *fixture) amplifyClient(roleARN string) {
	f.t.Helper()
	c := &figmav1alpha1.FigmaOAuthClient{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-app", Namespace: f.ns},
		Spec:       figmav1alpha1.OAuthClientSpec{ClientID: "tenant-client", Amplify: &figmav1alpha1.AmplifyUpstream{RoleARN: roleARN}},
	}
	f.g.Expect(k8s.Create(context.Background(), c)).To(Succeed())
}

func newRole() string { return "arn:aws:iam::111122223333:role/figma-" + rand.String(8) }

func TestAClientsRoleSignsItsCallsAndTrustsOneNamespace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	role := newRole()
	stsFake.Trust(role, "figma.tokenops.dev/"+f.ns)
	f.amplifyClient(role)
	rt := uniqueToken("role")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("tenant", "creds", viaClient("", "tenant-app"))

	f.waitReady("tenant")
	f.g.Expect(fake.SignedAs(rt)).To(Equal([]string{role}), "signed with the role's temporary credentials")
	f.g.Expect(stsFake.Sessions(role)).To(ContainElement("figma-token-operator-"+f.ns), "CloudTrail names the tenant")
	f.g.Eventually(f.clientReady("tenant-app")).Should(Equal("True/Usable/Amplify"))

	// Another namespace naming the same role is refused by its trust policy: no call.
	other := newFixture(t)
	other.amplifyClient(role)
	borrowed := uniqueToken("borrowed-role")
	other.createSecret("creds", map[string]string{"refreshToken": borrowed})
	other.createFigmaToken("borrower", "creds", viaClient("", "tenant-app"))
	other.g.Eventually(other.condition("borrower", figmav1alpha1.ConditionStalled)).Should(Equal("True/AWSAccessDenied"))
	stalled := meta.FindStatusCondition(other.figmaToken("borrower").Status.Conditions, figmav1alpha1.ConditionStalled)
	other.g.Expect(stalled.Message).To(ContainSubstring("AssumeRole of " + role + " refused"))
	other.g.Expect(fake.Calls(borrowed)).To(BeZero())
	other.expectNoLeak(borrowed, harness.Credentials.SecretAccessKey)
}

// A FigmaOAuthClient on Amplify without a role would spend the operator's own identity: not
// allowed unless the manager says so.
func TestANamespacedClientWithoutARoleMayNotUseTheOperatorsIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.amplifyClient("")
	rt := uniqueToken("ambient")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("ambient", "creds", viaClient("", "tenant-app"))

	f.g.Eventually(f.condition("ambient", figmav1alpha1.ConditionStalled)).Should(Equal("True/OAuthClientNotReady"))
	f.g.Eventually(f.clientReady("tenant-app")).Should(Equal("False/AmbientIdentityNotAllowed/Amplify"))
	f.g.Consistently(func() int { return fake.Calls(rt) }).Should(BeZero())
}

// With --require-client-ref a FigmaToken without a client stalls before any call.
func TestRequireClientRefStallsAFigmaTokenWithoutAClient(t *testing.T) {
	restartManager(t, func(o *operator.Options) { o.RequireClientRef = true })
	t.Cleanup(func() { restartManager(t) })
	f := newFixture(t)
	rt := uniqueToken("no-client")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("bare", "creds")

	f.g.Eventually(f.condition("bare", figmav1alpha1.ConditionStalled)).Should(Equal("True/OAuthClientNotReady"))
	stalled := meta.FindStatusCondition(f.figmaToken("bare").Status.Conditions, figmav1alpha1.ConditionStalled)
	f.g.Expect(stalled.Message).To(ContainSubstring("--require-client-ref"))
	f.g.Expect(fake.Calls(rt)).To(BeZero())
	f.g.Expect(f.figmaToken("bare").Status.FailedAttempts).To(BeZero())
}

// With --namespaced-clients-ambient-identity the same client is Ready and signs with the
// operator's own identity.
func TestANamespacedClientWithoutARoleIsUsedWithTheFlag(t *testing.T) {
	restartManager(t, func(o *operator.Options) { o.NamespacedClientsAmbientIdentity = true })
	t.Cleanup(func() { restartManager(t) })
	f := newFixture(t)
	f.amplifyClient("")
	rt := uniqueToken("ambient-allowed")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("ambient", "creds", viaClient("", "tenant-app"))

	f.waitReady("ambient")
	f.g.Expect(fake.SignedAs(rt)).To(Equal([]string{""}), "the operator's own identity")
	f.g.Eventually(f.clientReady("tenant-app")).Should(Equal("True/Usable/Amplify"))
}

// A ClusterFigmaOAuthClient's role is assumed without an ExternalId; its trust policy admits
// no request with one, so a tenant's FigmaOAuthClient naming the same role (which always
// sends its namespace's) is refused.
func TestAClusterClientsRoleCannotBeBorrowedByATenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	role := newRole()
	stsFake.Trust(role, fakeamplify.NoExternalID)
	cc := &figmav1alpha1.ClusterFigmaOAuthClient{ObjectMeta: metav1.ObjectMeta{Name: "platform-" + rand.String(6)},
		Spec: figmav1alpha1.ClusterOAuthClientSpec{OAuthClientSpec: figmav1alpha1.OAuthClientSpec{ClientID: "platform-client",
			Amplify: &figmav1alpha1.AmplifyUpstream{RoleARN: role}}}}
	f.g.Expect(k8s.Create(context.Background(), cc)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), cc) })
	rt := uniqueToken("platform-role")
	f.createSecret("creds", map[string]string{"refreshToken": rt})
	f.createFigmaToken("platform", "creds", viaClient(figmav1alpha1.KindClusterFigmaOAuthClient, cc.Name))
	f.waitReady("platform")
	f.g.Expect(fake.SignedAs(rt)).To(Equal([]string{role}))
	f.g.Expect(stsFake.Sessions(role)).To(ContainElement("figma-token-operator-cluster"))

	tenant := newFixture(t)
	tenant.amplifyClient(role)
	borrowed := uniqueToken("borrowed-platform-role")
	tenant.createSecret("creds", map[string]string{"refreshToken": borrowed})
	tenant.createFigmaToken("borrower", "creds", viaClient("", "tenant-app"))
	tenant.g.Eventually(tenant.condition("borrower", figmav1alpha1.ConditionStalled)).Should(Equal("True/AWSAccessDenied"))
	tenant.g.Expect(fake.Calls(borrowed)).To(BeZero())
}
