package tokensecret

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// FieldManager marks every Secret write of the operator in managedFields, so that the
// writes of others can be told apart and named.
const FieldManager = "figma-token-operator"

// LastWriter describes, for messages, who made the last change from the Secret's
// managedFields: the field manager that holds the access token key (it set the value), or,
// when none does (the key was removed: a replace or a delete and re-create leaves no trace
// of the writer), the managers of the Secret's other fields; "" when none is known.
func LastWriter(secret *corev1.Secret, accessTokenKey string) string {
	var others []string
	for _, entry := range secret.ManagedFields {
		if entry.Manager == FieldManager {
			continue
		}
		if managesDataKey(entry.FieldsV1, accessTokenKey) {
			return fmt.Sprintf("field manager %q", entry.Manager)
		}
		if quoted := strconv.Quote(entry.Manager); !slices.Contains(others, quoted) {
			others = append(others, quoted)
		}
	}
	if len(others) == 0 {
		return ""
	}
	slices.Sort(others)
	return fmt.Sprintf("no field manager: it removed key %s, as kubectl replace does; the Secret's other fields are managed by %s",
		accessTokenKey, strings.Join(others, ", "))
}

// MadeAsTarget reports whether the operator created a Secret as the target of the
// FigmaToken of uid: it carries the target-of mark or, made by an earlier version before the
// mark existed, its controller reference to the FigmaToken was set by the operator (as
// managedFields, read from the API server, show): by its field manager, or in the write that
// set a refresh's record (v0.1.0 wrote without a field manager of its own: the binary's
// name, "manager"). A reference a person or tool set is theirs.
func MadeAsTarget(secret *corev1.Secret, uid string) bool {
	if IsTargetOf(secret, uid) {
		return true
	}
	if !controlledBy(secret, uid) {
		return false
	}
	for _, entry := range secret.ManagedFields {
		reference, record := managesOwnerReference(entry.FieldsV1, types.UID(uid))
		if reference && (record || entry.Manager == FieldManager) {
			return true
		}
	}
	return false
}

// controlledBy reports whether the Secret's controller reference names the object of uid.
func controlledBy(secret metav1.Object, uid string) bool {
	ref := metav1.GetControllerOfNoCopy(secret)
	return ref != nil && uid != "" && ref.UID == types.UID(uid)
}

// managesDataKey reports whether a managedFields entry (FieldsV1) holds data[key].
func managesDataKey(fields *metav1.FieldsV1, key string) bool {
	var set map[string]map[string]json.RawMessage
	if err := json.NewDecoder(fields.GetRawReader()).Decode(&set); err != nil {
		return false
	}
	_, ok := set["f:data"]["f:"+key]
	return ok
}

// managesOwnerReference reports whether a managedFields entry (FieldsV1) holds the
// ownerReference to uid, and whether it also holds one of the operator's annotations
// (figma.tokenops.dev/): the write that set the reference set a refresh's record too.
func managesOwnerReference(fields *metav1.FieldsV1, uid types.UID) (reference, record bool) {
	if fields == nil {
		return false, false
	}
	var set map[string]map[string]map[string]json.RawMessage
	if err := json.NewDecoder(fields.GetRawReader()).Decode(&set); err != nil {
		return false, false
	}
	key, err := json.Marshal(map[string]types.UID{"uid": uid})
	if err != nil {
		return false, false
	}
	_, reference = set["f:metadata"]["f:ownerReferences"]["k:"+string(key)]
	for annotation := range set["f:metadata"]["f:annotations"] {
		if strings.HasPrefix(annotation, "f:"+figmav1alpha1.AnnotationPrefix) {
			record = true
		}
	}
	return reference, record
}
