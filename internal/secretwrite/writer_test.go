package secretwrite

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

func owner(uid types.UID) *figmav1alpha1.FigmaToken {
	return &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "design", UID: uid}}
}

func newWriter(t *testing.T, objects ...client.Object) *Writer {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := figmav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objects...).Build()
	return &Writer{Client: c, Reader: c}
}

// A write that meets a newer version writes nothing and says so (IsChanged): the reconcile
// looks again and decides on what is there. A refresh token is stored on whatever version
// is found, as the code it was exchanged for is spent.
func TestAChangedSecretIsAnOutcomeNotARetry(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "creds"},
		Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	w := newWriter(t, secret)
	ctx := context.Background()
	stale, err := w.Read(ctx, client.ObjectKeyFromObject(secret))
	if err != nil {
		t.Fatal(err)
	}
	// Another writer changes the Secret after the read.
	changed := stale.DeepCopy()
	changed.Labels = map[string]string{"other": "writer"}
	if err := w.Client.Update(ctx, changed); err != nil {
		t.Fatal(err)
	}

	rec := tokensecret.Record{Owner: "design", RefreshedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	if _, err := w.InPlace(ctx, owner("uid-1"), stale, tokensecret.Keys{AccessToken: "accessToken"}, "refreshToken",
		Token{AccessToken: "access-1"}, rec); !IsChanged(err) {
		t.Fatalf("InPlace on a stale version = %v, want a conflict", err)
	}
	if _, err := w.Claim(ctx, owner("uid-1"), stale); !IsChanged(err) {
		t.Fatalf("Claim on a stale version = %v, want a conflict", err)
	}
	current, err := w.Read(ctx, client.ObjectKeyFromObject(secret))
	if err != nil {
		t.Fatal(err)
	}
	if current.Annotations[figmav1alpha1.AnnotationOwner] != "" || current.Data["accessToken"] != nil {
		t.Fatalf("a write on a stale version landed: %+v", current.ObjectMeta)
	}
	if _, ok := w.Kept(owner("uid-1")); ok {
		t.Fatal("a write that did not land was booked")
	}

	stored, err := w.StoreRefreshToken(ctx, owner("uid-1"), stale, "refreshToken", Token{RefreshToken: "refresh-2", AccessToken: "access-2"}, "hash-2")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Labels["other"] != "writer" || string(stored.Data["refreshToken"]) != "refresh-2" {
		t.Fatalf("the refresh token was not stored on the version found: %+v", stored.ObjectMeta)
	}
	if k, ok := w.Kept(owner("uid-1")); !ok || k.RefreshToken != "" || k.CredentialHash != "hash-2" {
		t.Fatalf("Kept after storing the refresh token = %+v, %v; want it under the stored refresh token", k, ok)
	}

	// A write that lands books the token it wrote, and is recognized as its own.
	written, err := w.InPlace(ctx, owner("uid-1"), stored, tokensecret.Keys{AccessToken: "accessToken"}, "refreshToken",
		Token{AccessToken: "access-2", CredentialHash: "hash-2"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !w.IsOwnWrite(stored, written) {
		t.Fatal("its own write is not recognized")
	}
	if k, ok := w.Kept(owner("uid-1")); !ok || !k.Written {
		t.Fatalf("Kept after the write = %+v, %v; want it written", k, ok)
	}
}

func TestKeptTokensBelongToOneUIDAndAreForgotten(t *testing.T) {
	w := newWriter(t)
	ft := owner("uid-1")
	w.Keep(ft, Token{AccessToken: "access-1", CredentialHash: "hash-1"})
	w.noteWrite(ft, types.NamespacedName{Namespace: "web", Name: "creds"}, "2026-11-25T10:00:00Z")
	w.SeeOverwrite(ft, 1, "7", "")
	if k, ok := w.Kept(ft); !ok || k.AccessToken != "access-1" {
		t.Fatalf("Kept = %+v, %v", k, ok)
	}
	if owners, secrets := w.Size(); owners != 1 || secrets != 1 {
		t.Fatalf("Size = %d, %d; want 1, 1", owners, secrets)
	}
	// A FigmaToken re-created under the same name starts afresh.
	if _, ok := w.Kept(owner("uid-2")); ok {
		t.Fatal("the token of the old FigmaToken carried over")
	}
	if len(w.Overwrites(owner("uid-2"), 1).Recent) != 0 {
		t.Fatal("the overwrites of the old FigmaToken carried over")
	}
	w.Forget(client.ObjectKeyFromObject(ft))
	if owners, secrets := w.Size(); owners != 0 || secrets != 0 {
		t.Fatalf("after Forget: %d, %d; want none", owners, secrets)
	}
	if w.IsOwnWrite(&metav1.ObjectMeta{}, &metav1.ObjectMeta{Namespace: "web", Name: "creds",
		Annotations: map[string]string{figmav1alpha1.AnnotationRefreshedAt: "2026-11-25T10:00:00Z"}}) {
		t.Fatal("an own-write note outlived its FigmaToken")
	}
}
