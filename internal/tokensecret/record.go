package tokensecret

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Record is what a Secret's annotations say about the last refresh written into it.
type Record struct {
	Owner string
	// ExpiresAt and RefreshedAt are zero when absent or unreadable.
	ExpiresAt   time.Time
	RefreshedAt time.Time
	// RefreshTokenHash is the Fingerprint of the refresh token used.
	RefreshTokenHash string
	// HandledRefreshRequest is the refresh-requested-at value this refresh answered.
	HandledRefreshRequest string
	// AccessTokenHash is the AccessTokenFingerprint of the access token written with this
	// record; "" in Secrets written before it existed.
	AccessTokenHash string
	// AccessTokenHashFor is the refreshed-at AccessTokenHash was computed for; zero in
	// Secrets written before it existed. A record whose RefreshedAt is later was refreshed
	// by an earlier version of the operator, which keeps the hash it does not know.
	AccessTokenHashFor time.Time
}

// ReadRecord reads the operator's annotations from a Secret's annotations.
func ReadRecord(annotations map[string]string) Record {
	return Record{
		Owner:                 annotations[figmav1alpha1.AnnotationOwner],
		ExpiresAt:             parseTime(annotations[figmav1alpha1.AnnotationExpiresAt]),
		RefreshedAt:           parseTime(annotations[figmav1alpha1.AnnotationRefreshedAt]),
		RefreshTokenHash:      annotations[figmav1alpha1.AnnotationRefreshTokenHash],
		HandledRefreshRequest: annotations[figmav1alpha1.AnnotationHandledRefreshRequest],
		AccessTokenHash:       annotations[figmav1alpha1.AnnotationAccessTokenHash],
		AccessTokenHashFor:    hashedFor(annotations),
	}
}

// hashedFor reads access-token-hash-for, "<refreshed-at> <access-token-hash>": the
// refreshed-at the hash beside it was computed for. It counts only while access-token-hash
// is still that hash: an earlier version that writes access-token-hash itself (for its own
// refreshed-at) leaves this annotation stale.
func hashedFor(annotations map[string]string) time.Time {
	at, hash, ok := strings.Cut(annotations[figmav1alpha1.AnnotationAccessTokenHashFor], " ")
	if !ok || hash == "" || hash != annotations[figmav1alpha1.AnnotationAccessTokenHash] {
		return time.Time{}
	}
	return parseTime(at)
}

// writeHashedFor records the refreshed-at access-token-hash was computed for, or removes the
// record when at is zero.
func writeHashedFor(annotations map[string]string, at time.Time) {
	if at.IsZero() {
		delete(annotations, figmav1alpha1.AnnotationAccessTokenHashFor)
		return
	}
	annotations[figmav1alpha1.AnnotationAccessTokenHashFor] = formatTime(at) + " " + annotations[figmav1alpha1.AnnotationAccessTokenHash]
}

// Keys names the Secret keys a FigmaToken writes.
type Keys struct {
	AccessToken string
	// ExpiresAt is optional; "" writes the expiry to the annotations only.
	ExpiresAt string
}

// Write puts the access token and the record into the Secret, leaving every other key,
// label and annotation as it was. It changes the object in memory only.
func Write(secret *corev1.Secret, keys Keys, accessToken string, r Record) {
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	RemoveMovedExpiry(secret, keys.ExpiresAt)
	secret.Data[keys.AccessToken] = []byte(accessToken)
	writeExpiry(secret, keys.ExpiresAt, r.ExpiresAt)
	secret.Annotations[figmav1alpha1.AnnotationOwner] = r.Owner
	secret.Annotations[figmav1alpha1.AnnotationExpiresAt] = formatTime(r.ExpiresAt)
	secret.Annotations[figmav1alpha1.AnnotationRefreshedAt] = formatTime(r.RefreshedAt)
	secret.Annotations[figmav1alpha1.AnnotationRefreshTokenHash] = r.RefreshTokenHash
	secret.Annotations[figmav1alpha1.AnnotationAccessTokenHash] = r.AccessTokenHash
	writeHashedFor(secret.Annotations, r.AccessTokenHashFor)
	NoteInFlight(secret.Annotations, InFlight{}) // answered
	if r.HandledRefreshRequest == "" {
		delete(secret.Annotations, figmav1alpha1.AnnotationHandledRefreshRequest)
	} else {
		secret.Annotations[figmav1alpha1.AnnotationHandledRefreshRequest] = r.HandledRefreshRequest
	}
}

// Fingerprint tells refresh tokens apart without revealing them: the first 16 hex digits
// of an HMAC-SHA256 of the token keyed by the FigmaToken's UID.
func Fingerprint(uid, refreshToken string) string {
	mac := hmac.New(sha256.New, []byte(uid))
	_, _ = mac.Write([]byte(refreshToken))
	return hex.EncodeToString(mac.Sum(nil))[:16]
}

// AccessTokenFingerprint is the access-token-hash of a token written with refreshedAt: a
// Fingerprint of both, so that a value is this FigmaToken's token only beside the record it
// was written with.
func AccessTokenFingerprint(uid, accessToken string, refreshedAt time.Time) string {
	return Fingerprint(uid, formatTime(refreshedAt)+"\n"+accessToken)
}

