package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
)

// noteOverwrite counts another writer's overwrite of the token this FigmaToken wrote, once
// per version of the Secret (not while suspended: nothing is written then), and reports a
// fight when it starts: one Warning Event that
// names the field manager that made the change. s holds the Secrets as read from the API
// server (with managedFields, which the cache strips).
func (r *FigmaTokenReconciler) noteOverwrite(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs *policy.Observation) {
	// A spec change is never an overwrite (the Secret need not hold the token where the new
	// spec wants it yet); nothing is written while suspended.
	if !obs.Overwritten() || obs.Suspended || ft.Status.ObservedGeneration != ft.Generation {
		return
	}
	destination, key := s.source, "absent"
	if ft.Spec.Target != nil {
		destination = s.target
	}
	writer := "it deleted the Secret"
	if destination != nil {
		key = destination.ResourceVersion
		writer = lastWriter(destination, string(ft.Spec.SecretRef.AccessTokenKey))
	}
	var counted, started bool
	obs.Overwrites, counted, started = r.memory.seeOverwrite(ft, key, r.Clock.Now(), writer)
	if counted {
		log.FromContext(ctx).Info("another writer overwrote the access token", "secret", obs.DestinationName(), "writer", writer, "fight", started)
	}
	// Reported once per fight, also across operator restarts: status shows a fight reported.
	if started && !stalledBy(ft, figmav1alpha1.ReasonSecretOverwritten) {
		r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, figmav1alpha1.ReasonSecretOverwritten, "Overwrite", "%s", policy.FightMessage(*obs))
	}
}

// stalledBy reports whether status shows Stalled with reason.
func stalledBy(ft *figmav1alpha1.FigmaToken, reason string) bool {
	c := meta.FindStatusCondition(ft.Status.Conditions, figmav1alpha1.ConditionStalled)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason
}

// lastWriter describes, for messages, who made the change from the Secret's managedFields:
// the field manager that holds the access token key (it set the value), or, when none does
// (the key was removed: a replace or a delete and re-create leaves no trace of the writer),
// the managers of the Secret's other fields; "" when none is known.
func lastWriter(secret *corev1.Secret, accessTokenKey string) string {
	var others []string
	for _, entry := range secret.ManagedFields {
		if entry.Manager == secretwrite.FieldManager {
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
