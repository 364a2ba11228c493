package controllers

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// record mirrors the decision into status (one patch, skipped when nothing changed),
// Events and metrics.
func (r *FigmaTokenReconciler) record(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs policy.Observation, d policy.Decision) error {
	sent := r.restartsSent(ft, obs)
	desired := desiredStatus(ft, obs, d, sent)
	metrics.SetState(ft.Namespace, ft.Name, d.Ready, timeOrZero(desired.ExpiresAt))
	metrics.SetConditions(ft.Namespace, ft.Name, metrics.Series(desired.Conditions))

	// The patch is a diff, and a diff against a stale cached copy loses: a field whose new
	// value equals the stale one is left out (or the patch skipped) and the server keeps a
	// newer, wrong value, e.g. failedAttempts 1 after a success. So the diff is taken against
	// the version this process last wrote or read, read afresh when the cache does not show
	// it yet, and sent with its resourceVersion; on a conflict it is taken again.
	current, err := r.freshest(ctx, ft)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	// A blocker is reported once, when it starts: judged against Stalled in the latest status
	// (every blocker with a Warning sets it; Ready may stay True meanwhile). Failures are
	// reported per attempt.
	if rule := policy.Reasons[d.Reason]; d.Blocked && rule.EventType != "" && !stalledBy(current, d.Reason) {
		r.Recorder.Eventf(ft, nil, rule.EventType, rule.EventReason, "Reconcile", "%s", d.Message)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		// What was observed of one FigmaToken never lands on another of the same name.
		if current.UID != ft.UID {
			return nil
		}
		status := desiredStatus(current, obs, d, sent)
		if equality.Semantic.DeepEqual(status, current.Status) {
			return nil
		}
		patched := current.DeepCopy()
		patched.Status = status
		err := r.Client.Status().Patch(ctx, patched, client.MergeFromWithOptions(current, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			r.memory.sawVersion(patched)
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
	if r.memory.isCurrent(cached) {
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
	r.memory.sawVersion(latest)
	return latest, nil
}

// desiredStatus is the status that mirrors the Secret's record, the failure streak and the
// decision. It claims the generation observed (obs.Generation), also when it is written on
// a newer version of the FigmaToken after a conflict: kstatus, Flux and Argo CD read
// observedGeneration as "this spec is done".
func desiredStatus(ft *figmav1alpha1.FigmaToken, obs policy.Observation, d policy.Decision, sent []figmav1alpha1.RolloutRestartSent) figmav1alpha1.FigmaTokenStatus {
	status := figmav1alpha1.FigmaTokenStatus{
		ObservedGeneration:        obs.Generation,
		Conditions:                append([]metav1.Condition(nil), ft.Status.Conditions...),
		SecretName:                destinationName(ft),
		FailedAttempts:            obs.Failure.Attempts,
		LastHandledRefreshRequest: obs.Record.HandledRefreshRequest,
		SecretResourceVersion:     obs.SecretVersion,
	}
	if obs.Failure.Request != "" && obs.Failure.Attempts > 0 {
		status.LastHandledRefreshRequest = obs.Failure.Request
	}
	switch {
	case obs.Owned() && obs.TokenHeld:
		status.ExpiresAt = timePtr(obs.Record.ExpiresAt)
		status.LastRefreshTime = timePtr(obs.Record.RefreshedAt)
	case obs.Overwritten():
		// The token this FigmaToken wrote, until it is back: what it knows it wrote.
		status.ExpiresAt, status.LastRefreshTime = ft.Status.ExpiresAt, ft.Status.LastRefreshTime
	}
	status.RolloutRestartedFor = timePtr(obs.RestartedFor)
	status.RolloutRestartsSent = sent
	if !d.Next.IsZero() {
		status.NextRefreshTime = timePtr(d.Next)
	}
	if obs.Failure.Attempts > 0 {
		status.LastFailureTime = timePtr(obs.Failure.Last)
		status.FailedCredentialHash = obs.Failure.CredentialHash
		status.FailedClient = obs.Failure.Client
		status.RetryAfter = timePtr(obs.Failure.RetryAfter)
	}
	d.SetConditions(&status.Conditions, obs.Generation)
	return status
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
