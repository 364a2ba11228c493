package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// secrets are the Secrets a reconcile works on. source holds the refresh token; target,
// when spec.target is set, receives the access token (nil until the operator creates it).
type secrets struct {
	source *corev1.Secret
	target *corev1.Secret
}

// observe gathers what decide needs. When the cache shows the Secret as this FigmaToken last
// wrote it and nothing is due, that is enough; otherwise it reads the FigmaToken's Secrets
// straight from the API server. The source is nil when not read or when it does not exist.
func (r *FigmaTokenReconciler) observe(ctx context.Context, ft *figmav1alpha1.FigmaToken, rt policy.Route) (policy.Observation, secrets, error) {
	if obs, ok, err := r.observeCached(ctx, ft, rt); err != nil || (ok && !policy.Decide(obs).Refresh) {
		return obs, secrets{}, err
	}
	return r.observeSecrets(ctx, ft, rt)
}

// observation is what the FigmaToken itself, its OAuth client (rt) and the memory say.
func (r *FigmaTokenReconciler) observation(ft *figmav1alpha1.FigmaToken, rt policy.Route) policy.Observation {
	refreshBefore, _ := time.ParseDuration(ft.Spec.RefreshBefore) // validated by the API server
	refreshInterval, _ := time.ParseDuration(ft.Spec.RefreshInterval)
	obs := policy.Observation{
		Now:             r.Clock.Now(),
		Self:            ft.Name,
		UID:             string(ft.UID),
		Generation:      ft.Generation,
		Suspended:       ft.Spec.Suspend,
		RefreshBefore:   refreshBefore,
		RefreshInterval: refreshInterval,
		Request:         ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt],
		Namespace:       ft.Namespace,
		SecretName:      string(ft.Spec.SecretRef.Name),
		RefreshTokenKey: string(ft.Spec.SecretRef.RefreshTokenKey),
		AccessTokenKey:  string(ft.Spec.SecretRef.AccessTokenKey),
		RestartTargets:  len(ft.Spec.RolloutRestartTargets),
		SecretVersion:   ft.Status.SecretResourceVersion,
		Failure:         r.memory.latestFailure(ft),
		Overwrites:      r.memory.overwritesOf(ft),
		Route:           rt,
	}
	obs.RestartedFor = r.memory.restartedFor(ft)
	if ft.Spec.Target != nil {
		obs.TargetName = string(ft.Spec.Target.Name)
	}
	obs.Kept = r.keptInfo(ft)
	destination := types.NamespacedName{Namespace: ft.Namespace, Name: destinationName(ft)}
	obs.WroteBefore = r.Secrets.Wrote(ft, destination) || wroteBefore(ft)
	return obs
}

// wroteBefore reports whether status shows a token this FigmaToken wrote to the Secret its
// spec names now (whatever the generation: a spec change does not make the Secret foreign).
func wroteBefore(ft *figmav1alpha1.FigmaToken) bool {
	st := ft.Status
	return st.LastRefreshTime != nil && st.SecretName == destinationName(ft)
}

// observeCached observes from the cache alone, which holds Secret metadata only. It can when
// the Secret still has the resourceVersion status recorded for this FigmaToken's own write:
// the Secret then holds exactly what its annotations record, the refresh token they
// fingerprint and the access token written. So a restart, a resync or a status change costs
// no Secret read; any other change to the Secret gives it a new version, and a read.
func (r *FigmaTokenReconciler) observeCached(ctx context.Context, ft *figmav1alpha1.FigmaToken, rt policy.Route) (policy.Observation, bool, error) {
	obs := r.observation(ft, rt)
	// A cached FigmaToken older than this process's own last status write may pair an old
	// status with an old Secret version: not trusted.
	// Nor is a cache whose watches failed lately: it may not show what changed meanwhile.
	// Nor a spec change: what the Secret must hold (its keys, the expiry key) may have
	// changed with it, so a new generation is always answered from the Secret itself.
	if obs.SecretVersion == "" || ft.Spec.Target != nil || ft.Status.SecretName != obs.SecretName || !r.memory.isCurrent(ft) ||
		!r.Watches.CacheTrusted() || ft.Status.ObservedGeneration != ft.Generation {
		return obs, false, nil
	}
	cached := secretMetadata()
	if err := r.SecretMetadata.Get(ctx, types.NamespacedName{Namespace: ft.Namespace, Name: obs.SecretName}, cached); err != nil {
		return obs, false, client.IgnoreNotFound(err)
	}
	record := tokensecret.ReadRecord(cached.Annotations)
	// A record without access-token-hash was written by an earlier version: read, to adopt.
	// A former target that became the source is read, to be released.
	if cached.ResourceVersion != obs.SecretVersion || record.Owner != ft.Name || record.RefreshTokenHash == "" || record.AccessTokenHash == "" ||
		tokensecret.IsTargetOf(cached, obs.UID) || metav1.IsControlledBy(cached, ft) {
		return obs, false, nil
	}
	obs.SecretFound, obs.RefreshTokenHash, obs.Record, obs.AccessTokenSet, obs.TokenHeld = true, record.RefreshTokenHash, record, true, true
	obs.Claim = tokensecret.MayWrite(tokensecret.Claim{Owner: record.Owner, AccessTokenSet: true, WroteBefore: obs.WroteBefore}, ft.Name)
	endStreakIfRefreshed(&obs)
	return obs, true, nil
}

