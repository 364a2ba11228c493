package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// refresh calls upstream once and writes the new access token into the Secret. It returns
// the observation and decision as they stand afterwards.
func (r *FigmaTokenReconciler) refresh(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs policy.Observation, rt route) (policy.Observation, policy.Decision) {
	logger := log.FromContext(ctx)
	if claimed, err := r.claimFirst(ctx, ft, &s, &obs); err != nil {
		logger.Error(errors.New(reasonOf(err)), "claiming the Secret failed", "secret", s.source.Name)
		return r.failed(ft, obs, policy.WriteFailure(s.source.Name, reasonOf(err)))
	} else if !claimed {
		// A sibling claimed it first.
		return obs, policy.Decide(obs)
	}
	if noted, err := r.noteInFlight(ctx, ft, &s, &obs); err != nil {
		logger.Error(errors.New(reasonOf(err)), "noting the requested refresh in the Secret failed", "secret", s.source.Name)
		return r.failed(ft, obs, policy.WriteFailure(s.source.Name, reasonOf(err)))
	} else if !noted {
		// Another instance answers the request, or the Secret is no longer this FigmaToken's.
		return obs, policy.Decide(obs)
	}
	// Routine refreshes go without an Event: one per state change (first token, recovery, a
	// requested refresh, an exchanged code) says what a reader needs, at a quarter of the
	// API requests a refresh costs.
	announce := !meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady) ||
		obs.Failure.Attempts > 0 || obs.RequestPending() || obs.RefreshTokenHash == ""
	got, err := r.obtain(ctx, ft, s.source, obs, rt)
	// A token written before and put back after another writer's overwrite is not news.
	announce = announce && !got.Written
	if err != nil {
		// err is an *upstream.Error: code, status and request ID, never a token.
		logger.Error(err, "refresh failed", "codeExchange", obs.RefreshTokenHash == "")
		f := policy.UpstreamFailure(*upstreamError(err), obs)
		// The backoff counts from the attempt's start: a call that hung until its 30 s
		// deadline has waited already, and 5 s more can let a token close to expiry lapse.
		f.Last = got.SentAt
		return r.failed(ft, obs, f)
	}

	if r.suspendedMeanwhile(ctx, ft) {
		// The token obtained is kept, and written once the FigmaToken is resumed.
		logger.Info("spec.suspend was set during the upstream call: the token obtained is kept, not written")
		obs.Suspended = true
		return obs, policy.Decide(obs)
	}
	rec := tokensecret.Record{
		Owner:                 ft.Name,
		ExpiresAt:             got.ExpiresAt,
		RefreshedAt:           refreshedAt(got),
		RefreshTokenHash:      obs.RefreshTokenHash,
		HandledRefreshRequest: obs.Request,
	}
	if got.RefreshToken != "" {
		rec.RefreshTokenHash = tokensecret.Fingerprint(obs.UID, got.RefreshToken)
	}
	rec.AccessTokenHash = tokensecret.AccessTokenFingerprint(obs.UID, got.AccessToken, rec.RefreshedAt)
	rec.AccessTokenHashFor = rec.RefreshedAt
	if rec.HandledRefreshRequest == "" {
		rec.HandledRefreshRequest = obs.Record.HandledRefreshRequest
	}
	destination, written, err := r.write(ctx, ft, s, got, rec, &obs)
	if err != nil {
		// Only the reason: an admission webhook's message is free text.
		logger.Error(errors.New(reasonOf(err)), "writing the Secret failed", "secret", destination)
		return r.failed(ft, obs, policy.WriteFailure(destination, reasonOf(err)))
	}
	if !written {
		// Someone else claimed the Secret between the read and the write.
		return obs, policy.Decide(obs)
	}

	obs.Record, obs.AccessTokenSet, obs.TokenHeld, obs.Adopt, obs.Failure = rec, true, true, false, policy.Failure{}
	obs.WroteBefore, obs.Overwrites = true, r.memory.overwritesOf(ft)
	obs.Kept = r.keptInfo(ft)
	r.memory.rememberFailure(ft, policy.Failure{})
	if got.Written {
		logger.Info("wrote the access token back after another writer's overwrite", "secret", destination)
	} else {
		logger.V(1).Info("access token refreshed", "secret", destination, "expiresAt", got.ExpiresAt)
	}
	if announce {
		r.Recorder.Eventf(ft, nil, corev1.EventTypeNormal, figmav1alpha1.ReasonRefreshed, "Refresh",
			"%s the access token in Secret %s; it expires at %s.", refreshedHow(got), destination, got.ExpiresAt.Format(time.RFC3339))
	}
	return obs, policy.Decide(obs)
}

// suspendedMeanwhile reports whether the cache shows spec.suspend set on the FigmaToken
// since the reconcile read it: an upstream call may take up to its 30 s deadline, and a
// suspended FigmaToken writes no Secret.
func (r *FigmaTokenReconciler) suspendedMeanwhile(ctx context.Context, ft *figmav1alpha1.FigmaToken) bool {
	latest := &figmav1alpha1.FigmaToken{}
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(ft), latest); err != nil {
		return false
	}
	return latest.UID == ft.UID && latest.Spec.Suspend
}

// reasonOf names a failed API request by its status reason and code, never its message,
// and says what a refusal of an oversized Secret means.
func reasonOf(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return "request failed"
	}
	reason := fmt.Sprintf("%s, HTTP %d", status.Status().Reason, status.Status().Code)
	if tooLarge(status.Status()) {
		reason += ": the Secret would exceed the 1 MiB limit"
	}
	return reason
}

// tooLarge reports whether the API server refused a Secret for its size: its validation
// caps a Secret's data at 1 MiB (FieldValueTooLong on data).
func tooLarge(status metav1.Status) bool {
	if status.Reason != metav1.StatusReasonInvalid || status.Details == nil {
		return false
	}
	for _, cause := range status.Details.Causes {
		if cause.Type == metav1.CauseType(field.ErrorTypeTooLong) && cause.Field == "data" {
			return true
		}
	}
	return false
}

// refreshedHow says, for the Refreshed Event, where the token came from.
func refreshedHow(got secretwrite.Token) string {
	if got.RefreshToken != "" {
		return "Exchanged the authorization code for a refresh token and"
	}
	return "Refreshed"
}

// failed extends the failure streak and records the failure.
func (r *FigmaTokenReconciler) failed(ft *figmav1alpha1.FigmaToken, obs policy.Observation, f policy.Failure) (policy.Observation, policy.Decision) {
	f.Attempts = obs.Failure.Attempts + 1
	if f.Last.IsZero() {
		f.Last = r.Clock.Now()
	}
	f.Generation = obs.Generation
	f.CredentialHash = obs.CredentialHash()
	f.Request = obs.Request
	f.Client = obs.Route.Version
	if f.Request == "" {
		f.Request = obs.Failure.Request
	}
	obs.Failure = f
	r.memory.rememberFailure(ft, f)
	rule := policy.Reasons[f.Reason]
	r.Recorder.Eventf(ft, nil, rule.EventType, rule.EventReason, "Refresh", "%s", f.Message)
	return obs, policy.Decide(obs)
}
