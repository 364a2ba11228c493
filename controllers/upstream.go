package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// Every upstream call goes through obtain.

// obtain gets a new access token: RefreshToken with the refresh token or, when the Secret
// holds an authorization code instead, ExchangeCodeForToken. What it obtains is kept by the
// Secret writer while it is not yet due for refresh itself, and obtain answers with it
// (Written when it reached the Secret before): neither a write that fails nor another
// writer that overwrites the Secret costs a second upstream call. A code works only once,
// so the refresh token of an exchange is kept too, and refreshed when its access token is no
// longer usable.
func (r *FigmaTokenReconciler) obtain(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, obs policy.Observation, rt route) (secretwrite.Token, error) {
	kept, haveKept := r.Secrets.Kept(ft)
	haveKept = haveKept && kept.CredentialHash == obs.CredentialHash()
	// The same rule as the decision's (policy.KeptUsable, on the record's times): a token
	// due by the schedule is never written again instead of refreshed.
	if haveKept && obs.KeptUsable() {
		return kept, nil
	}
	// Only a kept exchange matters beyond its access token: its code is spent.
	haveKept = haveKept && kept.RefreshToken != ""
	got := secretwrite.Token{SentAt: r.Clock.Now(), CredentialHash: obs.CredentialHash(), Request: obs.Request}
	var result upstream.Result
	var err error
	switch {
	case obs.RefreshTokenHash != "" || haveKept:
		token := tokensecret.Text(source, string(ft.Spec.SecretRef.RefreshTokenKey))
		if haveKept {
			// The kept exchange's refresh token, and the keys its code spent with it.
			token, got.RefreshToken, got.Spent = kept.RefreshToken, kept.RefreshToken, kept.Spent
		}
		result, err = rt.upstream.Refresh(ctx, upstream.RefreshRequest{Client: rt.client, RefreshToken: token})
		if err == nil && result.RefreshToken != "" && result.RefreshToken != token {
			// The upstream rotated the refresh token: stored in the same update as the access token.
			got.RefreshToken = result.RefreshToken
			if rt.via == figmav1alpha1.UpstreamFigma {
				// Figma's exchange spends the redirect URI and PKCE verifier with the code.
				got.Spent = []string{figmav1alpha1.SecretKeyRedirectURI, figmav1alpha1.SecretKeyCodeVerifier}
			}
		}
	default:
		result, err = rt.upstream.Exchange(ctx, upstream.ExchangeRequest{
			Client:       rt.client,
			Code:         tokensecret.Text(source, figmav1alpha1.SecretKeyCode),
			RedirectURI:  tokensecret.Text(source, figmav1alpha1.SecretKeyRedirectURI),
			CodeVerifier: tokensecret.Text(source, figmav1alpha1.SecretKeyCodeVerifier),
		})
		got.RefreshToken = result.RefreshToken
		if rt.via == figmav1alpha1.UpstreamFigma {
			// Figma's exchange spends the redirect URI and PKCE verifier with the code.
			got.Spent = []string{figmav1alpha1.SecretKeyRedirectURI, figmav1alpha1.SecretKeyCodeVerifier}
		}
	}
	took := r.Clock.Since(got.SentAt)
	if err == nil {
		got.AccessToken = result.AccessToken
		got.ExpiresAt, err = schedule.Expiry(got.SentAt, r.Clock.Now(), result.ExpiresIn)
		if err != nil {
			err = &upstream.Error{Op: rt.op(), Kind: upstream.Transient, HTTPStatus: 200, Detail: err.Error()}
		}
	}
	metrics.ObserveRefresh(ft.Namespace, ft.Name, policy.Result(upstreamError(err)), took)
	// Even with an unusable access token (zero expiresAt), an exchange's refresh token is good.
	if err == nil || (got.RefreshToken != "" && !haveKept) {
		r.Secrets.Keep(ft, got)
	}
	return got, err
}

// keptInfo is what policy may know of the kept token: everything but the token.
func (r *FigmaTokenReconciler) keptInfo(ft *figmav1alpha1.FigmaToken) policy.Kept {
	k, ok := r.Secrets.Kept(ft)
	if !ok {
		return policy.Kept{}
	}
	return policy.Kept{CredentialHash: k.CredentialHash, Request: k.Request, RefreshedAt: refreshedAt(k),
		ExpiresAt: k.ExpiresAt, Written: k.Written}
}

// refreshedAt is the refreshed-at a token is recorded with: when its request was sent, to
// the second.
func refreshedAt(t secretwrite.Token) time.Time { return t.SentAt.UTC().Truncate(time.Second) }

// upstreamError maps a failed call to what policy knows of it: its kind and what may be
// shown (an *upstream.Error carries no message text and no token); nil for none.
func upstreamError(err error) *policy.UpstreamError {
	if err == nil {
		return nil
	}
	var aerr *upstream.Error
	if !errors.As(err, &aerr) {
		aerr = &upstream.Error{Op: "upstream call", Kind: upstream.Transient, Detail: "request failed"}
	}
	kinds := map[upstream.Kind]policy.UpstreamKind{upstream.Rejected: policy.UpstreamRejected,
		upstream.AccessDenied: policy.UpstreamAccessDenied, upstream.ClientRejected: policy.UpstreamClientRejected}
	return &policy.UpstreamError{Kind: kinds[aerr.Kind], Shown: aerr.Error(), RetryAfter: aerr.RetryAfter}
}
