package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// refresh calls upstream once and writes the new access token into the Secret. It returns
// the observation and decision as they stand afterwards.
func (r *FigmaTokenReconciler) refresh(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs observation) (observation, decision) {
	logger := log.FromContext(ctx)
	if claimed, err := r.claimFirst(ctx, ft, &s, &obs); err != nil {
		logger.Error(errors.New(reasonOf(err)), "claiming the Secret failed", "secret", s.source.Name)
		return r.failed(ft, obs, writeFailure(s.source.Name, err))
	} else if !claimed {
		// A sibling claimed it first.
		return obs, decide(obs)
	}
	got, err := r.obtain(ctx, ft, s.source, obs)
	if err != nil {
		// err is an *amplify.Error: code, status and request ID, never a token.
		logger.Error(err, "refresh failed", "codeExchange", obs.refreshTokenHash == "")
		return r.failed(ft, obs, failureFromError(err, s.source.Name, ft.Spec.SecretRef.RefreshTokenKey, obs.refreshTokenHash == ""))
	}

	rec := tokensecret.Record{
		Owner:                 ft.Name,
		ExpiresAt:             got.expiresAt,
		RefreshedAt:           got.sentAt.UTC().Truncate(time.Second),
		RefreshTokenHash:      obs.refreshTokenHash,
		HandledRefreshRequest: obs.request,
	}
	if got.refreshToken != "" {
		rec.RefreshTokenHash = tokensecret.Fingerprint(obs.uid, got.refreshToken)
	}
	if rec.HandledRefreshRequest == "" {
		rec.HandledRefreshRequest = obs.record.HandledRefreshRequest
	}
	destination, written, err := r.write(ctx, ft, s, got, rec, &obs)
	if err != nil {
		// Only the reason: an admission webhook's message is free text.
		logger.Error(errors.New(reasonOf(err)), "writing the Secret failed", "secret", destination)
		return r.failed(ft, obs, writeFailure(destination, err))
	}
	if !written {
		// Someone else claimed the Secret between the read and the write.
		return obs, decide(obs)
	}

	obs.record, obs.accessTokenSet, obs.failure = rec, true, failureState{}
	r.failures.remember(ft, failureState{})
	logger.V(1).Info("access token refreshed", "secret", destination, "expiresAt", got.expiresAt)
	r.Recorder.Eventf(ft, nil, corev1.EventTypeNormal, figmav1alpha1.ReasonRefreshed, "Refresh",
		"%s the access token in Secret %s; it expires at %s.", refreshedHow(got), destination, got.expiresAt.Format(time.RFC3339))
	return obs, decide(obs)
}

// write stores what was obtained, in place or in the target Secret. With a target, an
// exchanged refresh token goes into the source first: the code is spent, and that token is
// what keeps the target fresh. It returns the Secret it wrote, or failed to write.
func (r *FigmaTokenReconciler) write(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets,
	got obtained, rec tokensecret.Record, obs *observation) (string, bool, error) {
	if ft.Spec.Target == nil {
		written, err := r.writeInPlace(ctx, ft, s.source, got, rec, obs)
		return s.source.Name, written, err
	}
	key := client.ObjectKeyFromObject(ft)
	if got.refreshToken != "" {
		if err := r.storeRefreshToken(ctx, ft, s.source, got.refreshToken); err != nil {
			return s.source.Name, false, err
		}
		// The code is gone; the access token is kept under the refresh token stored.
		got.refreshToken = ""
		r.kept.keep(key, keptToken{credentialHash: rec.RefreshTokenHash, request: obs.request, obtained: got})
	}
	written, err := r.writeTarget(ctx, ft, s.target, got.accessToken, rec, obs)
	if written {
		r.kept.forget(key)
	}
	return ft.Spec.Target.Name, written, err
}

// destinationName is the Secret that receives the access token.
func destinationName(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.Target != nil {
		return ft.Spec.Target.Name
	}
	return ft.Spec.SecretRef.Name
}

// writeInPlace updates the source Secret in place with the resourceVersion that was read. On a
// conflict it re-reads, re-checks ownership and writes the token it already holds; it
// reports false, with obs updated, when the Secret is no longer this FigmaToken's to write.
func (r *FigmaTokenReconciler) writeInPlace(ctx context.Context, ft *figmav1alpha1.FigmaToken, secret *corev1.Secret,
	got obtained, rec tokensecret.Record, obs *observation) (bool, error) {
	key := client.ObjectKeyFromObject(secret)
	_, written, err := r.writeSecret(ctx, key, secret.DeepCopy(), func(current *corev1.Secret) error {
		if got.refreshToken != "" {
			tokensecret.StoreRefreshToken(current, ft.Spec.SecretRef.RefreshTokenKey, got.refreshToken)
		}
		tokensecret.Write(current, secretKeys(ft), got.accessToken, rec)
		r.ownWrites.note(key, current.Annotations[figmav1alpha1.AnnotationRefreshedAt])
		return r.Client.Update(ctx, current)
	}, r.recheckSource(ctx, ft, obs))
	if written {
		r.kept.forget(client.ObjectKeyFromObject(ft))
	}
	return written, err
}

