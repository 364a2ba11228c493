package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
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
	metrics.SetState(ft.Namespace, ft.Name, obs.valid(), timeOrZero(desiredStatus(ft, obs, d, p).ExpiresAt))

	// The patch is a diff, and a diff against a stale cached copy loses: a field whose new
	// value equals the stale one is left out (or the patch skipped) and the server keeps a
	// newer, wrong value, e.g. failedAttempts 1 after a success. So the diff is taken against
	// the version this process last wrote or read, read afresh when the cache does not show
	// it yet, and sent with its resourceVersion; on a conflict it is taken again.
	current, err := r.freshest(ctx, ft)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		status := desiredStatus(current, obs, d, p)
		if equality.Semantic.DeepEqual(status, current.Status) {
			return nil
		}
		patched := current.DeepCopy()
		patched.Status = status
		err := r.Client.Status().Patch(ctx, patched, client.MergeFromWithOptions(current, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			r.statusVersions.saw(patched)
			return nil
		}
		if apierrors.IsConflict(err) {
			if current, err = r.read(ctx, ft); err == nil {
				return apierrors.NewConflict(figmav1alpha1.GroupVersion.WithResource("figmatokens").GroupResource(), ft.Name, errors.New("retrying on the newer version"))
			}
		}
		return err
	})
	// A FigmaToken deleted meanwhile has no status left to record.
	return client.IgnoreNotFound(err)
}

// freshest is the cached FigmaToken, or the API server's when the cache does not yet show
// the version this process last wrote or read. Right after a start nothing was written, and
// the cache, just listed, is taken as it is: a restart costs no reads.
func (r *FigmaTokenReconciler) freshest(ctx context.Context, cached *figmav1alpha1.FigmaToken) (*figmav1alpha1.FigmaToken, error) {
	if r.statusVersions.current(cached) {
		return cached, nil
	}
	return r.read(ctx, cached)
}

// read gets a FigmaToken from the API server and remembers its version.
func (r *FigmaTokenReconciler) read(ctx context.Context, ft *figmav1alpha1.FigmaToken) (*figmav1alpha1.FigmaToken, error) {
	latest := &figmav1alpha1.FigmaToken{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(ft), latest); err != nil {
		return nil, err
	}
	r.statusVersions.saw(latest)
	return latest, nil
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
		status.FailedCredentialHash = obs.failure.RefreshTokenHash
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
