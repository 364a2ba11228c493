package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// The faults a review proved, each through the whole reconcile on a fake client; the
// envtest suite shows the same against the real API server (controllers/trust_envtest_test.go).

// another is a reconciler of its own (a restarted process, another instance) on the same
// fake API server, clock and upstream as r.
func another(r *FigmaTokenReconciler, up upstream.Refresher) *FigmaTokenReconciler {
	return &FigmaTokenReconciler{Client: r.Client, APIReader: r.APIReader, Secrets: &secretwrite.Writer{Client: r.Client, Reader: r.APIReader, Clock: r.Clock},
		SecretMetadata: r.SecretMetadata, Clock: r.Clock, Clients: &OAuthClients{Amplify: up}, Recorder: events.NewFakeRecorder(100), RolloutRestarts: r.RolloutRestarts}
}

// replaceWholesale replaces Secret "creds" as a generator does: the refresh token, an empty
// access token, no annotations.
func replaceWholesale(t *testing.T, c client.Client) {
	t.Helper()
	replaced := getSecret(t, c, "creds")
	replaced.Annotations = nil
	replaced.Data = map[string][]byte{"refreshToken": []byte("refresh-1"), "accessToken": {}}
	if err := c.Update(context.Background(), replaced); err != nil {
		t.Fatal(err)
	}
}

// reconcileOnce runs one reconcile of ft and fails the test on an error.
func reconcileOnce(t *testing.T, r *FigmaTokenReconciler, ft *figmav1alpha1.FigmaToken) ctrl.Result {
	t.Helper()
	result, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ft)})
	if err != nil {
		t.Fatal(err)
	}
	return result
}

// getSecret reads a Secret; nil when it does not exist.
func getSecret(t *testing.T, c client.Client, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, s); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil
		}
		t.Fatal(err)
	}
	return s
}

// requestRefresh re-reads ft and sets its refresh-requested-at annotation to value.
func requestRefresh(t *testing.T, c client.Client, ft *figmav1alpha1.FigmaToken, value string) {
	t.Helper()
	refetch(t, c, ft)
	ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: value}
	if err := c.Update(context.Background(), ft); err != nil {
		t.Fatal(err)
	}
}

// refetch reads obj again from the fake API server.
func refetch(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
}

// updateFigmaToken re-reads ft, changes it and writes it back as a spec change.
func updateFigmaToken(t *testing.T, c client.Client, ft *figmav1alpha1.FigmaToken, change func(*figmav1alpha1.FigmaToken)) {
	t.Helper()
	refetch(t, c, ft)
	change(ft)
	ft.Generation++
	if err := c.Update(context.Background(), ft); err != nil {
		t.Fatal(err)
	}
}

// A user moves from spec.target to in place and reuses the Secret the operator made: it now
// holds the refresh token. It is neither deleted as a stale target nor left with the
// ownerReference that would have the garbage collector delete it with the FigmaToken.
func TestAFormerTargetThatBecomesTheSourceIsReleasedNotDeleted(t *testing.T) {
	t.Parallel()
	ft, _, r, c, _, up := fakeReconciler(t)
	ctx := context.Background()
	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "figma-access"}
	})
	reconcileOnce(t, r, ft)
	made := getSecret(t, c, "figma-access")
	if made == nil || !metav1.IsControlledBy(made, ft) || made.Annotations[figmav1alpha1.AnnotationTargetOf] != string(ft.UID) {
		t.Fatalf("the target was not created with the FigmaToken's ownerReference and mark: %+v", made)
	}

	made.Data["refreshToken"] = []byte("refresh-1")
	if err := c.Update(ctx, made); err != nil {
		t.Fatal(err)
	}
	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.Target, ft.Spec.SecretRef.Name = nil, "figma-access"
	})
	reconcileOnce(t, r, ft)
	reconcileOnce(t, r, ft)

	source := getSecret(t, c, "figma-access")
	if source == nil {
		t.Fatal("the Secret spec.secretRef names, refresh token included, was deleted")
	}
	if string(source.Data["refreshToken"]) != "refresh-1" {
		t.Fatal("the refresh token changed")
	}
	if len(source.OwnerReferences) != 0 || source.Annotations[figmav1alpha1.AnnotationTargetOf] != "" {
		t.Fatalf("the former target keeps what would have it deleted with the FigmaToken: %v, %v", source.OwnerReferences, source.Annotations)
	}
	if up.calls != 1 {
		t.Fatalf("%d upstream calls, want 1: the token the former target holds is this FigmaToken's", up.calls)
	}
}

