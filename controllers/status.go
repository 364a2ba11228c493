package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/metrics"
)

// record mirrors the outcome into status (one patch, skipped when nothing changed),
// Events and metrics.
func (r *FigmaTokenReconciler) record(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs observation, d decision) error {
	p := currentProblem(ft, obs, d)
	before := meta.FindStatusCondition(ft.Status.Conditions, figmav1alpha1.ConditionReady)
	if d.blocker != "" && d.blocker != figmav1alpha1.ReasonSuspended && (before == nil || before.Reason != d.blocker) {
		r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, d.blocker, "Reconcile", "%s", p.message)
	}

	status := desiredStatus(ft, obs, d, p)
	metrics.SetState(ft.Namespace, ft.Name, obs.valid(), timeOrZero(status.ExpiresAt))
	if equality.Semantic.DeepEqual(status, ft.Status) {
		return nil
	}
	patched := ft.DeepCopy()
	patched.Status = status
	// A FigmaToken deleted meanwhile has no status left to record.
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, patched, client.MergeFrom(ft)))
}

// desiredStatus is the status that mirrors the Secret's record and the failure streak.
func desiredStatus(ft *figmav1alpha1.FigmaToken, obs observation, d decision, p problem) figmav1alpha1.FigmaTokenStatus {
	status := figmav1alpha1.FigmaTokenStatus{
		ObservedGeneration:        ft.Generation,
		Conditions:                append([]metav1.Condition(nil), ft.Status.Conditions...),
		SecretName:                destinationName(ft),
		FailedAttempts:            obs.failure.Attempts,
		LastHandledRefreshRequest: obs.record.HandledRefreshRequest,
	}
	if obs.failure.Request != "" && obs.failure.Attempts > 0 {
		status.LastHandledRefreshRequest = obs.failure.Request
	}
	if obs.owned() && obs.accessTokenSet {
		status.ExpiresAt = timePtr(obs.record.ExpiresAt)
		status.LastRefreshTime = timePtr(obs.record.RefreshedAt)
	}
	if !d.next.IsZero() {
		status.NextRefreshTime = timePtr(d.next)
	}
	if obs.failure.Attempts > 0 {
		status.LastFailureTime = timePtr(obs.failure.Last)
	}
	setConditions(&status.Conditions, ft.Generation, obs.valid(), timeOrZero(status.ExpiresAt), p)
	return status
}

// currentProblem is the blocker of this reconcile or, failing that, the failure streak.
func currentProblem(ft *figmav1alpha1.FigmaToken, obs observation, d decision) problem {
	ref := ft.Spec.SecretRef
	switch d.blocker {
	case figmav1alpha1.ReasonSuspended:
		return problem{d.blocker, "spec.suspend is true: no refreshes until it is false."}
	case figmav1alpha1.ReasonSecretNotFound:
		return problem{d.blocker, fmt.Sprintf("Secret %s not found in namespace %s: create it with the Figma refresh token under key %s.", ref.Name, ft.Namespace, ref.RefreshTokenKey)}
	case figmav1alpha1.ReasonSecretConflict:
		if t := ft.Spec.Target; t != nil {
			return problem{d.blocker, fmt.Sprintf("Not writing target Secret %s: %s. Delete it so that this FigmaToken creates its own, or set another spec.target.name.", t.Name, obs.claim.Why)}
		}
		return problem{d.blocker, fmt.Sprintf("Not writing Secret %s: %s. To hand it over to this FigmaToken: kubectl annotate secret %s %s=%s --overwrite",
			ref.Name, obs.claim.Why, ref.Name, figmav1alpha1.AnnotationOwner, ft.Name)}
	case figmav1alpha1.ReasonRefreshTokenMissing:
		return problem{d.blocker, fmt.Sprintf("Secret %s has no usable refresh token under key %s (missing, empty or not text): put the Figma refresh token there, or an OAuth authorization code under key %s with its redirect URI under key %s.",
			ref.Name, ref.RefreshTokenKey, figmav1alpha1.SecretKeyCode, figmav1alpha1.SecretKeyRedirectURI)}
	}
	if obs.failure.Attempts > 0 {
		return problem{obs.failure.Reason, obs.failure.Message}
	}
	return problem{}
}

// timePtr converts to the second precision status keeps; nil for the zero time.
func timePtr(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

func timeOrZero(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}
