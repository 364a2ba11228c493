package controllers

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// The acts a decision asks for (policy.Act). Each does one thing to the Secrets or the
// workloads and reports it as a policy.Outcome; none changes the observation.
//
// A target Secret is the operator's own: it creates it with an ownerReference to the
// FigmaToken (so it is garbage-collected with it) and the target-of mark, shapes it wholly,
// and deletes it when spec.target moves on. An existing Secret without that ownerReference
// is never touched, and only a Secret with the mark is ever deleted: never the one
// spec.secretRef names, whatever its ownerReferences say.

// acted is what an act did: its outcome, and for a rollout restart whether a failure may
// pass by itself.
type acted struct {
	policy.Outcome
	RetryRestart bool
}

// act takes one act; err is what the reconcile returns besides recording the outcome.
func (r *FigmaTokenReconciler) act(ctx context.Context, act policy.Act, ft *figmav1alpha1.FigmaToken, s *secrets, obs policy.Observation, rt route) (acted, error) {
	switch act {
	case policy.ActReleaseSource:
		if err := r.releaseSource(ctx, ft, s); err != nil {
			return acted{}, fmt.Errorf("releasing the Secret spec.secretRef names from its former role as target: %w", err)
		}
	case policy.ActAdopt:
		out, err := r.adopt(ctx, ft, s)
		if err != nil {
			err = fmt.Errorf("adopting the token an earlier version wrote: %w", err)
		}
		return acted{Outcome: out}, err
	case policy.ActRefresh:
		return acted{Outcome: r.refresh(ctx, ft, s, obs, rt)}, nil
	case policy.ActSyncSource:
		out, err := r.syncSource(ctx, ft, s)
		if err != nil {
			err = fmt.Errorf("bringing the Secret to spec.secretRef's keys: %w", err)
		}
		return acted{Outcome: out}, err
	case policy.ActSyncTarget:
		if err := r.syncTarget(ctx, ft, s, obs); err != nil {
			return acted{}, fmt.Errorf("bringing the target Secret back to spec.target: %w", err)
		}
	case policy.ActPruneTargets:
		if err := r.deleteStaleTargets(ctx, ft); err != nil {
			return acted{}, fmt.Errorf("deleting target Secrets spec.target no longer names: %w", err)
		}
	case policy.ActRestartWorkloads:
		out, retry := r.restartWorkloads(ctx, ft, obs)
		return acted{Outcome: out, RetryRestart: retry}, nil
	}
	return acted{}, nil
}

// releaseSource takes this FigmaToken's target-of mark and ownerReference off the source
// Secret, which it created as a target: it holds the refresh token now, and must outlive the
// FigmaToken.
func (r *FigmaTokenReconciler) releaseSource(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets) error {
	if s.source == nil {
		return nil
	}
	released, ok, err := r.Secrets.Release(ctx, ft, s.source)
	if ok {
		s.source = released
		log.FromContext(ctx).Info("the Secret spec.secretRef names was this FigmaToken's target: released it (it is no longer deleted with the FigmaToken)", "secret", released.Name)
	}
	return err
}

// adopt takes over a token an earlier version of the operator wrote: the access-token-hash
// for the value and refreshed-at the Secret holds is added in one write, and the token counts
// as already sent to workloads. No upstream call: an upgrade costs nothing and restarts
// nothing. A Secret that changed meanwhile is a Conflict: the reconcile looks again, and
// adopts if it still qualifies.
func (r *FigmaTokenReconciler) adopt(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets) (policy.Outcome, error) {
	current := s.source
	if ft.Spec.Target != nil {
		current = s.target
	}
	if current == nil {
		return policy.Outcome{}, nil
	}
	adopted, err := r.Secrets.AddAccessTokenHash(ctx, ft, current, string(ft.Spec.SecretRef.AccessTokenKey))
	if err != nil {
		return policy.Outcome{Conflict: secretwrite.IsChanged(err)}, err
	}
	out := policy.Outcome{Adopted: ptr(tokensecret.ReadRecord(adopted.Annotations))}
	if ft.Spec.Target == nil {
		out.SecretVersion, s.source = adopted.ResourceVersion, adopted
	} else {
		s.target = adopted
	}
	return out, nil
}

// syncSource, when no refresh is due, brings the source Secret to the spec's keys with the
// token it holds: moved to a new accessTokenKey (the old key's value goes), its expiry under
// a new expiresAtKey. A spec change costs no upstream call while the token is valid.
func (r *FigmaTokenReconciler) syncSource(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets) (policy.Outcome, error) {
	if s.source == nil {
		return policy.Outcome{}, nil
	}
	synced, written, err := r.Secrets.ReshapeSource(ctx, ft, s.source, secretKeys(ft))
	if !written {
		return policy.Outcome{}, err
	}
	s.source = synced
	return policy.Outcome{Reshaped: true, SecretVersion: synced.ResourceVersion}, err
}

// syncTarget, when no refresh is due, brings an owned target Secret back to what
// spec.target asks (labels, annotations, keys) with the token it holds.
func (r *FigmaTokenReconciler) syncTarget(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs policy.Observation) error {
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

// destinationName is the Secret that receives the access token.
func destinationName(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.Target != nil {
		return string(ft.Spec.Target.Name)
	}
	return string(ft.Spec.SecretRef.Name)
}
