package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// The steps of a reconcile that write a Secret. Each is one write of the Secret writer
// (internal/secretwrite); what they add is the recheck after a conflict: what the Secret,
// re-read, says about who may write it (observe's rules).

// write stores what was obtained, in place or in the target Secret. With a target, an
// exchanged refresh token goes into the source first: the code is spent, and that token is
// what keeps the target fresh. It returns the Secret it wrote, or failed to write.
func (r *FigmaTokenReconciler) write(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets,
	got secretwrite.Token, rec tokensecret.Record, obs *policy.Observation) (string, bool, error) {
	if ft.Spec.Target == nil {
		written, err := r.writeInPlace(ctx, ft, s.source, got, rec, obs)
		if written && got.RefreshToken != "" {
			got.Written = true
			r.keepUnderStoredRefreshToken(ft, got, rec)
		}
		return s.source.Name, written, err
	}
	if got.RefreshToken != "" {
		if err := r.Secrets.StoreRefreshToken(ctx, ft, s.source, string(ft.Spec.SecretRef.RefreshTokenKey), got); err != nil {
			return s.source.Name, false, err
		}
		got = r.keepUnderStoredRefreshToken(ft, got, rec)
	}
	key := types.NamespacedName{Namespace: ft.Namespace, Name: string(ft.Spec.Target.Name)}
	_, written, err := r.Secrets.Target(ctx, ft, key, s.target, targetShape(ft), got.AccessToken, rec, r.recheckTarget(ft, obs))
	if written {
		r.wrote(ft)
		r.clearInFlight(ctx, ft, s.source)
	}
	return key.Name, written, err
}

// clearInFlight removes the note of a requested refresh in flight from the source Secret once
// the target holds the answer (in place, the token's own write removes it). A failure is
// left to the note's deadline.
func (r *FigmaTokenReconciler) clearInFlight(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret) {
	noted := func(s *corev1.Secret) bool { return s != nil && tokensecret.ReadInFlight(s.Annotations).Request != "" }
	if !noted(source) {
		return
	}
	_, _, err := r.Secrets.NoteInFlight(ctx, ft, source, tokensecret.InFlight{}, func(current *corev1.Secret) (bool, error) { return noted(current), nil })
	if err != nil {
		log.FromContext(ctx).V(1).Info("the note of the requested refresh stays until its deadline", "secret", source.Name, "reason", reasonOf(err))
	}
}

// keepUnderStoredRefreshToken keeps the access token of an exchange under the refresh
// token now stored: the code is spent, and the Secret's credential is that refresh token.
func (r *FigmaTokenReconciler) keepUnderStoredRefreshToken(ft *figmav1alpha1.FigmaToken, got secretwrite.Token, rec tokensecret.Record) secretwrite.Token {
	got.RefreshToken, got.CredentialHash = "", rec.RefreshTokenHash
	r.Secrets.Keep(ft, got)
	return got
}

// writeInPlace updates the source Secret in place with the resourceVersion that was read. On
// a conflict the writer re-reads, re-checks ownership and writes the token it already
// holds; it reports false, with obs updated, when the Secret is no longer this FigmaToken's
// to write.
func (r *FigmaTokenReconciler) writeInPlace(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret,
	got secretwrite.Token, rec tokensecret.Record, obs *policy.Observation) (bool, error) {
	written, ok, err := r.Secrets.InPlace(ctx, ft, source, secretKeys(ft), string(ft.Spec.SecretRef.RefreshTokenKey), got, rec, r.recheckSource(ctx, ft, obs))
	if !ok {
		return false, err
	}
	// The version written holds what the record says unless the refresh token changed
	// between the read and a retried write.
	if tokensecret.Fingerprint(obs.UID, tokensecret.Text(written, string(ft.Spec.SecretRef.RefreshTokenKey))) == rec.RefreshTokenHash {
		obs.SecretVersion = written.ResourceVersion
	}
	r.wrote(ft)
	return true, nil
}

// wrote notes that the kept token reached the Secret: kept on for restoring, and, during a
// fight, one of its rewrites.
func (r *FigmaTokenReconciler) wrote(ft *figmav1alpha1.FigmaToken) {
	r.Secrets.Written(ft)
	r.memory.written(ft, r.Clock.Now())
}

// claimFirst makes a Secret that other FigmaTokens name too this FigmaToken's before any
// upstream call is made for it. When an owner goes away, its siblings all see a Secret they
// may take over; without a claim each would call upstream and only one write would land.
// The claim carries the resourceVersion read, so exactly one sibling's claim lands; the
// others re-read and find it owned. It reports whether this FigmaToken may go on, with s and
// obs updated to what it found.
//
// A Secret no other FigmaToken names, or one this FigmaToken already owns, needs no claim:
// the token's own write claims it, in the same update.
func (r *FigmaTokenReconciler) claimFirst(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs *policy.Observation) (bool, error) {
	if ft.Spec.Target != nil || obs.Owned() {
		return true, nil
	}
	// Siblings in other shards too: each shard would call upstream for its own.
	if others, err := r.siblings(ctx, ft); err != nil || len(others) == 0 {
		return err == nil, err
	}
	claimed, ok, err := r.Secrets.Claim(ctx, ft, s.source, r.recheckSource(ctx, ft, obs))
	if err != nil || !ok {
		return false, err
	}
	s.source = claimed
	return true, nil
}