// A person or tool sets a controller ownerReference to the FigmaToken on the source Secret
// (to have it collected with it): the operator never deletes it, and leaves the reference.
func TestASourceOwnedByItsFigmaTokenIsNeverDeleted(t *testing.T) {
	t.Parallel()
	ft, secret, r, c, _, _ := fakeReconciler(t)
	ctx := context.Background()
	refetch(t, c, ft)
	refetch(t, c, secret)
	if err := ctrl.SetControllerReference(ft, secret, c.Scheme()); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	reconcileOnce(t, r, ft)
	reconcileOnce(t, r, ft)

	source := getSecret(t, c, "creds")
	if source == nil {
		t.Fatal("the Secret spec.secretRef names was deleted")
	}
	if !metav1.IsControlledBy(source, ft) {
		t.Fatal("the user's ownerReference was removed")
	}
	if len(source.Data["accessToken"]) == 0 {
		t.Fatal("no access token was written")
	}
}

// secretRefName is what the API server's selectable field spec.secretRef.name selects on.
func secretRefName(o client.Object) []string {
	return []string{string(o.(*figmav1alpha1.FigmaToken).Spec.SecretRef.Name)}
}

// shardView is a shard's cache: it lists only the FigmaTokens of its shard label, as the
// cache of an instance with --watch-label-selector does.
type shardView struct {
	client.Client
	shard string
}

func (v shardView) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := v.Client.List(ctx, list, opts...); err != nil {
		return err
	}
	if fts, ok := list.(*figmav1alpha1.FigmaTokenList); ok {
		kept := fts.Items[:0]
		for _, ft := range fts.Items {
			if ft.Labels["figma.tokenops.dev/shard"] == v.shard {
				kept = append(kept, ft)
			}
		}
		fts.Items = kept
	}
	return nil
}

// upstreamDuring is an upstream that runs during once, on its first call, before answering:
// another instance's reconcile while this one's call is in flight.
type upstreamDuring struct {
	*countingUpstream
	during func()
}

func (u *upstreamDuring) Refresh(ctx context.Context, req upstream.RefreshRequest) (upstream.Result, error) {
	if during := u.during; during != nil {
		u.during = nil
		during()
	}
	return u.countingUpstream.Refresh(ctx, req)
}

// twoFigmaTokens is FigmaTokens "a" (the default shard) and "b" (shard b) on Secret "creds",
// each with a reconciler of its own that sees its shard only (sharded) or everything, on one
// fake API server, one fake clock and one counting upstream.
func twoFigmaTokens(t *testing.T, sharded bool) (a, b *figmav1alpha1.FigmaToken, ra, rb *FigmaTokenReconciler, c client.Client, up *upstreamDuring) {
	t.Helper()
	a = inPlaceFigmaToken()
	a.Name, a.UID = "a", "uid-a"
	b = inPlaceFigmaToken()
	b.Name, b.UID, b.Labels = "b", "uid-b", map[string]string{"figma.tokenops.dev/shard": "b"}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"},
		Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	c = fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(a, b, secret).WithStatusSubresource(a).
		WithIndex(&figmav1alpha1.FigmaToken{}, secretNameIndex, secretNames).
		WithIndex(&figmav1alpha1.FigmaToken{}, secretRefNameField, secretRefName).
		WithIndex(&corev1.Secret{}, targetOwnerIndex, controllingFigmaToken).Build()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	up = &upstreamDuring{countingUpstream: &countingUpstream{}}
	reconciler := func(shard string) *FigmaTokenReconciler {
		var view client.Client
		if view = c; sharded {
			view = shardView{Client: c, shard: shard}
		}
		return &FigmaTokenReconciler{Client: view, APIReader: c, Secrets: &secretwrite.Writer{Client: c, Reader: c, Clock: clk}, SecretMetadata: view,
			Clock: clk, Clients: &OAuthClients{Amplify: up}, Recorder: events.NewFakeRecorder(100), Sharded: sharded}
	}
	return a, b, reconciler(""), reconciler("b"), c, up
}

