package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// refresh calls upstream once and writes the new access token into the Secret. It returns
// the observation and decision as they stand afterwards.
func (r *FigmaTokenReconciler) refresh(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs policy.Observation) (policy.Observation, policy.Decision) {
	logger := log.FromContext(ctx)
	if claimed, err := r.claimFirst(ctx, ft, &s, &obs); err != nil {
		logger.Error(errors.New(reasonOf(err)), "claiming the Secret failed", "secret", s.source.Name)
		return r.failed(ft, obs, policy.WriteFailure(s.source.Name, reasonOf(err)))
	} else if !claimed {
		// A sibling claimed it first.
		return obs, policy.Decide(obs)
	}
	// Routine refreshes go without an Event: one per state change (first token, recovery, a
	// requested refresh, an exchanged code) says what a reader needs, at a quarter of the
	// API requests a refresh costs.
	announce := !meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady) ||
		obs.Failure.Attempts > 0 || obs.RequestPending() || obs.RefreshTokenHash == ""
	got, err := r.obtain(ctx, ft, s.source, obs)
	// A token written before and put back after another writer's overwrite is not news.
	announce = announce && !got.restored
	if err != nil {
		// err is an *amplify.Error: code, status and request ID, never a token.
		logger.Error(err, "refresh failed", "codeExchange", obs.RefreshTokenHash == "")
		f := policy.UpstreamFailure(*upstreamError(err), obs)
		// The backoff counts from the attempt's start: a call that hung until its 30 s
		// deadline has waited already, and 5 s more can let a token close to expiry lapse.
		f.Last = got.sentAt
		return r.failed(ft, obs, f)
	}

	rec := tokensecret.Record{
		Owner:                 ft.Name,
		ExpiresAt:             got.expiresAt,
		RefreshedAt:           got.sentAt.UTC().Truncate(time.Second),
		RefreshTokenHash:      obs.RefreshTokenHash,
		HandledRefreshRequest: obs.Request,
	}
	if got.refreshToken != "" {
		rec.RefreshTokenHash = tokensecret.Fingerprint(obs.UID, got.refreshToken)
	}
	rec.AccessTokenHash = tokensecret.AccessTokenFingerprint(obs.UID, got.accessToken, rec.RefreshedAt)
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
	obs.Kept, _ = r.memory.keptInfo(ft)
	r.memory.rememberFailure(ft, policy.Failure{})
	if got.restored {
		logger.Info("wrote the access token back after another writer's overwrite", "secret", destination)
	} else {
		logger.V(1).Info("access token refreshed", "secret", destination, "expiresAt", got.expiresAt)
	}
	if announce {
		r.Recorder.Eventf(ft, nil, corev1.EventTypeNormal, figmav1alpha1.ReasonRefreshed, "Refresh",
			"%s the access token in Secret %s; it expires at %s.", refreshedHow(got), destination, got.expiresAt.Format(time.RFC3339))
	}
	return obs, policy.Decide(obs)
}

// write stores what was obtained, in place or in the target Secret. With a target, an
// exchanged refresh token goes into the source first: the code is spent, and that token is
// what keeps the target fresh. It returns the Secret it wrote, or failed to write.
func (r *FigmaTokenReconciler) write(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets,
	got obtained, rec tokensecret.Record, obs *policy.Observation) (string, bool, error) {
	if ft.Spec.Target == nil {
		written, err := r.writeInPlace(ctx, ft, s.source, got, rec, obs)
		return s.source.Name, written, err
	}
	if got.refreshToken != "" {
		if err := r.storeRefreshToken(ctx, ft, s.source, got.refreshToken); err != nil {
			return s.source.Name, false, err
		}
		// The code is gone; the access token is kept under the refresh token stored.
		got.refreshToken = ""
		r.memory.keep(ft, keptToken{credentialHash: rec.RefreshTokenHash, request: obs.Request, obtained: got})
	}
	written, err := r.writeTarget(ctx, ft, s.target, got.accessToken, rec, obs)
	if written {
		r.memory.written(ft, r.Clock.Now())
	}
	return string(ft.Spec.Target.Name), written, err
}

// destinationName is the Secret that receives the access token.
func destinationName(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.Target != nil {
		return string(ft.Spec.Target.Name)
	}
	return string(ft.Spec.SecretRef.Name)
}

// writeInPlace updates the source Secret in place with the resourceVersion that was read. On a
// conflict it re-reads, re-checks ownership and writes the token it already holds; it
// reports false, with obs updated, when the Secret is no longer this FigmaToken's to write.
func (r *FigmaTokenReconciler) writeInPlace(ctx context.Context, ft *figmav1alpha1.FigmaToken, secret *corev1.Secret,
	got obtained, rec tokensecret.Record, obs *policy.Observation) (bool, error) {
	key := client.ObjectKeyFromObject(secret)
	_, written, err := r.writeSecret(ctx, key, secret.DeepCopy(), func(current *corev1.Secret) error {
		if got.refreshToken != "" {
			tokensecret.StoreRefreshToken(current, string(ft.Spec.SecretRef.RefreshTokenKey), got.refreshToken)
		}
		tokensecret.Write(current, secretKeys(ft), got.accessToken, rec)
		r.memory.noteWrite(ft, key, current.Annotations[figmav1alpha1.AnnotationRefreshedAt])
		if err := r.Client.Update(ctx, current, fieldOwner); err != nil {
			return err
		}
		// The version written holds what the record says unless the refresh token changed
		// between the read and a retried write.
		if tokensecret.Fingerprint(obs.UID, tokensecret.Text(current, string(ft.Spec.SecretRef.RefreshTokenKey))) == rec.RefreshTokenHash {
			obs.SecretVersion = current.ResourceVersion
		}
		return nil
	}, r.recheckSource(ctx, ft, obs))
	if written {
		r.memory.written(ft, r.Clock.Now())
	}
	return written, err
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
func (r *FigmaTokenReconciler) failed(ft *figmav1alpha1.FigmaToken, obs policy.Observation, f policy.Failure) (policy.Observation, policy.Decision) {
	f.Attempts = obs.Failure.Attempts + 1
	if f.Last.IsZero() {
		f.Last = r.Clock.Now()
	}
	f.Generation = obs.Generation
	f.CredentialHash = obs.CredentialHash()
	f.Request = obs.Request
	if f.Request == "" {
		f.Request = obs.Failure.Request
	}
	obs.Failure = f
	r.memory.rememberFailure(ft, f)
	rule := policy.Reasons[f.Reason]
	r.Recorder.Eventf(ft, nil, rule.EventType, rule.EventReason, "Refresh", "%s", f.Message)
	return obs, policy.Decide(obs)
}
