package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// Observing is two steps, the same at the start of a reconcile and when a write found a
// Secret changed: read each Secret once into a tokensecret.Sight (with the few API reads
// its ownership needs), then policy.Observe says what it all means.

// secrets are the Secrets a reconcile works on. source holds the refresh token; target,
// when spec.target is set, receives the access token (nil until the operator creates it).
type secrets struct {
	source *corev1.Secret
	target *corev1.Secret
}

// observe gathers what decide needs. When the cache shows the Secret as this FigmaToken last
// wrote it and nothing is due, that is enough; otherwise it reads the FigmaToken's Secrets
// straight from the API server. The source is nil when not read or when it does not exist.
// It counts another writer's overwrite of the token, once.
func (r *FigmaTokenReconciler) observe(ctx context.Context, ft *figmav1alpha1.FigmaToken, rt policy.Route) (policy.Observation, secrets, error) {
	if obs, ok, err := r.observeCached(ctx, ft, rt); err != nil || (ok && !policy.Decide(obs).Refresh) {
		return obs, secrets{}, err
	}
	obs, s, err := r.observeSecrets(ctx, ft, rt)
	if err != nil {
		return obs, s, err
	}
	return r.countOverwrite(ctx, ft, s, obs), s, nil
}

// inputs is what the FigmaToken, its OAuth client (rt) and what this process keeps say.
func (r *FigmaTokenReconciler) inputs(ft *figmav1alpha1.FigmaToken, rt policy.Route) policy.Inputs {
	return policy.Inputs{
		FigmaToken:   ft,
		Now:          r.Clock.Now(),
		Route:        rt,
		Failure:      r.memory.failure(ft),
		RestartedFor: r.memory.restartedFor(ft),
		Kept:         r.Secrets.KeptInfo(ft),
		Overwrites:   r.Secrets.Overwrites(ft, ft.Generation),
		Wrote:        r.Secrets.Wrote(ft, types.NamespacedName{Namespace: ft.Namespace, Name: destinationName(ft)}),
	}
}

// view is how ft looks at its Secrets.
func view(ft *figmav1alpha1.FigmaToken) tokensecret.View {
	return tokensecret.View{UID: string(ft.UID), Keys: secretKeys(ft), RefreshTokenKey: string(ft.Spec.SecretRef.RefreshTokenKey)}
}

// observeCached observes from the cache alone, which holds Secret metadata only. It can when
// the Secret still has the resourceVersion status recorded for this FigmaToken's own write:
// the Secret then holds exactly what its annotations record, the refresh token they
// fingerprint and the access token written. So a restart, a resync or a status change costs
// no Secret read; any other change to the Secret gives it a new version, and a read.
func (r *FigmaTokenReconciler) observeCached(ctx context.Context, ft *figmav1alpha1.FigmaToken, rt policy.Route) (policy.Observation, bool, error) {
	in := r.inputs(ft, rt)
	// A cached FigmaToken older than this process's own last status write may pair an old
	// status with an old Secret version: not trusted.
	// Nor is a cache whose watches failed lately: it may not show what changed meanwhile.
	// Nor a spec change: what the Secret must hold (its keys, the expiry key) may have
	// changed with it, so a new generation is always answered from the Secret itself.
	version := ft.Status.SecretResourceVersion
	if version == "" || ft.Spec.Target != nil || ft.Status.SecretName != string(ft.Spec.SecretRef.Name) || !r.memory.isCurrent(ft) ||
		!r.Watches.CacheTrusted() || ft.Status.ObservedGeneration != ft.Generation {
		return policy.Observe(in), false, nil
	}
	cached := secretMetadata()
	if err := r.SecretMetadata.Get(ctx, types.NamespacedName{Namespace: ft.Namespace, Name: string(ft.Spec.SecretRef.Name)}, cached); err != nil {
		return policy.Observe(in), false, client.IgnoreNotFound(err)
	}
	record := tokensecret.ReadRecord(cached.Annotations)
	// A record without access-token-hash was written by an earlier version: read, to adopt.
	// A former target that became the source is read, to be released.
	if cached.ResourceVersion != version || record.Owner != ft.Name || record.RefreshTokenHash == "" || record.AccessTokenHash == "" ||
		tokensecret.IsTargetOf(cached, string(ft.UID)) || metav1.IsControlledBy(cached, ft) {
		return policy.Observe(in), false, nil
	}
	sight := tokensecret.SeeRecorded(cached)
	in.Source = &sight
	return policy.Observe(in), true, nil
}