// Two FigmaTokens in two shards name one Secret, and both find it unclaimed: the one that
// claims first calls upstream, the other finds it claimed. Each shard's cache holds only its
// own FigmaTokens, so the claim must look for siblings in the API server.
func TestAcrossShardsTwoFigmaTokensOnOneSecretMakeOneCall(t *testing.T) {
	t.Parallel()
	a, b, ra, rb, c, up := twoFigmaTokens(t, true)
	// b reconciles while a's call is in flight.
	up.during = func() { reconcileOnce(t, rb, b) }
	reconcileOnce(t, ra, a)
	reconcileOnce(t, rb, b)
	reconcileOnce(t, ra, a)
	if up.calls != 1 {
		t.Fatalf("%d upstream calls for one Secret, want 1", up.calls)
	}
	if owner := getSecret(t, c, "creds").Annotations[figmav1alpha1.AnnotationOwner]; owner != "a" {
		t.Fatalf("the Secret is owned by %q, want a, which claimed it first", owner)
	}
	if s := rb.status(t, b); s.stalled != figmav1alpha1.ReasonSecretConflict {
		t.Fatalf("b is %+v, want Stalled SecretConflict", s)
	}
}

// a owns the Secret, b names it too and is SecretConflict. A generator replaces the Secret
// wholesale: the refresh token, an empty access token, no annotations. The Secret stays a's,
// which restores its kept token without a call; b stays SecretConflict.
func TestAWholesaleReplaceLeavesASharedSecretWithItsOwner(t *testing.T) {
	t.Parallel()
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			a, b, ra, rb, c, up := twoFigmaTokens(t, sharded)
			reconcileOnce(t, ra, a)
			reconcileOnce(t, rb, b)
			token := string(getSecret(t, c, "creds").Data["accessToken"])

			replaceWholesale(t, c)
			// b first: the one that lost the Secret must not take it now.
			reconcileOnce(t, rb, b)
			reconcileOnce(t, ra, a)
			reconcileOnce(t, rb, b)

			after := getSecret(t, c, "creds")
			if owner := after.Annotations[figmav1alpha1.AnnotationOwner]; owner != "a" || string(after.Data["accessToken"]) != token {
				t.Fatalf("the Secret is %q's with token %q, want a's kept token back", owner, after.Data["accessToken"])
			}
			if up.calls != 1 {
				t.Fatalf("%d upstream calls, want 1: restoring the kept token costs none", up.calls)
			}
			if s := rb.status(t, b); s.stalled != figmav1alpha1.ReasonSecretConflict {
				t.Fatalf("b is %+v, want Stalled SecretConflict", s)
			}
			if s := ra.status(t, a); s.ready != "True/Refreshed" || s.stalled != "" {
				t.Fatalf("a is %+v, want Ready", s)
			}
		})
	}
}

// b is SecretConflict because a owns the Secret, in another shard. When a is deleted, no
// event reaches b's instance (its cache does not hold a, and the Secret does not change), so
// b looks at the owner again on its own, within 30 s, and takes the Secret over.
func TestAcrossShardsASecretWhoseOwnerIsDeletedIsTakenOver(t *testing.T) {
	t.Parallel()
	a, b, ra, rb, c, up := twoFigmaTokens(t, true)
	reconcileOnce(t, ra, a)
	result := reconcileOnce(t, rb, b)
	if s := rb.status(t, b); s.stalled != figmav1alpha1.ReasonSecretConflict {
		t.Fatalf("b is %+v, want Stalled SecretConflict", s)
	}
	if result.RequeueAfter <= 0 || result.RequeueAfter > policy.OwnerRecheck {
		t.Fatalf("b looks at the owner again in %s, want within %s", result.RequeueAfter, policy.OwnerRecheck)
	}
	if err := c.Delete(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reconcileOnce(t, rb, b)
	if owner := getSecret(t, c, "creds").Annotations[figmav1alpha1.AnnotationOwner]; owner != "b" {
		t.Fatalf("the Secret is %q's after its owner's deletion, want b's", owner)
	}
	if s := rb.status(t, b); s.ready != "True/Refreshed" {
		t.Fatalf("b is %+v, want Ready", s)
	}
	if up.calls != 2 {
		t.Fatalf("%d upstream calls, want 2 (a's, then b's own token)", up.calls)
	}
}

// failingUpstream answers every call with a transient failure (a 503).
type failingUpstream struct{}

func (failingUpstream) Refresh(context.Context, upstream.RefreshRequest) (upstream.Result, error) {
	return upstream.Result{}, &upstream.Error{Kind: upstream.Transient, HTTPStatus: 503}
}

func (failingUpstream) Exchange(context.Context, upstream.ExchangeRequest) (upstream.Result, error) {
	return upstream.Result{}, &upstream.Error{Kind: upstream.Transient, HTTPStatus: 503}
}

// spec.target renamed when a refresh is due (so the old target's token does not do) while
// upstream fails: the old target, which holds the token, is kept until the new one holds it,
// so that some Secret always holds the FigmaToken's token.
func TestAnOldTargetIsDeletedOnlyOnceTheNewOneHoldsTheToken(t *testing.T) {
	t.Parallel()
	ft, _, r, c, clk, _ := fakeReconciler(t)
	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "old"} })
	reconcileOnce(t, r, ft)
	if getSecret(t, c, "old") == nil {
		t.Fatal("no target written")
	}

	restarted := another(r, failingUpstream{})
	clk.Step(45 * time.Minute) // due at 10:39, valid until 11:00
	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target.Name = "new" })
	reconcileOnce(t, restarted, ft)
	if getSecret(t, c, "old") == nil {
		t.Fatal("the old target, the only Secret holding the token, was deleted although the new one holds none")
	}

	restarted.Clients = &OAuthClients{Amplify: &countingUpstream{}}
	clk.Step(time.Minute) // past the backoff
	reconcileOnce(t, restarted, ft)
	if getSecret(t, c, "new") == nil || getSecret(t, c, "old") != nil {
		t.Fatal("once the new target holds the token, the old one goes")
	}
}

