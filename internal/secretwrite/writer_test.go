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

// A write that meets a newer version re-reads it, asks, and writes again what it holds.
func TestPutRereadsAndAsksOnAConflict(t *testing.T) {
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

	var asked []string
	rec := tokensecret.Record{Owner: "design", RefreshedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	written, ok, err := w.InPlace(ctx, owner("uid-1"), stale, tokensecret.Keys{AccessToken: "accessToken"}, "refreshToken",
		Token{AccessToken: "access-1"}, rec, func(current *corev1.Secret) (bool, error) {
			asked = append(asked, current.Labels["other"])
			return true, nil
		})
	if err != nil || !ok {
		t.Fatalf("InPlace = %v, %v", ok, err)
	}
	if len(asked) != 1 || asked[0] != "writer" {
		t.Fatalf("recheck saw %v, want the newer version once", asked)
	}
	if written.Labels["other"] != "writer" || string(written.Data["refreshToken"]) != "refresh-1" {
		t.Fatalf("the write lost the other writer's change: %+v", written.ObjectMeta)
	}
	if !w.IsOwnWrite(secret, written) {
		t.Fatal("its own write is not recognized")
	}

	// Refused on recheck: nothing written, no error.
	if _, ok, err := w.Claim(ctx, owner("uid-1"), stale, func(*corev1.Secret) (bool, error) { return false, nil }); ok || err != nil {
		t.Fatalf("Claim on a stale version refused by recheck = %v, %v; want false, nil", ok, err)
	}
}

func TestKeptTokensBelongToOneUIDAndAreForgotten(t *testing.T) {
	w := newWriter(t)
	ft := owner("uid-1")
	w.Keep(ft, Token{AccessToken: "access-1", CredentialHash: "hash-1"})
	w.noteWrite(ft, types.NamespacedName{Namespace: "web", Name: "creds"}, "2026-11-25T10:00:00Z")
	w.Written(ft)
	if k, ok := w.Kept(ft); !ok || !k.Written {
		t.Fatalf("Kept = %+v, %v", k, ok)
	}
	if owners, secrets := w.Size(); owners != 1 || secrets != 1 {
		t.Fatalf("Size = %d, %d; want 1, 1", owners, secrets)
	}
	// A FigmaToken re-created under the same name starts afresh.
	if _, ok := w.Kept(owner("uid-2")); ok {
		t.Fatal("the token of the old FigmaToken carried over")
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
