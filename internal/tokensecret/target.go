package tokensecret

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Target describes a FigmaToken's target Secret: the keys it writes and the labels and
// annotations the user asked for.
type Target struct {
	// Of is the FigmaToken's UID, recorded in the target-of mark.
	Of          string
	Keys        Keys
	Labels      map[string]string
	Annotations map[string]string
}

// ShapeTarget makes secret hold exactly what a target Secret holds: the access token, the
// expiry key if set, the record, the target-of mark, and the requested labels and
// annotations; never the refresh token or anything else. It changes the object in memory
// only.
func ShapeTarget(secret *corev1.Secret, t Target, accessToken string, r Record) {
	secret.Labels = maps.Clone(t.Labels)
	secret.Annotations = maps.Clone(t.Annotations)
	secret.Data = nil
	secret.StringData = nil
	if secret.Type == "" {
		secret.Type = corev1.SecretTypeOpaque
	}
	Write(secret, t.Keys, accessToken, r)
	secret.Annotations[figmav1alpha1.AnnotationTargetOf] = t.Of
}

// IsTargetOf reports whether a Secret carries the mark of a target Secret the operator
// created for the FigmaToken of uid: the only kind of Secret it may delete.
func IsTargetOf(secret metav1.Object, uid string) bool {
	return uid != "" && secret.GetAnnotations()[figmav1alpha1.AnnotationTargetOf] == uid
}

// Release makes a Secret created as a target of the FigmaToken of uid an ordinary Secret
// again, for when spec.secretRef names it (it holds the refresh token now): the mark and
// that FigmaToken's ownerReference go, so neither the operator nor Kubernetes' garbage
// collector deletes it with the FigmaToken. Whether the Secret was created as a target is
// the caller's to judge (the mark, or for an earlier version's target the managedFields):
// a person's or tool's ownerReference must stay. It changes the object in memory only.
func Release(secret metav1.Object, uid string) {
	annotations := maps.Clone(secret.GetAnnotations())
	delete(annotations, figmav1alpha1.AnnotationTargetOf)
	secret.SetAnnotations(annotations)
	secret.SetOwnerReferences(slices.DeleteFunc(slices.Clone(secret.GetOwnerReferences()),
		func(ref metav1.OwnerReference) bool { return ref.UID == types.UID(uid) }))
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