// spec.suspend set while the upstream call is in flight: the token obtained is not written
// (a suspended FigmaToken writes no Secret), but kept, and written without a second call when
// the FigmaToken is resumed.
func TestSuspendSetDuringTheCallStopsTheWrite(t *testing.T) {
	t.Parallel()
	ft, _, r, c, _, counting := fakeReconciler(t)
	r.Clients = &OAuthClients{Amplify: &upstreamDuring{countingUpstream: counting, during: func() {
		updateFigmaToken(t, c, ft.DeepCopy(), func(latest *figmav1alpha1.FigmaToken) { latest.Spec.Suspend = true })
	}}}
	reconcileOnce(t, r, ft)
	if got := getSecret(t, c, "creds").Data["accessToken"]; len(got) != 0 {
		t.Fatal("the token was written although spec.suspend was set during the call")
	}
	if s := r.status(t, ft); s.ready != "False/"+figmav1alpha1.ReasonSuspended {
		t.Fatalf("status %+v, want Ready False Suspended", s)
	}

	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Suspend = false })
	reconcileOnce(t, r, ft)
	if got := getSecret(t, c, "creds").Data["accessToken"]; string(got) != "access-1" {
		t.Fatalf("after resuming the Secret holds %q, want the token obtained before", got)
	}
	if counting.calls != 1 {
		t.Fatalf("%d upstream calls, want 1", counting.calls)
	}
}

