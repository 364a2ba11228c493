package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// A target Secret is the operator's own: it creates it with an ownerReference to the
// FigmaToken (so it is garbage-collected with it; the write is in write.go) and the
// target-of mark, shapes it wholly, and deletes it when spec.target moves on. An existing
// Secret without that ownerReference is never touched, and only a Secret with the mark is
// ever deleted: never the one spec.secretRef names, whatever its ownerReferences say.

// seeTarget fills in what the target Secret says; target is nil when it does not exist yet.
func seeTarget(ft *figmav1alpha1.FigmaToken, target *corev1.Secret, obs *policy.Observation) {
	obs.Record, obs.AccessTokenSet, obs.TokenHeld, obs.Adopt = tokensecret.Record{}, false, false, false
	switch {
	case target == nil:
		obs.Claim = tokensecret.Verdict{Allowed: true}
	case !metav1.IsControlledBy(target, ft):
		obs.Claim = tokensecret.Verdict{Why: "the target Secret exists and is not owned by this FigmaToken"}
	default:
		// Found before any upstream call: a token that could never be written is not fetched.
		obs.Claim = tokensecret.MayWrite(tokensecret.Claim{Owner: ft.Name, Immutable: target.Immutable != nil && *target.Immutable}, ft.Name)
		obs.Record = tokensecret.ReadRecord(target.Annotations)
		obs.AccessTokenSet = tokensecret.HasValue(target, string(ft.Spec.SecretRef.AccessTokenKey))
		seeHeld(ft, target, obs)
	}
}

// targetShape is what spec.target asks the target Secret to hold besides the token.
func targetShape(ft *figmav1alpha1.FigmaToken) tokensecret.Target {
	return tokensecret.Target{
		Of:          string(ft.UID),
		Keys:        secretKeys(ft),
		Labels:      ft.Spec.Target.Labels,
		Annotations: ft.Spec.Target.Annotations,
	}
}

func secretKeys(ft *figmav1alpha1.FigmaToken) tokensecret.Keys {
	return tokensecret.Keys{AccessToken: string(ft.Spec.SecretRef.AccessTokenKey), ExpiresAt: ft.Spec.SecretRef.ExpiresAtKey}
}

// releaseSource takes this FigmaToken's target-of mark and ownerReference off the source
// Secret, which it created as a target: it holds the refresh token now, and must outlive the
// FigmaToken.
func (r *FigmaTokenReconciler) releaseSource(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets) error {
	if s.source == nil {
		return nil
	}
	released, ok, err := r.Secrets.Release(ctx, ft, s.source, func(current *corev1.Secret) bool { return madeAsTarget(ft, current) })
	if ok {
		s.source = released
		log.FromContext(ctx).Info("the Secret spec.secretRef names was this FigmaToken's target: released it (it is no longer deleted with the FigmaToken)", "secret", released.Name)
	}
	return err
}

// syncTarget, when no refresh is due, brings an owned target Secret back to what
// spec.target asks (labels, annotations, keys) with the token it holds.
func (r *FigmaTokenReconciler) syncTarget(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs policy.Observation) error {
	if s.target == nil {
		return nil
	}
	reshaped, err := r.Secrets.Reshape(ctx, ft, s.target, targetShape(ft), obs.Record)
	if reshaped {
		log.FromContext(ctx).V(1).Info("brought the target Secret back to spec.target", "secret", s.target.Name)
	}
	return err
}

// deleteStaleTargets deletes the Secrets this FigmaToken created as a target (its
// ownerReference and target-of mark) whose name is no longer spec.target.name, and never the
// Secret spec.secretRef names: that one holds the refresh token.
func (r *FigmaTokenReconciler) deleteStaleTargets(ctx context.Context, ft *figmav1alpha1.FigmaToken) error {
	stale, err := r.staleTargets(ctx, ft)
	if err != nil {
		return err
	}
	for i := range stale {
		secret := &stale[i]
		// The version the cache shows: a Secret released or changed since is not deleted.
		if err := r.Secrets.Delete(ctx, client.ObjectKeyFromObject(secret), secret.UID, secret.ResourceVersion); err != nil {
			return fmt.Errorf("deleting Secret %s: %w", secret.Name, err)
		}
		log.FromContext(ctx).Info("deleted the target Secret spec.target no longer names", "secret", secret.Name)
	}
	return nil
}