// Holds reports whether the Secret's key holds the access token its record was written
// with: the value, and the refreshed-at beside it, match the record's access-token-hash.
func Holds(secret *corev1.Secret, key, uid string, r Record) bool {
	value := secret.Data[key]
	return len(value) > 0 && r.AccessTokenHash != "" &&
		hmac.Equal([]byte(r.AccessTokenHash), []byte(AccessTokenFingerprint(uid, string(value), r.RefreshedAt)))
}

// HeldValue finds the token the Secret's record was written with: under key, else under
// another key it was moved from (spec.secretRef.accessTokenKey changed). It returns the
// value and the key it is under; ok is false when the Secret holds it nowhere.
func HeldValue(secret *corev1.Secret, key, uid string, r Record) (value, under string, ok bool) {
	if Holds(secret, key, uid, r) {
		return string(secret.Data[key]), key, true
	}
	for other := range secret.Data {
		if other != key && Holds(secret, other, uid, r) {
			return string(secret.Data[other]), other, true
		}
	}
	return "", "", false
}

// ReshapeSource brings a source Secret that holds this FigmaToken's token (uid) to what keys
// ask: the token under keys.AccessToken (moved there from an old key, which is removed) and
// its expiry under keys.ExpiresAt if set; every other key is left as it is. It reports
// whether anything changed, and changes the object in memory only.
func ReshapeSource(secret *corev1.Secret, keys Keys, uid string) bool {
	r := ReadRecord(secret.Annotations)
	value, _, ok := HeldValue(secret, keys.AccessToken, uid, r)
	if !ok {
		return false
	}
	before := secret.DeepCopy()
	RemoveMovedToken(secret, keys.AccessToken, uid)
	RemoveMovedExpiry(secret, keys.ExpiresAt)
	secret.Data[keys.AccessToken] = []byte(value)
	writeExpiry(secret, keys.ExpiresAt, r.ExpiresAt)
	return !equality.Semantic.DeepEqual(before.Data, secret.Data)
}

// writeExpiry puts the expiry under key, if set, and records that key in the
// expires-at-key annotation. It changes the object in memory only.
func writeExpiry(secret *corev1.Secret, key string, expiresAt time.Time) {
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	if key == "" {
		delete(secret.Annotations, figmav1alpha1.AnnotationExpiresAtKey)
		return
	}
	secret.Data[key] = []byte(formatTime(expiresAt))
	secret.Annotations[figmav1alpha1.AnnotationExpiresAtKey] = key
}

// RemoveMovedExpiry removes the expiry the operator wrote under a key it no longer writes
// (spec.secretRef.expiresAtKey renamed or unset): the key the expires-at-key annotation
// names, when it still holds the expiry the record states; any other value is left alone.
// It changes the object in memory only.
func RemoveMovedExpiry(secret *corev1.Secret, keep string) {
	old := secret.Annotations[figmav1alpha1.AnnotationExpiresAtKey]
	if old == "" || old == keep {
		return
	}
	if value, ok := secret.Data[old]; ok && string(value) == secret.Annotations[figmav1alpha1.AnnotationExpiresAt] {
		delete(secret.Data, old)
	}
}

// RemoveMovedToken removes this FigmaToken's token from every key but keep: after
// spec.secretRef.accessTokenKey changed, the value under the old key is removed when its
// fingerprint matches the record the Secret holds (uid is the FigmaToken's), and every other
// value is left alone. It changes the object in memory only.
func RemoveMovedToken(secret *corev1.Secret, keep, uid string) {
	r := ReadRecord(secret.Annotations)
	if r.AccessTokenHash == "" {
		return
	}
	for key := range secret.Data {
		if key != keep && Holds(secret, key, uid, r) {
			delete(secret.Data, key)
		}
	}
}

// AddAccessTokenHash records the access-token-hash of the value the Secret's key holds, for
// the refreshed-at its annotations record: it adopts a token an earlier version wrote. It
// changes the object in memory only.
func AddAccessTokenHash(secret *corev1.Secret, key, uid string) {
	r := ReadRecord(secret.Annotations)
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	secret.Annotations[figmav1alpha1.AnnotationAccessTokenHash] = AccessTokenFingerprint(uid, string(secret.Data[key]), r.RefreshedAt)
	writeHashedFor(secret.Annotations, r.RefreshedAt)
}

// setTime sets annotation key to t, or removes it when t is zero.
func setTime(annotations map[string]string, key string, t time.Time) {
	if t.IsZero() {
		delete(annotations, key)
		return
	}
	annotations[key] = formatTime(t)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// StoreRefreshToken puts a refresh token obtained from an authorization code (or rotated
// to by a refresh) into the Secret and removes the code, which works only once, and the
// spent keys that went with it. It changes the object in memory only.
func StoreRefreshToken(secret *corev1.Secret, key, refreshToken string, spent ...string) {
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	secret.Data[key] = []byte(refreshToken)
	delete(secret.Data, figmav1alpha1.SecretKeyCode)
	for _, k := range spent {
		delete(secret.Data, k)
	}
	if secret.Annotations != nil {
		NoteInFlight(secret.Annotations, InFlight{}) // answered
	}
}