// After a rollback, the earlier version (before access-token-hash) refreshes: it writes a new
// token and refreshed-at, and status.lastRefreshTime, and keeps the hash it does not know.
// After the roll-forward that token is adopted, without a call: the Secret says which
// refreshed-at its hash was computed for.
func TestATokenRefreshedByAnEarlierVersionAfterARollbackIsAdopted(t *testing.T) {
	t.Parallel()
	ft, _, r, c, clk, _ := fakeReconciler(t)
	ctx := context.Background()
	reconcileOnce(t, r, ft)

	clk.Step(45 * time.Minute)
	refreshedAt := clk.Now().UTC().Truncate(time.Second)
	earlier := getSecret(t, c, "creds")
	earlier.Data["accessToken"] = []byte("access-from-the-earlier-version")
	earlier.Annotations[figmav1alpha1.AnnotationRefreshedAt] = refreshedAt.Format(time.RFC3339)
	earlier.Annotations[figmav1alpha1.AnnotationExpiresAt] = refreshedAt.Add(time.Hour).Format(time.RFC3339)
	if err := c.Update(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	refetch(t, c, ft)
	ft.Status.LastRefreshTime = &metav1.Time{Time: refreshedAt}
	ft.Status.ExpiresAt = &metav1.Time{Time: refreshedAt.Add(time.Hour)}
	if err := c.Status().Update(ctx, ft); err != nil {
		t.Fatal(err)
	}

	up := &countingUpstream{}
	rolledForward := another(r, up)
	reconcileOnce(t, rolledForward, ft)
	if up.calls != 0 {
		t.Fatalf("%d upstream calls after the roll-forward, want 0: the token is this FigmaToken's", up.calls)
	}
	after := getSecret(t, c, "creds")
	if string(after.Data["accessToken"]) != "access-from-the-earlier-version" {
		t.Fatal("the earlier version's token was replaced")
	}
	if !strings.HasPrefix(after.Annotations[figmav1alpha1.AnnotationAccessTokenHashFor], refreshedAt.Format(time.RFC3339)+" ") {
		t.Fatalf("the adopted token's hash is for %q, want %s", after.Annotations[figmav1alpha1.AnnotationAccessTokenHashFor], refreshedAt)
	}
	if s := rolledForward.status(t, ft); s.ready != "True/Refreshed" {
		t.Fatalf("status %+v, want Ready", s)
	}
}

// One of two rollout restart targets is missing: the other is restarted once for the token,
// and status records it per workload, so that after an operator restart it is not restarted
// again for the same token, even with its stamp stripped by another writer.
func TestARestartedWorkloadIsNotRestartedAgainWhileAnotherIsMissing(t *testing.T) {
	t.Parallel()
	ft, _, r, c, _, _ := fakeReconciler(t)
	ctx := context.Background()
	r.RolloutRestarts = true
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	if err := c.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) {
		ft.Spec.RolloutRestartTargets = []figmav1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}, {Kind: "Deployment", Name: "missing"}}
	})
	reconcileOnce(t, r, ft)
	stamp := func(name string) string {
		t.Helper()
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: name}, d); err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Annotations[figmav1alpha1.AnnotationRestartedAt]
	}
	token := getSecret(t, c, "creds").Annotations[figmav1alpha1.AnnotationRefreshedAt]
	if stamp("web") != token {
		t.Fatalf("web's stamp is %q, want %s", stamp("web"), token)
	}

	refetch(t, c, web)
	delete(web.Spec.Template.Annotations, figmav1alpha1.AnnotationRestartedAt)
	if err := c.Update(ctx, web); err != nil {
		t.Fatal(err)
	}
	restarted := another(r, &countingUpstream{})
	reconcileOnce(t, restarted, ft)
	if stamp("web") != "" {
		t.Fatal("web was restarted a second time for the same token after an operator restart")
	}

	missing := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "missing"}}
	if err := c.Create(ctx, missing); err != nil {
		t.Fatal(err)
	}
	reconcileOnce(t, restarted, ft)
	if stamp("missing") != token || stamp("web") != "" {
		t.Fatalf("stamps web %q, missing %q; want only missing restarted, for %s", stamp("web"), stamp("missing"), token)
	}
	got := &figmav1alpha1.FigmaToken{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(ft), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.RolloutRestartedFor == nil || got.Status.RolloutRestartedFor.UTC().Format(time.RFC3339) != token || len(got.Status.RolloutRestartsSent) != 0 {
		t.Fatalf("status rolloutRestartedFor %v, rolloutRestartsSent %v; want the token, and none pending", got.Status.RolloutRestartedFor, got.Status.RolloutRestartsSent)
	}
}

// A FigmaToken relabelled into another shard while its requested refresh is in flight: the
// shard it moves to reconciles it meanwhile and finds the request noted in the Secret, so
// it waits for that call's answer instead of calling for the same value.
func TestARequestedRefreshInFlightIsNotAnsweredTwiceByAnotherInstance(t *testing.T) {
	t.Parallel()
	ft, _, oldShard, c, _, counting := fakeReconciler(t)
	reconcileOnce(t, oldShard, ft)
	oldShard.Sharded = true
	newShard := another(oldShard, counting)
	newShard.Sharded = true

	requestRefresh(t, c, ft, "2026-11-25T10:05:00Z")
	var waited ctrl.Result
	oldShard.Clients = &OAuthClients{Amplify: &upstreamDuring{countingUpstream: counting, during: func() { waited = reconcileOnce(t, newShard, ft) }}}
	reconcileOnce(t, oldShard, ft)
	if waited.RequeueAfter <= 0 || waited.RequeueAfter > policy.InFlightFor {
		t.Fatalf("the new shard looks again in %s, want within %s", waited.RequeueAfter, policy.InFlightFor)
	}
	reconcileOnce(t, newShard, ft)
	if counting.calls != 2 {
		t.Fatalf("%d upstream calls, want 2: the first token and one for the request", counting.calls)
	}
	after := getSecret(t, c, "creds")
	if after.Annotations[figmav1alpha1.AnnotationHandledRefreshRequest] != "2026-11-25T10:05:00Z" {
		t.Fatal("the request was not answered")
	}
	if _, ok := after.Annotations[figmav1alpha1.AnnotationRefreshInFlight]; ok {
		t.Fatal("the note of the call in flight outlived its answer")
	}
}

