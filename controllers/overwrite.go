package controllers

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// FieldManager is the field manager of every Secret write of the operator, so that
// managedFields tell its writes from other writers'.
const FieldManager = "figma-token-operator"

// fieldOwner marks a write as the operator's in managedFields.
var fieldOwner = client.FieldOwner(FieldManager)

// noteOverwrite counts another writer's overwrite of the token this FigmaToken wrote, once
// per version of the Secret, and reports a fight when it starts: one Warning Event that
// names the field manager that made the change. s holds the Secrets as read from the API
// server (with managedFields, which the cache strips).
func (r *FigmaTokenReconciler) noteOverwrite(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs *policy.Observation) {
	if !obs.Overwritten() {
		return
	}
	destination, key := s.source, "absent"
	if ft.Spec.Target != nil {
		destination = s.target
	}
	manager := ""
	if destination != nil {
		key = destination.ResourceVersion
		manager = lastWriter(destination, string(ft.Spec.SecretRef.AccessTokenKey))
	}
	var started bool
	obs.Overwrites, started = r.memory.seeOverwrite(ft, key, r.Clock.Now(), manager)
	log.FromContext(ctx).Info("another writer overwrote the access token", "secret", obs.DestinationName(), "fieldManager", manager, "fight", started)
	if started {
		r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, figmav1alpha1.ReasonSecretOverwritten, "Overwrite", "%s", policy.FightMessage(*obs))
	}
}

// lastWriter names the field manager that last changed the Secret's access token key or,
// when none manages it (the key removed), the Secret: the newest managedFields entry that
// is not the operator's; "" when none is known.
func lastWriter(secret *corev1.Secret, accessTokenKey string) string {
	var newest, ofKey string
	var newestAt, ofKeyAt int64 = -1, -1
	for _, entry := range secret.ManagedFields {
		if entry.Manager == FieldManager {
			continue
		}
		at := int64(0)
		if entry.Time != nil {
			at = entry.Time.Unix()
		}
		if at >= newestAt {
			newest, newestAt = entry.Manager, at
		}
		if at >= ofKeyAt && managesDataKey(entry.FieldsV1, accessTokenKey) {
			ofKey, ofKeyAt = entry.Manager, at
		}
	}
	if ofKey != "" {
		return ofKey
	}
	return newest
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
