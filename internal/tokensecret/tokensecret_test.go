package tokensecret

import (
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func TestMayWrite(t *testing.T) {
	tests := []struct {
		name  string
		claim Claim
		want  bool
	}{
		{"fresh Secret with only a refresh token", Claim{}, true},
		{"empty access token key is free", Claim{AccessTokenSet: false}, true},
		{"foreign access token without owner is left alone", Claim{AccessTokenSet: true}, false},
		{"owned by this FigmaToken", Claim{Owner: "me", AccessTokenSet: true}, true},
		{"owned by another FigmaToken that still claims it", Claim{Owner: "other", AccessTokenSet: true, OwnerStillClaims: true}, false},
		{"owned by a FigmaToken that is gone or moved on", Claim{Owner: "other", AccessTokenSet: true}, true},
		{"immutable Secret, even if owned", Claim{Owner: "me", Immutable: true}, false},
		{"immutable fresh Secret", Claim{Immutable: true}, false},
		{"a value in a Secret this FigmaToken wrote, the owner annotation removed: an overwrite", Claim{AccessTokenSet: true, WroteBefore: true}, true},
		{"written before, but handed over to another FigmaToken", Claim{Owner: "other", AccessTokenSet: true, OwnerStillClaims: true, WroteBefore: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MayWrite(tt.claim, "me")
			if got.Allowed != tt.want {
				t.Fatalf("MayWrite(%+v) = %+v, want allowed=%v", tt.claim, got, tt.want)
			}
			if !got.Allowed && got.Why == "" {
				t.Fatal("a refusal must say why")
			}
		})
	}
}

func TestWriteKeepsEverythingElse(t *testing.T) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"app": "web"},
			Annotations: map[string]string{"team": "design", "figma.tokenops.dev/handled-refresh-request": "old"},
		},
		Data: map[string][]byte{"refreshToken": []byte("r1"), "other": []byte("x"), "accessToken": []byte("a0")},
	}
	expires := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	rec := Record{Owner: "ft", ExpiresAt: expires, RefreshedAt: expires.Add(-time.Hour), RefreshTokenHash: "0123456789abcdef"}
	Write(secret, Keys{AccessToken: "accessToken", ExpiresAt: "expiresAt"}, "a1", rec)

	if got := string(secret.Data["accessToken"]); got != "a1" {
		t.Errorf("accessToken = %q", got)
	}
	if got := string(secret.Data["expiresAt"]); got != "2026-11-25T11:00:00Z" {
		t.Errorf("expiresAt = %q", got)
	}
	if string(secret.Data["refreshToken"]) != "r1" || string(secret.Data["other"]) != "x" {
		t.Errorf("other keys changed: %v", secret.Data)
	}
	if secret.Labels["app"] != "web" || secret.Annotations["team"] != "design" {
		t.Errorf("labels or annotations lost: %v %v", secret.Labels, secret.Annotations)
	}
	if _, ok := secret.Annotations["figma.tokenops.dev/handled-refresh-request"]; ok {
		t.Error("a handled request from an earlier refresh was kept")
	}
	if got := ReadRecord(secret.Annotations); got != rec {
		t.Errorf("ReadRecord = %+v, want %+v", got, rec)
	}
}

func TestReadRecordToleratesGarbage(t *testing.T) {
	got := ReadRecord(map[string]string{"figma.tokenops.dev/expires-at": "tomorrow"})
	if !got.ExpiresAt.IsZero() {
		t.Fatalf("unreadable expiry parsed as %v", got.ExpiresAt)
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint("uid-1", "refresh-token")
	if len(a) != 16 {
		t.Fatalf("fingerprint %q is not 16 hex digits", a)
	}
	if a != Fingerprint("uid-1", "refresh-token") {
		t.Fatal("fingerprint is not stable")
	}
	if a == Fingerprint("uid-1", "other-token") || a == Fingerprint("uid-2", "refresh-token") {
		t.Fatal("fingerprint does not tell tokens or owners apart")
	}
}

func TestShapeTargetHoldsOnlyTheAccessToken(t *testing.T) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"stray": "x"},
			Annotations: map[string]string{"stray": "x"},
		},
		Data: map[string][]byte{"refreshToken": []byte("r1"), "accessToken": []byte("old")},
	}
	expires := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	rec := Record{Owner: "ft", ExpiresAt: expires, RefreshedAt: expires.Add(-time.Hour), RefreshTokenHash: "0123456789abcdef"}
	target := Target{
		Keys:        Keys{AccessToken: "token", ExpiresAt: "expiresAt"},
		Labels:      map[string]string{"app": "web"},
		Annotations: map[string]string{"team": "design"},
	}
	ShapeTarget(secret, target, "a1", rec)

	if len(secret.Data) != 2 || string(secret.Data["token"]) != "a1" || string(secret.Data["expiresAt"]) != "2026-11-25T11:00:00Z" {
		t.Errorf("data = %v, want only token and expiresAt", secret.Data)
	}
	if len(secret.Labels) != 1 || secret.Labels["app"] != "web" {
		t.Errorf("labels = %v", secret.Labels)
	}
	if secret.Annotations["team"] != "design" || secret.Annotations["stray"] != "" {
		t.Errorf("annotations = %v", secret.Annotations)
	}
	if got := ReadRecord(secret.Annotations); got != rec {
		t.Errorf("record = %+v, want %+v", got, rec)
	}
	if secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("type = %q", secret.Type)
	}
	target.Labels["app"] = "changed"
	if secret.Labels["app"] != "web" {
		t.Error("the target shares the spec's label map")
	}
}

