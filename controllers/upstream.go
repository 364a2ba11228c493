package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// Every upstream call goes through obtain.

// obtained is a new access token and, after an authorization-code exchange, the refresh
// token that must be stored in the source Secret.
type obtained struct {
	accessToken  string
	refreshToken string
	sentAt       time.Time
	expiresAt    time.Time
	// restored: the kept token, written before; writing it again restores it.
	restored bool
}

// obtain gets a new access token: RefreshToken with the refresh token or, when the Secret
// holds an authorization code instead, ExchangeCodeForToken. What it obtains is kept while
// it is not yet due for refresh itself: neither a write that fails nor another writer that
// overwrites the Secret costs a second upstream call. A code works only once, so the refresh token of an
// exchange is kept too, and refreshed when its access token is no longer usable.
func (r *FigmaTokenReconciler) obtain(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, obs policy.Observation) (obtained, error) {
	kept, haveKept := r.memory.keptFor(ft, obs.CredentialHash())
	if haveKept && kept.request == obs.Request &&
		r.Clock.Now().Before(schedule.NextRefresh(kept.sentAt, kept.expiresAt, obs.RefreshBefore, obs.UID)) {
		got := kept.obtained
		got.restored = kept.written
		return got, nil
	}
	// Only a kept exchange matters beyond its access token: its code is spent.
	haveKept = haveKept && kept.refreshToken != ""
	got := obtained{sentAt: r.Clock.Now()}
	var result amplify.RefreshResult
	var err error
	switch {
	case obs.RefreshTokenHash != "" || haveKept:
		token := tokensecret.Text(source, string(ft.Spec.SecretRef.RefreshTokenKey))
		if haveKept {
			token, got.refreshToken = kept.refreshToken, kept.refreshToken
		}
		result, err = r.Upstream.Refresh(ctx, amplify.RefreshRequest{ClientID: ft.Spec.ClientID, RefreshToken: token})
	default:
		var exchanged amplify.ExchangeResult
		exchanged, err = r.Upstream.Exchange(ctx, amplify.ExchangeRequest{
			ClientID:    ft.Spec.ClientID,
			Code:        tokensecret.Text(source, figmav1alpha1.SecretKeyCode),
			RedirectURI: tokensecret.Text(source, figmav1alpha1.SecretKeyRedirectURI),
		})
		result, got.refreshToken = exchanged.RefreshResult, exchanged.RefreshToken
	}
	took := r.Clock.Since(got.sentAt)
	if err == nil {
		got.accessToken = result.AccessToken
		got.expiresAt, err = schedule.Expiry(got.sentAt, r.Clock.Now(), result.ExpiresIn)
		if err != nil {
			err = &amplify.Error{Kind: amplify.Transient, HTTPStatus: 200, Detail: err.Error()}
		}
	}
	metrics.ObserveRefresh(ft.Namespace, ft.Name, policy.Result(upstreamError(err)), took)
	// Even with an unusable access token (zero expiresAt), an exchange's refresh token is good.
	if err == nil || (got.refreshToken != "" && !haveKept) {
		r.memory.keep(ft, keptToken{credentialHash: obs.CredentialHash(), request: obs.Request, obtained: got})
	}
	return got, err
}

// upstreamError maps a failed call to what policy knows of it: its kind and what may be
// shown (an *amplify.Error carries no message text and no token); nil for none.
func upstreamError(err error) *policy.UpstreamError {
	if err == nil {
		return nil
	}
	var aerr *amplify.Error
	if !errors.As(err, &aerr) {
		aerr = &amplify.Error{Kind: amplify.Transient, Detail: "request failed"}
	}
	kinds := map[amplify.Kind]policy.UpstreamKind{amplify.Rejected: policy.UpstreamRejected, amplify.AccessDenied: policy.UpstreamAccessDenied}
	return &policy.UpstreamError{Kind: kinds[aerr.Kind], Shown: aerr.Error()}
}