// spec.target renamed, or removed, after a restart (nothing kept in memory): the old target
// holds this FigmaToken's valid token, which goes to the new destination without a call, as
// an accessTokenKey change costs none; then the old target goes.
func TestMovingTheTargetAfterARestartCostsNoCall(t *testing.T) {
	t.Parallel()
	for _, move := range []struct {
		name        string
		target      *figmav1alpha1.TargetSecret
		destination string
	}{
		{name: "renamed", target: &figmav1alpha1.TargetSecret{Name: "new"}, destination: "new"},
		{name: "removed", destination: "creds"},
	} {
		t.Run(move.name, func(t *testing.T) {
			ft, _, r, c, clk, _ := fakeReconciler(t)
			updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "old"} })
			reconcileOnce(t, r, ft)
			token := string(getSecret(t, c, "old").Data["accessToken"])

			up := &countingUpstream{}
			restarted := another(r, up)
			clk.Step(10 * time.Minute)
			updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = move.target })
			reconcileOnce(t, restarted, ft)
			if up.calls != 0 {
				t.Fatalf("%d upstream calls, want 0: the old target holds this FigmaToken's valid token", up.calls)
			}
			if got := string(getSecret(t, c, move.destination).Data["accessToken"]); got != token {
				t.Fatalf("%s holds %q, want the old target's token %q", move.destination, got, token)
			}
			if getSecret(t, c, "old") != nil {
				t.Fatal("the old target was kept after the new destination got the token")
			}
			if s := restarted.status(t, ft); s.ready != "True/Refreshed" {
				t.Fatalf("status %+v, want Ready", s)
			}
		})
	}
}

// rejectingUpstream refuses every refresh token, as for a revoked grant.
type rejectingUpstream struct{ calls int }

func (u *rejectingUpstream) Refresh(context.Context, upstream.RefreshRequest) (upstream.Result, error) {
	u.calls++
	return upstream.Result{}, &upstream.Error{Kind: upstream.Rejected, HTTPStatus: 400, Code: "InvalidParameterException"}
}

func (u *rejectingUpstream) Exchange(context.Context, upstream.ExchangeRequest) (upstream.Result, error) {
	return upstream.Result{}, nil
}

// A new FigmaToken that carries a refresh request and whose first call is rejected: the note
// of the call in flight is no token of its, so its Secret is not taken for one another writer
// overwrote (Ready names the rejection, not SecretOverwritten).
func TestTheNoteOfACallInFlightIsNoWriteOfTheToken(t *testing.T) {
	t.Parallel()
	ft, _, r, c, clk, _ := fakeReconciler(t)
	requestRefresh(t, c, ft, "2026-11-25T09:00:00Z")
	up := &rejectingUpstream{}
	r.Clients, r.Sharded = &OAuthClients{Amplify: up}, true
	reconcileOnce(t, r, ft)
	clk.Step(time.Second)
	reconcileOnce(t, r, ft)
	if s := r.status(t, ft); s.ready != "False/"+figmav1alpha1.ReasonRefreshRejected || s.stalled != figmav1alpha1.ReasonRefreshRejected {
		t.Fatalf("status %+v, want Ready False and Stalled RefreshRejected", s)
	}
	if up.calls != 1 {
		t.Fatalf("%d calls, want 1", up.calls)
	}
}

