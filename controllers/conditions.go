package controllers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// stalledReasons need a person; reconcilingReasons pass with retries.
var (
	stalledReasons = map[string]bool{
		figmav1alpha1.ReasonSecretNotFound:      true,
		figmav1alpha1.ReasonRefreshTokenMissing: true,
		figmav1alpha1.ReasonRefreshRejected:     true,
		figmav1alpha1.ReasonSecretConflict:      true,
		figmav1alpha1.ReasonAWSAccessDenied:     true,
	}
	reconcilingReasons = map[string]bool{
		figmav1alpha1.ReasonRefreshFailed:     true,
		figmav1alpha1.ReasonSecretWriteFailed: true,
	}
)

// problem is why a FigmaToken is not (or will not stay) fine: a blocker or a failure.
type problem struct {
	reason  string
	message string
}

// setConditions writes Ready, Stalled and Reconciling for the given outcome: valid says
// whether the Secret holds a usable token, expiresAt when it lapses (zero if there is none).
func setConditions(conds *[]metav1.Condition, generation int64, valid bool, expiresAt time.Time, p problem) {
	ready := metav1.Condition{Type: figmav1alpha1.ConditionReady, ObservedGeneration: generation}
	switch {
	case valid:
		ready.Status, ready.Reason = metav1.ConditionTrue, figmav1alpha1.ReasonRefreshed
		ready.Message = fmt.Sprintf("The Secret holds an access token valid until %s.", expiresAt.UTC().Format(time.RFC3339))
	case p.reason != "" && p.reason != figmav1alpha1.ReasonSecretWriteFailed:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, p.reason, p.message
	case !expiresAt.IsZero():
		ready.Status, ready.Reason = metav1.ConditionFalse, figmav1alpha1.ReasonExpired
		ready.Message = fmt.Sprintf("The access token expired at %s and has not been refreshed yet.", expiresAt.UTC().Format(time.RFC3339))
	default:
		ready.Status, ready.Reason = metav1.ConditionFalse, figmav1alpha1.ReasonPending
		ready.Message = "Waiting for the first refresh."
	}
	meta.SetStatusCondition(conds, ready)

	setOrRemove(conds, figmav1alpha1.ConditionStalled, generation, stalledReasons[p.reason], p)
	setOrRemove(conds, figmav1alpha1.ConditionReconciling, generation, reconcilingReasons[p.reason], p)
}

// setOrRemove sets a True condition when it holds and removes it otherwise (kstatus).
func setOrRemove(conds *[]metav1.Condition, condType string, generation int64, holds bool, p problem) {
	if !holds {
		meta.RemoveStatusCondition(conds, condType)
		return
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: condType, Status: metav1.ConditionTrue, Reason: p.reason, Message: p.message, ObservedGeneration: generation,
	})
}
