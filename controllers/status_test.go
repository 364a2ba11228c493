package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// A status written by one reconcile may not be in the cache when the next one runs. Diffed
// against that stale copy, a success would leave failedAttempts 1 on the server.
func TestStatusIsRecordedAgainstTheLatestVersionNotAStaleCache(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	if err := figmav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	stored := &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Name: "ft", Namespace: "ns", Generation: 1, UID: "uid-1"},
		Spec:       figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: "creds", RefreshTokenKey: "refreshToken", AccessTokenKey: "accessToken"}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(stored).WithStatusSubresource(stored).Build()
	ctx := context.Background()
	r := &FigmaTokenReconciler{Client: c, APIReader: c, Secrets: &secretwrite.Writer{Client: c, Reader: c}}
	read := func() *figmav1alpha1.FigmaToken {
		ft := &figmav1alpha1.FigmaToken{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(stored), ft); err != nil {
			t.Fatal(err)
		}
		return ft
	}

	// A success is recorded, and the cache shows it.
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	ok := policy.Observation{
		Now: now, Self: "ft", UID: "uid-1", Generation: 1, SecretFound: true,
		Claim: tokensecret.Verdict{Allowed: true}, RefreshTokenHash: "hash-1", AccessTokenSet: true,
		Record: tokensecret.Record{Owner: "ft", RefreshedAt: now.Add(-30 * time.Minute), ExpiresAt: now.Add(30 * time.Minute), RefreshTokenHash: "hash-1"},
	}
	if err := r.record(ctx, read(), ok, policy.Decide(ok)); err != nil {
		t.Fatal(err)
	}
	cached := read()
	// The next reconcile records a failure; the cache does not show it yet.
	failed := ok
	failed.Failure = policy.Failure{Attempts: 1, Last: now.Add(-time.Second), Reason: figmav1alpha1.ReasonRefreshFailed,
		Message: "RefreshToken failed: HTTP 503. Retrying with backoff.", Generation: 1, CredentialHash: "hash-1"}
	if err := r.record(ctx, cached.DeepCopy(), failed, policy.Decide(failed)); err != nil {
		t.Fatal(err)
	}
	// The one after succeeds, still with the cached copy: its status is what it wants.
	if err := r.record(ctx, cached.DeepCopy(), ok, policy.Decide(ok)); err != nil {
		t.Fatal(err)
	}

	got := read()
	if got.Status.FailedAttempts != 0 || got.Status.LastFailureTime != nil || got.Status.FailedCredentialHash != "" {
		t.Fatalf("after the success the server holds failedAttempts %d, lastFailureTime %v, failedCredentialHash %q",
			got.Status.FailedAttempts, got.Status.LastFailureTime, got.Status.FailedCredentialHash)
	}
	for _, cond := range got.Status.Conditions {
		if cond.Type != figmav1alpha1.ConditionReady {
			t.Fatalf("condition %s left over from the failure", cond.Type)
		}
	}
}

// A status patch carries the generation that was observed, also when a conflict makes it
// land on a newer version of the spec; and it never lands on a FigmaToken re-created under
// the same name meanwhile.
func TestStatusClaimsOnlyTheGenerationAndUIDObserved(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	if err := figmav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	observed := &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Name: "ft", Namespace: "ns", Generation: 1, UID: "uid-1"},
		Spec:       figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: "creds", RefreshTokenKey: "refreshToken", AccessTokenKey: "accessToken"}},
	}
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	obs := policy.Observation{Now: now, Self: "ft", UID: "uid-1", Generation: 1, SecretFound: true,
		Claim: tokensecret.Verdict{Allowed: true}, RefreshTokenHash: "hash-1", AccessTokenSet: true, TokenHeld: true,
		Record: tokensecret.Record{Owner: "ft", RefreshedAt: now.Add(-30 * time.Minute), ExpiresAt: now.Add(30 * time.Minute), RefreshTokenHash: "hash-1"}}
	ctx := context.Background()

	for name, server := range map[string]*figmav1alpha1.FigmaToken{
		"the spec edited during the reconcile": func() *figmav1alpha1.FigmaToken {
			newer := observed.DeepCopy()
			newer.Generation = 2
			return newer
		}(),
		"the FigmaToken deleted and re-created": func() *figmav1alpha1.FigmaToken {
			other := observed.DeepCopy()
			other.UID = "uid-2"
			return other
		}(),
	} {
		c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(server).WithStatusSubresource(server).Build()
		r := &FigmaTokenReconciler{Client: c, APIReader: c, Secrets: &secretwrite.Writer{Client: c, Reader: c}}
		stale := observed.DeepCopy()
		stale.ResourceVersion = "1" // the version observed; the server's is newer: the patch conflicts
		if err := r.record(ctx, stale, obs, policy.Decide(obs)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := &figmav1alpha1.FigmaToken{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(server), got); err != nil {
			t.Fatal(err)
		}
		switch {
		case got.UID != observed.UID && len(got.Status.Conditions) > 0:
			t.Errorf("%s: the predecessor's status landed on it: %+v", name, got.Status)
		case got.UID == observed.UID && got.Status.ObservedGeneration != 1:
			t.Errorf("%s: observedGeneration %d, want 1 (the generation observed)", name, got.Status.ObservedGeneration)
		}
		for _, cond := range got.Status.Conditions {
			if cond.ObservedGeneration != 1 {
				t.Errorf("%s: condition %s claims generation %d", name, cond.Type, cond.ObservedGeneration)
			}
		}
	}
}