// a wrote the Secret first and handed it over to b (the annotation a SecretConflict message
// gives); both statuses show a token written there. After a wholesale replace the Secret
// stays with b, which wrote there last, and b restores its kept token without a call.
func TestAfterAHandOverAWholesaleReplaceLeavesTheSecretWithTheLastWriter(t *testing.T) {
	t.Parallel()
	a, b, ra, rb, c, up := twoFigmaTokens(t, false)
	ctx := context.Background()
	reconcileOnce(t, ra, a)
	clk := ra.Clock.(*clocktesting.FakeClock)
	clk.Step(time.Minute)
	handed := getSecret(t, c, "creds")
	handed.Annotations[figmav1alpha1.AnnotationOwner] = "b"
	if err := c.Update(ctx, handed); err != nil {
		t.Fatal(err)
	}
	reconcileOnce(t, rb, b)
	reconcileOnce(t, ra, a)
	token := string(getSecret(t, c, "creds").Data["accessToken"])
	if s := ra.status(t, a); s.stalled != figmav1alpha1.ReasonSecretConflict {
		t.Fatalf("a is %+v after the hand-over, want Stalled SecretConflict", s)
	}

	replaceWholesale(t, c)
	reconcileOnce(t, ra, a)
	reconcileOnce(t, rb, b)
	after := getSecret(t, c, "creds")
	if owner := after.Annotations[figmav1alpha1.AnnotationOwner]; owner != "b" || string(after.Data["accessToken"]) != token {
		t.Fatalf("the Secret is %q's with %q, want b's kept token back", owner, after.Data["accessToken"])
	}
	if up.calls != 2 {
		t.Fatalf("%d upstream calls, want 2 (a's token, then b's)", up.calls)
	}
}

// With spec.target, the note of a requested refresh in flight is on the source Secret and
// the token goes to the target: once the target holds the answer the note goes too.
func TestTheNoteOfACallInFlightGoesOnceTheTargetHoldsTheAnswer(t *testing.T) {
	t.Parallel()
	ft, _, r, c, _, up := fakeReconciler(t)
	r.Sharded = true
	updateFigmaToken(t, c, ft, func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "access"} })
	reconcileOnce(t, r, ft)
	requestRefresh(t, c, ft, "2026-11-25T10:05:00Z")
	reconcileOnce(t, r, ft)
	if got := getSecret(t, c, "access").Annotations[figmav1alpha1.AnnotationHandledRefreshRequest]; got != "2026-11-25T10:05:00Z" || up.calls != 2 {
		t.Fatalf("the request was answered %q with %d calls, want it answered with a second call", got, up.calls)
	}
	for _, key := range []string{figmav1alpha1.AnnotationRefreshInFlight, figmav1alpha1.AnnotationRefreshInFlightUntil} {
		if _, ok := getSecret(t, c, "creds").Annotations[key]; ok {
			t.Fatalf("the source keeps %s after the target got the answer", key)
		}
	}
}

// handOver annotates Secret "creds" for the FigmaToken named to, as the SecretConflict
// message tells a user to.
func handOver(t *testing.T, c client.Client, to string) {
	t.Helper()
	s := getSecret(t, c, "creds")
	s.Annotations[figmav1alpha1.AnnotationOwner] = to
	if err := c.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// a writes, hands the Secret to b (which writes a newer token), and b hands it back (a writes
// its kept, older token back). After a wholesale replace the Secret is a's: a hand-over ends
// the other's claim, whatever the age of the tokens.
func TestAfterAHandOverAndBackAWholesaleReplaceLeavesTheSecretWithItsOwner(t *testing.T) {
	t.Parallel()
	a, b, ra, rb, c, up := twoFigmaTokens(t, false)
	clk := ra.Clock.(*clocktesting.FakeClock)
	reconcileOnce(t, ra, a)
	token := string(getSecret(t, c, "creds").Data["accessToken"])
	clk.Step(time.Minute)
	handOver(t, c, "b")
	reconcileOnce(t, rb, b)
	reconcileOnce(t, ra, a)
	clk.Step(time.Minute)
	handOver(t, c, "a")
	reconcileOnce(t, ra, a)
	reconcileOnce(t, rb, b)
	if got := string(getSecret(t, c, "creds").Data["accessToken"]); got != token {
		t.Fatalf("after the hand-back the Secret holds %q, want a's kept token %q", got, token)
	}

	replaceWholesale(t, c)
	reconcileOnce(t, rb, b)
	reconcileOnce(t, ra, a)
	after := getSecret(t, c, "creds")
	if owner := after.Annotations[figmav1alpha1.AnnotationOwner]; owner != "a" || string(after.Data["accessToken"]) != token {
		t.Fatalf("the Secret is %q's with %q, want a's kept token back", owner, after.Data["accessToken"])
	}
	if s := rb.status(t, b); s.stalled != figmav1alpha1.ReasonSecretConflict {
		t.Fatalf("b is %+v, want Stalled SecretConflict", s)
	}
	if up.calls != 2 {
		t.Fatalf("%d upstream calls, want 2 (a's token, then b's)", up.calls)
	}
}