// observeSecrets reads the FigmaToken's Secrets straight from the API server.
func (r *FigmaTokenReconciler) observeSecrets(ctx context.Context, ft *figmav1alpha1.FigmaToken, rt policy.Route) (policy.Observation, secrets, error) {
	obs := r.observation(ft, rt)
	var s secrets
	var err error
	if s.source, err = r.readSecret(ctx, ft.Namespace, string(ft.Spec.SecretRef.Name)); err != nil {
		return obs, s, err
	}
	if s.source != nil {
		seeSource(ft, s.source, &obs)
	}
	switch {
	case ft.Spec.Target != nil:
		// Read even without the source: the token the target holds stays usable.
		if s.target, err = r.readSecret(ctx, ft.Namespace, string(ft.Spec.Target.Name)); err == nil {
			seeTarget(ft, s.target, &obs)
		}

	case s.source != nil:
		err = r.seeDestination(ctx, ft, s.source, &obs)
	}
	if err == nil && s.source != nil {
		err = r.keepFormerTargetsToken(ctx, ft, &obs)
	}
	if err != nil {
		return obs, secrets{}, err
	}
	endStreakIfRefreshed(&obs)
	return obs, s, nil
}

// endStreakIfRefreshed ends a streak that ended with a refresh written since then, whatever
// a stale cache still says.
func endStreakIfRefreshed(obs *policy.Observation) {
	if obs.Owned() && !obs.Failure.Last.After(obs.Record.RefreshedAt) {
		obs.Failure = policy.Failure{}
	}
}

// readSecret reads a Secret from the API server (with its data and managedFields); nil
// when it does not exist.
func (r *FigmaTokenReconciler) readSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return r.Secrets.Read(ctx, types.NamespacedName{Namespace: namespace, Name: name})
}

// seeSource fills in what the source Secret says about the refresh token or, without one,
// the authorization code to start from.
func seeSource(ft *figmav1alpha1.FigmaToken, secret *corev1.Secret, obs *policy.Observation) {
	obs.SecretFound = true
	obs.SourceIsTarget = madeAsTarget(ft, secret)
	obs.InFlight = tokensecret.ReadInFlight(secret.Annotations)
	obs.RefreshTokenHash, obs.CodeHash = "", ""
	if token := tokensecret.Text(secret, string(ft.Spec.SecretRef.RefreshTokenKey)); token != "" {
		obs.RefreshTokenHash = tokensecret.Fingerprint(obs.UID, token)
		return
	}
	code := tokensecret.Text(secret, figmav1alpha1.SecretKeyCode)
	if code != "" && tokensecret.Text(secret, figmav1alpha1.SecretKeyRedirectURI) != "" {
		obs.CodeHash = tokensecret.Fingerprint(obs.UID, code)
	}
}

