package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// refresh is the act that brings a new access token: claim the Secret when others name it
// too, note a requested refresh in flight, obtain the token (the only upstream call, or the
// kept token) and write it. It reports what it did; a Secret found changed on the way is a
// Conflict, and the reconcile looks again.
func (r *FigmaTokenReconciler) refresh(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs policy.Observation, rt route) policy.Outcome {
	logger := log.FromContext(ctx)
	if out, ok := r.claimFirst(ctx, ft, s, obs); !ok {
		return out
	}
	out, ok := r.noteInFlight(ctx, ft, s, obs)
	if !ok {
		return out
	}
	got, err := r.obtain(ctx, ft, s.source, obs, rt)
	if err != nil {
		// err is an *upstream.Error: code, status and request ID, never a token.
		logger.Error(err, "refresh failed", "codeExchange", obs.RefreshTokenHash == "")
		f := policy.UpstreamFailure(*upstreamError(err), obs)
		// The backoff counts from the attempt's start: a call that hung until its 30 s
		// deadline has waited already, and 5 s more can let a token close to expiry lapse.
		f.Last = got.SentAt
		out.Failure = &f
		return out
	}
	if r.suspendedMeanwhile(ctx, ft) {
		// The token obtained is kept, and written once the FigmaToken is resumed.
		logger.Info("spec.suspend was set during the upstream call: the token obtained is kept, not written")
		out.Suspended = true
		return out
	}
	rec := tokensecret.Record{
		Owner:                 ft.Name,
		ExpiresAt:             got.ExpiresAt,
		RefreshedAt:           got.RefreshedAt(),
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
	destination, version, err := r.write(ctx, ft, s, got, rec)
	if err != nil {
		// Only the reason: an admission webhook's message is free text.
		return r.writeFailed(ctx, out, "writing the Secret", destination, err)
	}
	if got.Written {
		logger.Info("wrote the access token back after another writer's overwrite", "secret", destination)
	} else {
		logger.V(1).Info("access token refreshed", "secret", destination, "expiresAt", got.ExpiresAt)
	}
	kept, overwrites := r.Secrets.KeptInfo(ft), r.Secrets.Overwrites(ft, ft.Generation)
	out.Wrote, out.Restored, out.Exchanged, out.SecretVersion = &rec, got.Written, got.RefreshToken != "", version
	out.Kept, out.Overwrites = &kept, &overwrites
	return out
}

// writeFailed is the outcome of a Secret write (what) that failed: a Conflict when the
// Secret changed meanwhile (its failure counts only once the reconcile has looked often
// enough). Only the reason is logged: an admission webhook's message is free text.
func (r *FigmaTokenReconciler) writeFailed(ctx context.Context, out policy.Outcome, what, secret string, err error) policy.Outcome {
	f := policy.WriteFailure(secret, reasonOf(err))
	f.Last = r.Clock.Now()
	out.Failure, out.Conflict = &f, secretwrite.IsChanged(err)
	if !out.Conflict {
		log.FromContext(ctx).Error(errors.New(reasonOf(err)), what+" failed", "secret", secret)
	}
	return out
}

// write stores what was obtained, in place or in the target Secret. It returns the Secret
// it wrote, or failed to write, and the resourceVersion at which the source holds exactly
// rec ("" for a target).
func (r *FigmaTokenReconciler) write(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets,
	got secretwrite.Token, rec tokensecret.Record) (string, string, error) {
	if ft.Spec.Target != nil {
		return r.writeTarget(ctx, ft, s, got, rec)
	}
	written, err := r.Secrets.InPlace(ctx, ft, s.source, secretKeys(ft), string(ft.Spec.SecretRef.RefreshTokenKey), got, rec)
	if err != nil {
		return s.source.Name, "", err
	}
	return s.source.Name, written.ResourceVersion, nil
}

// writeTarget writes the access token into the target Secret. An exchanged refresh token
// goes into the source first: the code is spent, and that token is what keeps the target
// fresh.
func (r *FigmaTokenReconciler) writeTarget(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets,
	got secretwrite.Token, rec tokensecret.Record) (string, string, error) {
	key, shape := types.NamespacedName{Namespace: ft.Namespace, Name: string(ft.Spec.Target.Name)}, targetShape(ft)
	if got.RefreshToken != "" {
		stored, err := r.Secrets.StoreRefreshToken(ctx, ft, s.source, string(ft.Spec.SecretRef.RefreshTokenKey), got, rec.RefreshTokenHash)
		if err != nil {
			return s.source.Name, "", err
		}
		s.source = stored
		got.RefreshToken, got.CredentialHash = "", rec.RefreshTokenHash
	}
	if _, err := r.Secrets.Target(ctx, ft, key, s.target, shape, got, rec); err != nil {
		return key.Name, "", err
	}
	// The note of a requested refresh in flight goes once the target holds the answer (in
	// place, the token's own write removes it); a failure is left to the note's deadline.
	if err := r.Secrets.ClearInFlight(ctx, ft, s.source); err != nil {
		log.FromContext(ctx).V(1).Info("the note of the requested refresh stays until its deadline", "secret", s.source.Name, "reason", reasonOf(err))
	}
	return key.Name, "", nil
}

// claimFirst makes a Secret that other FigmaTokens name too this FigmaToken's before any
// upstream call is made for it. When an owner goes away, its siblings all see a Secret they
// may take over; without a claim each would call upstream and only one write would land.
// The claim carries the resourceVersion read, so exactly one sibling's claim lands; the
// others find the Secret changed, look again and find it owned. It reports whether this
// FigmaToken may go on.
//
// A Secret no other FigmaToken names, or one this FigmaToken already owns, needs no claim:
// the token's own write claims it, in the same update.
func (r *FigmaTokenReconciler) claimFirst(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs policy.Observation) (policy.Outcome, bool) {
	if ft.Spec.Target != nil || obs.Owned() {
		return policy.Outcome{}, true
	}
	// Siblings in other shards too: each shard would call upstream for its own.
	if others, err := r.siblings(ctx, ft); err != nil || len(others) == 0 {
		if err != nil {
			return r.writeFailed(ctx, policy.Outcome{}, "claiming the Secret", s.source.Name, err), false
		}
		return policy.Outcome{}, true
	}
	claimed, err := r.Secrets.Claim(ctx, ft, s.source)
	if err != nil {
		return r.writeFailed(ctx, policy.Outcome{}, "claiming the Secret", s.source.Name, err), false
	}
	s.source = claimed
	return policy.Outcome{}, true
}

// noteInFlight records in the source Secret, before the call, that a requested refresh is
// being answered, so that another instance (the shard a relabelled FigmaToken moves to
// meanwhile) waits for the answer instead of calling for the same value. Routine refreshes
// need no note, nor does a request the kept token answers (no call), nor an instance that
// is not sharded: no other instance reconciles its FigmaTokens (leader election fences a
// deposed leader's writes). It reports whether this FigmaToken may go on.
func (r *FigmaTokenReconciler) noteInFlight(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs policy.Observation) (policy.Outcome, bool) {
	if !r.Sharded || !obs.RequestPending() || obs.KeptUsable() || s.source == nil {
		return policy.Outcome{}, true
	}
	f := tokensecret.InFlight{Request: obs.Request, Until: r.Clock.Now().Add(policy.InFlightFor).Truncate(time.Second)}
	noted, err := r.Secrets.NoteInFlight(ctx, ft, s.source, f)
	if err != nil {
		return r.writeFailed(ctx, policy.Outcome{}, "noting the requested refresh in the Secret", s.source.Name, err), false
	}
	s.source = noted
	return policy.Outcome{InFlight: &f}, true
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

// obtain gets a new access token: RefreshToken with the refresh token or, when the Secret
// holds an authorization code instead, ExchangeCodeForToken. What it obtains is kept by the
// Secret writer while it is not yet due for refresh itself, and obtain answers with it
// (Written when it reached the Secret before): neither a write that fails nor another
// writer that overwrites the Secret costs a second upstream call. A code works only once,
// so the refresh token of an exchange is kept too, and refreshed when its access token is no
// longer usable.
func (r *FigmaTokenReconciler) obtain(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, obs policy.Observation, rt route) (secretwrite.Token, error) {
	kept, haveKept := r.Secrets.Kept(ft)
	// policy.KeptUsable decides, on the kept token's times: a token due by the schedule is
	// never written again instead of refreshed.
	if haveKept && obs.KeptUsable() {
		return kept, nil
	}
	// Only a kept exchange matters beyond its access token: its code is spent.
	haveKept = haveKept && kept.CredentialHash == obs.CredentialHash() && kept.RefreshToken != ""
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
			got.Spent = spentWithCode(rt)
		}
	default:
		result, err = rt.upstream.Exchange(ctx, upstream.ExchangeRequest{
			Client:       rt.client,
			Code:         tokensecret.Text(source, figmav1alpha1.SecretKeyCode),
			RedirectURI:  tokensecret.Text(source, figmav1alpha1.SecretKeyRedirectURI),
			CodeVerifier: tokensecret.Text(source, figmav1alpha1.SecretKeyCodeVerifier),
		})
		got.RefreshToken, got.Spent = result.RefreshToken, spentWithCode(rt)
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

// spentWithCode are the keys besides the code that Figma's exchange spends with it: the
// redirect URI and the PKCE verifier.
func spentWithCode(rt route) []string {
	if rt.via != figmav1alpha1.UpstreamFigma {
		return nil
	}
	return []string{figmav1alpha1.SecretKeyRedirectURI, figmav1alpha1.SecretKeyCodeVerifier}
}

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
