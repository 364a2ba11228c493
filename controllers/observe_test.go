package controllers

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// countingReader counts the reads that go to the API server.
type countingReader struct {
	client.Reader
	reads int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.reads++
	return c.Reader.Get(ctx, key, obj, opts...)
}

// A Secret read costs a request per FigmaToken, so a restart of the operator would cost N
// of them. The cache holds the Secret's metadata; while it shows the version this
// FigmaToken wrote, that version holds what its annotations record, and nothing is read
// until a refresh is due.
func TestObserveReadsTheSecretOnlyWhenItChangedOrARefreshIsDue(t *testing.T) {
	t.Parallel()
	scheme := testScheme(t)
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	ft := inPlaceFigmaToken()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"},
		Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	rec := tokensecret.Record{Owner: "ft", RefreshedAt: now.Add(-10 * time.Minute), ExpiresAt: now.Add(50 * time.Minute),
		RefreshTokenHash: tokensecret.Fingerprint("uid-1", "refresh-1")}
	rec.AccessTokenHash = tokensecret.AccessTokenFingerprint("uid-1", "access-1", rec.RefreshedAt)
	tokensecret.Write(secret, secretKeys(ft), "access-1", rec)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret).Build()
	ctx := context.Background()
	if err := c.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
		t.Fatal(err)
	}
	api := &countingReader{Reader: c}
	clk := clocktesting.NewFakePassiveClock(now)
	r := &FigmaTokenReconciler{Client: c, APIReader: api, Secrets: &secretwrite.Writer{Client: c, Reader: api, Clock: clk}, SecretMetadata: c, Clock: clk}
	ft.Status = figmav1alpha1.FigmaTokenStatus{ObservedGeneration: 1, SecretName: "creds", SecretResourceVersion: secret.ResourceVersion}

	observe := func(step string, wantReads int) {
		t.Helper()
		api.reads = 0
		obs, _, err := r.observe(ctx, ft, policy.Route{})
		if err != nil {
			t.Fatal(err)
		}
		if api.reads != wantReads {
			t.Fatalf("%s: %d Secret reads, want %d", step, api.reads, wantReads)
		}
		if !obs.Valid() || obs.Record != rec || obs.RefreshTokenHash != rec.RefreshTokenHash || !obs.Claim.Allowed {
			t.Fatalf("%s: observed %+v", step, obs)
		}
	}
	observe("the version it wrote, nothing due", 0)

	clk.SetTime(now.Add(40 * time.Minute))
	observe("the version it wrote, a refresh due", 1)

	clk.SetTime(now)
	secret.Labels = map[string]string{"team": "design"}
	if err := c.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	observe("changed by someone else", 1)

	// A spec change (after a restart, too) is never answered from trust alone: the keys
	// the Secret must hold may have changed with it.
	ft.Status.SecretResourceVersion = secret.ResourceVersion
	observe("the version it wrote again", 0)
	ft.Generation = 2
	observe("a new generation", 1)
}

// A watch that failed (an API server outage) leaves the cache blind to what changed until
// the informer reconnects, up to a minute later: meanwhile the Secret is read.
func TestObserveReadsTheSecretForAMinuteAfterAWatchFailed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	ft := inPlaceFigmaToken()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"},
		Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	tokensecret.Write(secret, secretKeys(ft), "access-1", tokensecret.Record{Owner: "ft", RefreshedAt: now.Add(-10 * time.Minute),
		ExpiresAt: now.Add(50 * time.Minute), RefreshTokenHash: tokensecret.Fingerprint("uid-1", "refresh-1"),
		AccessTokenHash: tokensecret.AccessTokenFingerprint("uid-1", "access-1", now.Add(-10*time.Minute))})
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(secret).Build()
	ctx := context.Background()
	if err := c.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
		t.Fatal(err)
	}
	api := &countingReader{Reader: c}
	clk := clocktesting.NewFakePassiveClock(now)
	r := &FigmaTokenReconciler{Client: c, APIReader: api, Secrets: &secretwrite.Writer{Client: c, Reader: api, Clock: clk}, SecretMetadata: c, Clock: clk, Watches: NewWatchHealth(clk)}
	ft.Status = figmav1alpha1.FigmaTokenStatus{ObservedGeneration: 1, SecretName: "creds", SecretResourceVersion: secret.ResourceVersion}
	reads := func() int {
		t.Helper()
		api.reads = 0
		if _, _, err := r.observe(ctx, ft, policy.Route{}); err != nil {
			t.Fatal(err)
		}
		return api.reads
	}

	r.Watches.HandleWatchError(ctx, &toolscache.Reflector{}, io.EOF)
	if n := reads(); n != 0 {
		t.Fatalf("after a watch that ended normally: %d Secret reads, want 0", n)
	}
	r.Watches.HandleWatchError(ctx, &toolscache.Reflector{}, errors.New("connection refused"))
	if n := reads(); n != 1 {
		t.Fatalf("right after a failed watch: %d Secret reads, want 1", n)
	}
	clk.SetTime(now.Add(59 * time.Second))
	if n := reads(); n != 1 {
		t.Fatalf("59 s after a failed watch: %d Secret reads, want 1", n)
	}
	clk.SetTime(now.Add(time.Minute))
	if n := reads(); n != 0 {
		t.Fatalf("a minute after a failed watch: %d Secret reads, want 0", n)
	}
}