// observeSecrets reads the FigmaToken's Secrets straight from the API server.
func (r *FigmaTokenReconciler) observeSecrets(ctx context.Context, ft *figmav1alpha1.FigmaToken, rt policy.Route) (policy.Observation, secrets, error) {
	in := r.inputs(ft, rt)
	var s secrets
	var err error
	if s.source, err = r.readSecret(ctx, ft.Namespace, string(ft.Spec.SecretRef.Name)); err != nil {
		return policy.Observe(in), s, err
	}
	if s.source != nil {
		in.Source = ptr(tokensecret.See(s.source, view(ft)))
	}
	switch {
	case ft.Spec.Target != nil:
		// Read even without the source: the token the target holds stays usable.
		if s.target, err = r.readSecret(ctx, ft.Namespace, string(ft.Spec.Target.Name)); err != nil {
			return policy.Observe(in), secrets{}, err
		}
		if s.target != nil {
			in.Target = ptr(tokensecret.See(s.target, view(ft)))
		}
	case s.source != nil:
		if err := r.readOwnership(ctx, ft, *in.Source, &in); err != nil {
			return policy.Observe(in), secrets{}, err
		}
	}
	obs := policy.Observe(in)
	if ft.Spec.Target == nil && s.source != nil && obs.Claim.Owner != "" {
		// Handed over to another FigmaToken: its writes there are history.
		r.Secrets.Unwrote(ft, client.ObjectKeyFromObject(s.source))
	}
	if s.source != nil {
		if obs, err = r.keepFormerTargetsToken(ctx, ft, obs); err != nil {
			return obs, secrets{}, err
		}
	}
	return obs, s, nil
}

func ptr[T any](v T) *T { return &v }

// readOwnership reads what the ownership of a Secret written in place needs besides the
// Secret: whether the FigmaToken its owner annotation names still claims it or, for an
// unclaimed and empty Secret, the other FigmaTokens that name it.
func (r *FigmaTokenReconciler) readOwnership(ctx context.Context, ft *figmav1alpha1.FigmaToken, source tokensecret.Sight, in *policy.Inputs) error {
	owner := source.Record.Owner
	switch {
	case owner != "" && owner != ft.Name:
		claims, err := r.ownerStillClaims(ctx, ft, owner, source.Name)
		in.OwnerStillClaims = claims
		return err
	case owner == "" && !source.AccessTokenSet:
		others, err := r.siblings(ctx, ft)
		in.Siblings = others
		return err
	}
	return nil
}

// readSecret reads a Secret from the API server (with its data and managedFields); nil
// when it does not exist.
func (r *FigmaTokenReconciler) readSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return r.Secrets.Read(ctx, types.NamespacedName{Namespace: namespace, Name: name})
}

// ownerStillClaims reports whether the FigmaToken named in a Secret's owner annotation
// exists and still references that Secret. Another FigmaToken is read from the API server:
// with sharding (--watch-label-selector) it may be another instance's, outside this cache.
func (r *FigmaTokenReconciler) ownerStillClaims(ctx context.Context, ft *figmav1alpha1.FigmaToken, owner, secretName string) (bool, error) {
	other := &figmav1alpha1.FigmaToken{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ft.Namespace, Name: owner}, other); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading FigmaToken %s, the owner named by Secret %s: %w", owner, secretName, err)
	}
	return other.DeletionTimestamp.IsZero() && string(other.Spec.SecretRef.Name) == secretName, nil
}

// secretRefNameField is the CRD's selectable field (+kubebuilder:selectablefield): the API
// server filters FigmaTokens by the Secret spec.secretRef names.
const secretRefNameField = "spec.secretRef.name" //nolint:gosec // a field path, not a credential

