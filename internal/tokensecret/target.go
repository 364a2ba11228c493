package tokensecret

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Target describes a FigmaToken's target Secret: the keys it writes and the labels and
// annotations the user asked for.
type Target struct {
	Keys        Keys
	Labels      map[string]string
	Annotations map[string]string
}

// ShapeTarget makes secret hold exactly what a target Secret holds: the access token, the
// expiry key if set, the record, and the requested labels and annotations; never the
// refresh token or anything else. It changes the object in memory only.
func ShapeTarget(secret *corev1.Secret, t Target, accessToken string, r Record) {
	secret.Labels = maps.Clone(t.Labels)
	secret.Annotations = maps.Clone(t.Annotations)
	secret.Data = nil
	secret.StringData = nil
	if secret.Type == "" {
		secret.Type = corev1.SecretTypeOpaque
	}
	Write(secret, t.Keys, accessToken, r)
}

// Reshape brings an existing target Secret back to what t asks, keeping the access token it
// holds (wherever its record says it is, for uid), and reports whether anything changed.
func Reshape(secret *corev1.Secret, t Target, r Record, uid string) bool {
	before := secret.DeepCopy()
	value, _, ok := HeldValue(secret, t.Keys.AccessToken, uid, r)
	if !ok {
		value = string(before.Data[t.Keys.AccessToken])
	}
	ShapeTarget(secret, t, value, r)
	return !equality.Semantic.DeepEqual(secret.Labels, before.Labels) ||
		!equality.Semantic.DeepEqual(secret.Annotations, before.Annotations) ||
		!equality.Semantic.DeepEqual(secret.Data, before.Data)
}