// writeFailure is a failed write of a Secret, retried on the transient schedule.
func writeFailure(secret string, err error) failureState {
	return failureState{
		Reason:  figmav1alpha1.ReasonSecretWriteFailed,
		Message: fmt.Sprintf("Writing Secret %s failed (%s); retrying.", secret, reasonOf(err)),
	}
}

// reasonOf names a failed API request by its status reason and code, never its message.
func reasonOf(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return fmt.Sprintf("%s, HTTP %d", status.Status().Reason, status.Status().Code)
	}
	return "request failed"
}

// refreshedHow says, for the Refreshed Event, where the token came from.
func refreshedHow(got obtained) string {
	if got.refreshToken != "" {
		return "Exchanged the authorization code for a refresh token and"
	}
	return "Refreshed"
}

// failed extends the failure streak and records the failure.
func (r *FigmaTokenReconciler) failed(ft *figmav1alpha1.FigmaToken, obs observation, f failureState) (observation, decision) {
	f.Attempts = obs.failure.Attempts + 1
	f.Last = r.Clock.Now()
	f.Generation = obs.generation
	f.RefreshTokenHash = obs.credentialHash()
	f.Request = obs.request
	if f.Request == "" {
		f.Request = obs.failure.Request
	}
	obs.failure = f
	r.failures.remember(ft, f)
	r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, eventReason(f.Reason), "Refresh", "%s", f.Message)
	return obs, decide(obs)
}

// failureFromError turns an upstream error into a failure with a message that says what
// to do next. The message carries the AWS error code, HTTP status and request ID only.
func failureFromError(err error, secretName, refreshTokenKey string, exchange bool) failureState {
	var aerr *amplify.Error
	if !errors.As(err, &aerr) {
		aerr = &amplify.Error{Kind: amplify.Transient, Detail: "request failed"}
	}
	switch {
	case exchange && aerr.Kind == amplify.Rejected:
		return failureState{Reason: figmav1alpha1.ReasonRefreshRejected, Message: fmt.Sprintf(
			"%s. The authorization code in Secret %s (key %s) was refused: a code works once and expires within minutes. Put a new code there, or a refresh token under key %s.",
			aerr, secretName, figmav1alpha1.SecretKeyCode, refreshTokenKey)}
	case exchange && aerr.Kind == amplify.AccessDenied:
		return failureState{Reason: figmav1alpha1.ReasonAWSAccessDenied, Message: fmt.Sprintf(
			"%s. AWS refused the operator's credentials: grant its identity amplifyuibuilder:ExchangeCodeForToken and amplifyuibuilder:RefreshToken; retrying.", aerr)}
	}
	switch aerr.Kind {
	case amplify.Rejected:
		return failureState{Reason: figmav1alpha1.ReasonRefreshRejected, Message: fmt.Sprintf(
			"%s. The refresh token was refused: put a valid Figma refresh token in Secret %s under key %s.", aerr, secretName, refreshTokenKey)}
	case amplify.AccessDenied:
		return failureState{Reason: figmav1alpha1.ReasonAWSAccessDenied, Message: fmt.Sprintf(
			"%s. AWS refused the operator's credentials: grant its identity amplifyuibuilder:RefreshToken; retrying.", aerr)}
	default:
		return failureState{Reason: figmav1alpha1.ReasonRefreshFailed, Message: fmt.Sprintf("%s. Retrying with backoff.", aerr)}
	}
}

func refreshResult(err error) string {
	var aerr *amplify.Error
	switch {
	case err == nil:
		return metrics.ResultSuccess
	case errors.As(err, &aerr) && aerr.Kind == amplify.Rejected:
		return metrics.ResultRejected
	default:
		return metrics.ResultError
	}
}

// eventReason maps a failure reason to its Event reason; a failed Secret write is reported
// as a failed refresh.
func eventReason(reason string) string {
	if reason == figmav1alpha1.ReasonSecretWriteFailed {
		return figmav1alpha1.ReasonRefreshFailed
	}
	return reason
}