// noteInFlight records in the source Secret, before the call, that a requested refresh is
// being answered, so that another instance (the shard a relabelled FigmaToken moves to
// meanwhile) waits for the answer instead of calling for the same value. Routine refreshes
// need no note, nor does a request the kept token answers (no call), nor an instance that
// is not sharded: no other instance reconciles its FigmaTokens (leader election fences a
// deposed leader's writes). It reports whether this FigmaToken may go on, with s and obs
// updated to what it found.
func (r *FigmaTokenReconciler) noteInFlight(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs *policy.Observation) (bool, error) {
	if !r.Sharded || !obs.RequestPending() || obs.KeptUsable() || s.source == nil {
		return true, nil
	}
	f := tokensecret.InFlight{Request: obs.Request, Until: r.Clock.Now().Add(policy.InFlightFor).Truncate(time.Second)}
	recheck := r.recheckSource(ctx, ft, obs)
	if ft.Spec.Target != nil {
		// The source only holds the refresh token: what the target says is not re-read.
		recheck = func(current *corev1.Secret) (bool, error) {
			if current == nil {
				return false, apierrors.NewNotFound(corev1.Resource("secrets"), string(ft.Spec.SecretRef.Name))
			}
			seeSource(ft, current, obs)
			return true, nil
		}
	}
	noted, ok, err := r.Secrets.NoteInFlight(ctx, ft, s.source, f, func(current *corev1.Secret) (bool, error) {
		allowed, err := recheck(current)
		return allowed && !obs.RequestInFlight(), err
	})
	if err != nil || !ok {
		return false, err
	}
	s.source, obs.InFlight = noted, f
	return true, nil
}

// adopt takes over a token an earlier version of the operator wrote: the access-token-hash
// for the value and refreshed-at the Secret holds is added in one write, and the token counts
// as already sent to workloads. No upstream call: an upgrade costs nothing and restarts
// nothing. A Secret that changed meanwhile is adopted only if it still qualifies.
func (r *FigmaTokenReconciler) adopt(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs *policy.Observation) error {
	current, recheck := s.source, r.recheckSource(ctx, ft, obs)
	if ft.Spec.Target != nil {
		current, recheck = s.target, r.recheckTarget(ft, obs)
	}
	if current == nil {
		return nil
	}
	adopted, ok, err := r.Secrets.AddAccessTokenHash(ctx, ft, current, string(ft.Spec.SecretRef.AccessTokenKey), func(current *corev1.Secret) (bool, error) {
		allowed, err := recheck(current)
		return allowed && obs.Adopt, err
	})
	if err != nil || !ok {
		return err
	}
	obs.Record = tokensecret.ReadRecord(adopted.Annotations)
	obs.Adopt, obs.TokenHeld = false, true
	obs.RestartedFor = obs.Record.RefreshedAt
	if ft.Spec.Target == nil {
		obs.SecretVersion = adopted.ResourceVersion
	}
	return nil
}

// syncSource, when no refresh is due, brings the source Secret to the spec's keys with the
// token it holds: moved to a new accessTokenKey (the old key's value goes), its expiry under
// a new expiresAtKey. A spec change costs no upstream call while the token is valid.
func (r *FigmaTokenReconciler) syncSource(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs *policy.Observation) error {
	if s.source == nil {
		return nil
	}
	synced, written, err := r.Secrets.ReshapeSource(ctx, ft, s.source, secretKeys(ft))
	if written {
		obs.SecretVersion, obs.OutOfShape, obs.AccessTokenSet = synced.ResourceVersion, false, true
	}
	return err
}

// recheckSource re-reads what a source Secret found changed says about who may write it.
func (r *FigmaTokenReconciler) recheckSource(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs *policy.Observation) secretwrite.Recheck {
	return func(current *corev1.Secret) (bool, error) {
		if current == nil {
			return false, apierrors.NewNotFound(corev1.Resource("secrets"), string(ft.Spec.SecretRef.Name))
		}
		seeSource(ft, current, obs)
		if err := r.seeDestination(ctx, ft, current, obs); err != nil {
			return false, err
		}
		return obs.Claim.Allowed, nil
	}
}

// recheckTarget re-reads what a target Secret found changed says: it may be written while
// it is this FigmaToken's (or gone).
func (r *FigmaTokenReconciler) recheckTarget(ft *figmav1alpha1.FigmaToken, obs *policy.Observation) secretwrite.Recheck {
	return func(current *corev1.Secret) (bool, error) {
		seeTarget(ft, current, obs)
		return obs.Claim.Allowed, nil
	}
}

// destinationName is the Secret that receives the access token.
func destinationName(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.Target != nil {
		return string(ft.Spec.Target.Name)
	}
	return string(ft.Spec.SecretRef.Name)
}