func TestHoldsOnlyTheTokenWrittenWithItsRecord(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := Record{Owner: "ft", RefreshedAt: at, AccessTokenHash: AccessTokenFingerprint("uid-1", "access-1", at)}
	secret := func(value string) *corev1.Secret {
		return &corev1.Secret{Data: map[string][]byte{"accessToken": []byte(value)}}
	}
	if !Holds(secret("access-1"), "accessToken", "uid-1", r) {
		t.Fatal("the token written with the record is not recognized")
	}
	for name, tc := range map[string]struct {
		value, uid string
		r          Record
	}{
		"another value":                 {"stale", "uid-1", r},
		"emptied":                       {"", "uid-1", r},
		"another FigmaToken's UID":      {"access-1", "uid-2", r},
		"the record of another refresh": {"access-1", "uid-1", Record{RefreshedAt: at.Add(time.Hour), AccessTokenHash: r.AccessTokenHash}},
		"no hash (an earlier version)":  {"access-1", "uid-1", Record{RefreshedAt: at}},
	} {
		if Holds(secret(tc.value), "accessToken", tc.uid, tc.r) {
			t.Errorf("%s: Holds = true", name)
		}
	}
	adopted := secret("access-1")
	adopted.Annotations = map[string]string{"figma.tokenops.dev/refreshed-at": "2026-11-25T10:00:00Z"}
	AddAccessTokenHash(adopted, "accessToken", "uid-1")
	if !Holds(adopted, "accessToken", "uid-1", ReadRecord(adopted.Annotations)) {
		t.Fatal("AddAccessTokenHash does not make the Secret hold its token")
	}
}

func TestRemoveMovedTokenRemovesOnlyThisFigmaTokensToken(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	secret := &corev1.Secret{Data: map[string][]byte{
		"refreshToken": []byte("refresh-1"),
		"oldKey":       []byte("access-1"),
		"other":        []byte("someone-elses"),
		"newKey":       []byte("access-1"),
	}}
	Write(secret, Keys{AccessToken: "oldKey"}, "access-1", Record{Owner: "ft", RefreshedAt: at, ExpiresAt: at.Add(time.Hour),
		AccessTokenHash: AccessTokenFingerprint("uid-1", "access-1", at)})
	RemoveMovedToken(secret, "newKey", "uid-1")
	if _, ok := secret.Data["oldKey"]; ok {
		t.Fatal("the token under the old key was left")
	}
	for _, key := range []string{"refreshToken", "other", "newKey"} {
		if _, ok := secret.Data[key]; !ok {
			t.Fatalf("key %s was removed", key)
		}
	}
	// Another FigmaToken's fingerprint matches nothing.
	secret.Data["oldKey"] = []byte("access-1")
	RemoveMovedToken(secret, "newKey", "uid-2")
	if _, ok := secret.Data["oldKey"]; !ok {
		t.Fatal("a value was removed for another UID")
	}
}

func TestReshapeSourceMovesTheTokenAndWritesTheExpiry(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	secret := &corev1.Secret{Data: map[string][]byte{"refreshToken": []byte("refresh-1"), "other": []byte("x")}}
	Write(secret, Keys{AccessToken: "accessToken"}, "access-1", Record{Owner: "ft", RefreshedAt: at, ExpiresAt: at.Add(time.Hour),
		AccessTokenHash: AccessTokenFingerprint("uid-1", "access-1", at)})
	keys := Keys{AccessToken: "token", ExpiresAt: "expiresAt"}
	if !ReshapeSource(secret, keys, "uid-1") {
		t.Fatal("nothing changed")
	}
	if string(secret.Data["token"]) != "access-1" || string(secret.Data["expiresAt"]) != "2026-11-25T11:00:00Z" {
		t.Fatalf("reshaped data: %v", secret.Data)
	}
	if _, ok := secret.Data["accessToken"]; ok {
		t.Fatal("the old key stayed")
	}
	if string(secret.Data["refreshToken"]) != "refresh-1" || string(secret.Data["other"]) != "x" {
		t.Fatal("another key changed")
	}
	if ReshapeSource(secret, keys, "uid-1") {
		t.Fatal("a second reshape changed something")
	}
	if ReshapeSource(&corev1.Secret{Data: map[string][]byte{"accessToken": []byte("foreign")}}, keys, "uid-1") {
		t.Fatal("a Secret without this FigmaToken's token was reshaped")
	}
}