// keepFormerTargetsToken counts the token a former target of this FigmaToken holds as kept,
// when the Secret that receives the token now holds no valid one and this process keeps
// none (it restarted): spec.target renamed or removed costs no upstream call while that
// token is this FigmaToken's, for the current refresh token and unexpired, as an
// accessTokenKey change costs none. The metadata cache finds former targets, so this reads a
// Secret only where one exists.
func (r *FigmaTokenReconciler) keepFormerTargetsToken(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs *policy.Observation) error {
	if obs.Valid() || !obs.Kept.ExpiresAt.IsZero() || obs.RefreshTokenHash == "" {
		return nil
	}
	stale, err := r.staleTargets(ctx, ft)
	if err != nil {
		return err
	}
	for _, meta := range stale {
		former, err := r.readSecret(ctx, ft.Namespace, meta.Name)
		if err != nil || former == nil {
			return err
		}
		rec := tokensecret.ReadRecord(former.Annotations)
		value, _, held := tokensecret.HeldValue(former, string(ft.Spec.SecretRef.AccessTokenKey), obs.UID, rec)
		if !held || rec.Owner != ft.Name || rec.RefreshTokenHash != obs.RefreshTokenHash || !rec.ExpiresAt.After(obs.Now) {
			continue
		}
		r.Secrets.Keep(ft, secretwrite.Token{AccessToken: value, SentAt: rec.RefreshedAt, ExpiresAt: rec.ExpiresAt,
			CredentialHash: rec.RefreshTokenHash, Request: rec.HandledRefreshRequest})
		obs.Kept = r.keptInfo(ft)
		return nil
	}
	return nil
}

// madeAsTarget reports whether the operator created a Secret as this FigmaToken's target:
// it carries the target-of mark or, made by an earlier version before the mark existed, its
// controller reference to the FigmaToken was set by the operator (as managedFields, read
// from the API server, show): by its field manager, or in the write that set a refresh's
// record (v0.1.0 wrote without a field manager of its own: the binary's name, "manager").
// A reference a person or tool set is theirs.
func madeAsTarget(ft *figmav1alpha1.FigmaToken, secret *corev1.Secret) bool {
	if tokensecret.IsTargetOf(secret, string(ft.UID)) {
		return true
	}
	if !metav1.IsControlledBy(secret, ft) {
		return false
	}
	for _, entry := range secret.ManagedFields {
		reference, record := managesOwnerReference(entry.FieldsV1, ft.UID)
		if reference && (record || entry.Manager == secretwrite.FieldManager) {
			return true
		}
	}
	return false
}

// staleTargets lists, from the metadata cache, the Secrets this FigmaToken created as a
// target and no longer needs (isStaleTarget).
func (r *FigmaTokenReconciler) staleTargets(ctx context.Context, ft *figmav1alpha1.FigmaToken) ([]metav1.PartialObjectMetadata, error) {
	owned := &metav1.PartialObjectMetadataList{}
	owned.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := r.SecretMetadata.List(ctx, owned, client.InNamespace(ft.Namespace), client.MatchingFields{targetOwnerIndex: ft.Name}); err != nil {
		return nil, fmt.Errorf("listing the Secrets FigmaToken %s created: %w", ft.Name, err)
	}
	return slices.DeleteFunc(owned.Items, func(m metav1.PartialObjectMetadata) bool { return !isStaleTarget(ft, &m) }), nil
}

// isStaleTarget reports whether a Secret is one this FigmaToken created as a target and no
// longer needs. An ownerReference alone does not say so: a person or tool may set one on
// any Secret, the source included, to have it collected with the FigmaToken.
func isStaleTarget(ft *figmav1alpha1.FigmaToken, secret metav1.Object) bool {
	current := ft.Spec.Target != nil && secret.GetName() == string(ft.Spec.Target.Name)
	return metav1.IsControlledBy(secret, ft) && tokensecret.IsTargetOf(secret, string(ft.UID)) &&
		!current && secret.GetName() != string(ft.Spec.SecretRef.Name)
}
