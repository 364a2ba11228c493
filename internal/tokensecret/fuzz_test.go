package tokensecret

import (
	"bytes"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func FuzzMayWrite(f *testing.F) {
	f.Add("", false, false, false)
	f.Add("me", true, false, true)
	f.Add("other", true, false, true)
	f.Add("other", true, true, false)
	f.Fuzz(func(t *testing.T, owner string, accessTokenSet, immutable, ownerStillClaims bool) {
		c := Claim{Owner: owner, AccessTokenSet: accessTokenSet, Immutable: immutable, OwnerStillClaims: ownerStillClaims}
		v := MayWrite(c, "me")
		switch {
		case immutable && v.Allowed:
			t.Fatal("wrote an immutable Secret")
		case owner == "" && accessTokenSet && v.Allowed:
			t.Fatal("overwrote an access token nobody claimed")
		case owner != "" && owner != "me" && ownerStillClaims && v.Allowed:
			t.Fatal("took a Secret another FigmaToken still owns")
		case owner == "me" && !immutable && !v.Allowed:
			t.Fatal("refused its own Secret")
		case !v.Allowed && v.Why == "":
			t.Fatal("refused without a reason")
		}
	})
}

// FuzzWriteTouchesOnlyItsKeys: whatever the Secret holds, a write changes the access token
// key, the expiry key and the operator's annotations, and nothing else.
func FuzzWriteTouchesOnlyItsKeys(f *testing.F) {
	f.Add("refreshToken", []byte("r"), "accessToken", "", "token", "team", "design")
	f.Add("accessToken", []byte("old"), "accessToken", "expiresAt", "new", "figma.tokenops.dev/owner", "someone")
	f.Fuzz(func(t *testing.T, key string, value []byte, accessKey, expiresKey, token, annotation, annotationValue string) {
		if accessKey == "" || accessKey == expiresKey {
			return
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{annotation: annotationValue}, Labels: map[string]string{"l": "v"}},
			Data:       map[string][]byte{key: value},
		}
		before := secret.DeepCopy()
		rec := Record{Owner: "me", ExpiresAt: time.Unix(1_800_000_000, 0), RefreshedAt: time.Unix(1_799_996_400, 0), RefreshTokenHash: "0123456789abcdef"}
		Write(secret, Keys{AccessToken: accessKey, ExpiresAt: expiresKey}, token, rec)

		if got := string(secret.Data[accessKey]); got != token {
			t.Fatalf("access token key holds %q, want %q", got, token)
		}
		for k, v := range before.Data {
			if k != accessKey && k != expiresKey && !bytes.Equal(secret.Data[k], v) {
				t.Fatalf("key %q changed", k)
			}
		}
		for k, v := range before.Annotations {
			if len(k) < len(ownPrefix) || k[:len(ownPrefix)] != ownPrefix {
				if secret.Annotations[k] != v {
					t.Fatalf("annotation %q changed", k)
				}
			}
		}
		if !maps.Equal(secret.Labels, before.Labels) {
			t.Fatal("labels changed")
		}
		if got := ReadRecord(secret.Annotations); got.Owner != "me" || !got.ExpiresAt.Equal(rec.ExpiresAt) {
			t.Fatalf("record read back as %+v", got)
		}
	})
}

const ownPrefix = "figma.tokenops.dev/"