// seeDestination fills in what the Secret that receives the access token in place says:
// its record and who may write it. It is also used after re-reading on a write conflict.
func (r *FigmaTokenReconciler) seeDestination(ctx context.Context, ft *figmav1alpha1.FigmaToken, secret *corev1.Secret, obs *policy.Observation) error {
	obs.Record = tokensecret.ReadRecord(secret.Annotations)
	obs.AccessTokenSet = tokensecret.HasValue(secret, string(ft.Spec.SecretRef.AccessTokenKey))
	seeHeld(ft, secret, obs)
	obs.OutOfShape = obs.TokenHeld && tokensecret.ReshapeSource(secret.DeepCopy(), secretKeys(ft), obs.UID)
	claims, err := r.ownerStillClaims(ctx, ft, obs.Record.Owner, secret.Name)
	if err != nil {
		return err
	}
	claim := tokensecret.Claim{
		Owner:            obs.Record.Owner,
		AccessTokenSet:   obs.AccessTokenSet,
		Immutable:        secret.Immutable != nil && *secret.Immutable,
		OwnerStillClaims: claims,
		WroteBefore:      obs.WroteBefore,
	}
	if claim.Owner == "" && !claim.AccessTokenSet {
		// An unclaimed, empty Secret may still be a sibling's, emptied by another writer:
		// the one that wrote there last keeps it.
		others, err := r.siblings(ctx, ft)
		if err != nil {
			return err
		}
		var since time.Time // a sibling's write counts unless this one wrote there later
		if obs.WroteBefore {
			since = lastWritten(ft, obs)
		}
		claim.OtherWrote = wroteThere(others, since)
	}
	obs.Claim = tokensecret.MayWrite(claim, ft.Name)
	if obs.Claim.Owner != "" {
		// Handed over to another FigmaToken: what this one wrote there before is history, not
		// a token another writer took away (status then drops it too).
		obs.WroteBefore = false
		r.Secrets.Unwrote(ft, client.ObjectKeyFromObject(secret))
	}
	return nil
}

// seeHeld fills in whether the Secret that receives the token holds this FigmaToken's
// token, adopting one an earlier version wrote.
func seeHeld(ft *figmav1alpha1.FigmaToken, secret *corev1.Secret, obs *policy.Observation) {
	// Under the key the spec names, or one it named before (moved back by a sync).
	_, _, obs.TokenHeld = tokensecret.HeldValue(secret, string(ft.Spec.SecretRef.AccessTokenKey), obs.UID, obs.Record)
	// A copy of an older write put back (a snapshot of the Secret in Git) holds a token of
	// this FigmaToken, but not the one it wrote last: an overwrite too.
	last := lastWritten(ft, obs)
	if obs.TokenHeld && !last.IsZero() && obs.Record.RefreshedAt.Before(last) {
		obs.TokenHeld = false
	}
	obs.Adopt = false
	if !obs.TokenHeld && obs.Adoptable(last) {
		obs.TokenHeld, obs.Adopt = true, true
	}
}

// lastWritten is the refreshed-at of the token this FigmaToken last wrote, as its memory or
// status says; zero when unknown.
func lastWritten(ft *figmav1alpha1.FigmaToken, obs *policy.Observation) time.Time {
	if obs.Kept.Written {
		return obs.Kept.RefreshedAt
	}
	if ft.Status.LastRefreshTime != nil {
		return ft.Status.LastRefreshTime.Time
	}
	return time.Time{}
}

// ownerStillClaims reports whether the FigmaToken named in a Secret's owner annotation
// exists and still references that Secret. Another FigmaToken is read from the API server:
// with sharding (--watch-label-selector) it may be another instance's, outside this cache.
func (r *FigmaTokenReconciler) ownerStillClaims(ctx context.Context, ft *figmav1alpha1.FigmaToken, owner, secretName string) (bool, error) {
	if owner == "" || owner == ft.Name {
		return owner != "", nil
	}
	other := &figmav1alpha1.FigmaToken{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ft.Namespace, Name: owner}, other); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading FigmaToken %s, the owner named by Secret %s: %w", owner, secretName, err)
	}
	return other.DeletionTimestamp.IsZero() && string(other.Spec.SecretRef.Name) == secretName, nil
}

// failureFromStatus reads a failure streak back from status, as after a restart. The
// credential of the failed attempt is unknown ("") only in a status written before
// failedCredentialHash existed.
func failureFromStatus(ft *figmav1alpha1.FigmaToken) policy.Failure {
	st := ft.Status
	if st.FailedAttempts == 0 {
		return policy.Failure{}
	}
	f := policy.Failure{
		Attempts:       st.FailedAttempts,
		Reason:         figmav1alpha1.ReasonRefreshFailed,
		Generation:     st.ObservedGeneration,
		Request:        st.LastHandledRefreshRequest,
		CredentialHash: st.FailedCredentialHash,
		Client:         st.FailedClient,
	}
	if st.RetryAfter != nil {
		f.RetryAfter = st.RetryAfter.Time
	}
	if st.LastFailureTime != nil {
		f.Last = st.LastFailureTime.Time
	}
	for _, t := range []string{figmav1alpha1.ConditionStalled, figmav1alpha1.ConditionReconciling} {
		if c := meta.FindStatusCondition(st.Conditions, t); c != nil && policy.IsFailure(c.Reason) {
			f.Reason, f.Message = c.Reason, c.Message
			break
		}
	}
	return f
}