// spec.secretRef.expiresAtKey renamed or unset: the expiry the operator wrote under the old
// key goes, in the next write or the sync that follows the spec change; a value another
// writer put there since is left alone.
func TestARenamedExpiresAtKeyTakesItsStaleExpiryAlong(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	first := Record{Owner: "ft", RefreshedAt: at, ExpiresAt: at.Add(time.Hour), RefreshTokenHash: "0123456789abcdef"}
	first.AccessTokenHash = AccessTokenFingerprint("uid-1", "a1", at)
	later := first
	later.RefreshedAt, later.ExpiresAt = at.Add(40*time.Minute), at.Add(100*time.Minute)
	later.AccessTokenHash = AccessTokenFingerprint("uid-1", "a2", later.RefreshedAt)
	written := func() *corev1.Secret {
		s := &corev1.Secret{Data: map[string][]byte{"refreshToken": []byte("r1"), "user": []byte("kept")}}
		Write(s, Keys{AccessToken: "accessToken", ExpiresAt: "expiresAt"}, "a1", first)
		return s
	}
	tests := []struct {
		name  string
		apply func(*corev1.Secret)
		want  map[string]string
	}{
		{name: "renamed, then refreshed", apply: func(s *corev1.Secret) {
			Write(s, Keys{AccessToken: "accessToken", ExpiresAt: "expiry"}, "a2", later)
		}, want: map[string]string{"expiry": "2026-11-25T11:40:00Z"}},
		{name: "unset, then refreshed", apply: func(s *corev1.Secret) {
			Write(s, Keys{AccessToken: "accessToken"}, "a2", later)
		}, want: map[string]string{}},
		{name: "renamed, synced without a refresh", apply: func(s *corev1.Secret) {
			ReshapeSource(s, Keys{AccessToken: "accessToken", ExpiresAt: "expiry"}, "uid-1")
		}, want: map[string]string{"expiry": "2026-11-25T11:00:00Z"}},
		{name: "unset, synced without a refresh", apply: func(s *corev1.Secret) {
			ReshapeSource(s, Keys{AccessToken: "accessToken"}, "uid-1")
		}, want: map[string]string{}},
		{name: "another writer's value under the old key stays", apply: func(s *corev1.Secret) {
			s.Data["expiresAt"] = []byte("not ours")
			Write(s, Keys{AccessToken: "accessToken", ExpiresAt: "expiry"}, "a2", later)
		}, want: map[string]string{"expiresAt": "not ours", "expiry": "2026-11-25T11:40:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := written()
			tt.apply(s)
			got := map[string]string{}
			for k, v := range s.Data {
				if k != "refreshToken" && k != "accessToken" && k != "user" {
					got[k] = string(v)
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("expiry keys = %v, want %v", got, tt.want)
			}
			if string(s.Data["user"]) != "kept" || string(s.Data["refreshToken"]) != "r1" {
				t.Fatal("another key changed")
			}
		})
	}
}

// access-token-hash-for counts only beside the hash it was written with: an earlier version
// that writes access-token-hash itself (for its own refreshed-at) leaves it stale, and a
// value another writer puts there later must not be adopted on its account.
func TestAccessTokenHashForCountsOnlyBesideItsHash(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := Record{Owner: "ft", RefreshedAt: at, ExpiresAt: at.Add(time.Hour), AccessTokenHash: AccessTokenFingerprint("uid-1", "a1", at), AccessTokenHashFor: at}
	s := &corev1.Secret{}
	Write(s, Keys{AccessToken: "accessToken"}, "a1", r)
	if got := ReadRecord(s.Annotations); got != r {
		t.Fatalf("record = %+v, want %+v", got, r)
	}
	s.Annotations[figmav1alpha1.AnnotationAccessTokenHash] = AccessTokenFingerprint("uid-1", "a2", at.Add(time.Hour))
	if got := ReadRecord(s.Annotations).AccessTokenHashFor; !got.IsZero() {
		t.Fatalf("access-token-hash-for read as %s beside another hash, want unknown", got)
	}
}