// siblings lists the other FigmaTokens that name ft's Secret in spec.secretRef, in every
// shard. The cache holds them all unless --watch-label-selector narrows it (Sharded); then
// they are listed from the API server, as the ownership checks read it.
func (r *FigmaTokenReconciler) siblings(ctx context.Context, ft *figmav1alpha1.FigmaToken) ([]figmav1alpha1.FigmaToken, error) {
	secret := string(ft.Spec.SecretRef.Name)
	var list figmav1alpha1.FigmaTokenList
	var err error
	if !r.Sharded {
		err = r.Client.List(ctx, &list, client.InNamespace(ft.Namespace), client.MatchingFields{secretNameIndex: secret})
	} else {
		err = r.APIReader.List(ctx, &list, client.InNamespace(ft.Namespace), client.MatchingFields{secretRefNameField: secret})
		if apierrors.IsBadRequest(err) {
			// An API server without selectable fields for custom resources (before 1.31).
			err = r.APIReader.List(ctx, &list, client.InNamespace(ft.Namespace))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing the FigmaTokens that name Secret %s: %w", secret, err)
	}
	others := make([]figmav1alpha1.FigmaToken, 0, len(list.Items))
	for _, other := range list.Items {
		if other.UID != ft.UID && other.DeletionTimestamp.IsZero() && string(other.Spec.SecretRef.Name) == secret {
			others = append(others, other)
		}
	}
	return others, nil
}

// keepFormerTargetsToken keeps the token a former target of this FigmaToken holds, when the
// Secret that receives the token now holds no valid one and this process keeps none (it
// restarted): spec.target renamed or removed costs no upstream call while that token is this
// FigmaToken's, for the current refresh token and unexpired, as an accessTokenKey change
// costs none. The metadata cache finds former targets, so this reads a Secret only where one
// exists.
func (r *FigmaTokenReconciler) keepFormerTargetsToken(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs policy.Observation) (policy.Observation, error) {
	if obs.Valid() || !obs.Kept.ExpiresAt.IsZero() || obs.RefreshTokenHash == "" {
		return obs, nil
	}
	stale, err := r.staleTargets(ctx, ft)
	if err != nil {
		return obs, err
	}
	for _, meta := range stale {
		former, err := r.readSecret(ctx, ft.Namespace, meta.Name)
		if err != nil || former == nil {
			return obs, err
		}
		rec := tokensecret.ReadRecord(former.Annotations)
		value, _, held := tokensecret.HeldValue(former, string(ft.Spec.SecretRef.AccessTokenKey), obs.UID, rec)
		if !held || rec.Owner != ft.Name || rec.RefreshTokenHash != obs.RefreshTokenHash || !rec.ExpiresAt.After(obs.Now) {
			continue
		}
		r.Secrets.Keep(ft, secretwrite.Token{AccessToken: value, SentAt: rec.RefreshedAt, ExpiresAt: rec.ExpiresAt,
			CredentialHash: rec.RefreshTokenHash, Request: rec.HandledRefreshRequest})
		obs, _ = policy.Fold(obs, policy.Outcome{Kept: ptr(r.Secrets.KeptInfo(ft))})
		return obs, nil
	}
	return obs, nil
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

// countOverwrite counts another writer's overwrite of the token this FigmaToken wrote, once
// per version of the Secret (not while suspended: nothing is written then), and reports a
// fight when it starts: one Warning Event that names the field manager that made the
// change. s holds the Secrets as read from the API server (with managedFields, which the
// cache strips).
func (r *FigmaTokenReconciler) countOverwrite(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs policy.Observation) policy.Observation {
	// A spec change is never an overwrite (the Secret need not hold the token where the new
	// spec wants it yet); nothing is written while suspended.
	if !obs.Overwritten() || obs.Suspended || ft.Status.ObservedGeneration != ft.Generation {
		return obs
	}
	destination, key := s.source, "absent"
	if ft.Spec.Target != nil {
		destination = s.target
	}
	writer := "it deleted the Secret"
	if destination != nil {
		key = destination.ResourceVersion
		writer = tokensecret.LastWriter(destination, string(ft.Spec.SecretRef.AccessTokenKey))
	}
	seen, counted, started := r.Secrets.SeeOverwrite(ft, ft.Generation, key, writer)
	obs, _ = policy.Fold(obs, policy.Outcome{Overwrites: &seen})
	if counted {
		log.FromContext(ctx).Info("another writer overwrote the access token", "secret", obs.DestinationName(), "writer", writer, "fight", started)
	}
	// Reported once per fight, also across operator restarts: status shows a fight reported.
	if started && !stalledBy(ft, figmav1alpha1.ReasonSecretOverwritten) {
		r.Recorder.Eventf(ft, nil, corev1.EventTypeWarning, figmav1alpha1.ReasonSecretOverwritten, "Overwrite", "%s", policy.FightMessage(obs))
	}
	return obs
}
