package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// adopt takes over a token an earlier version of the operator wrote: it adds the
// access-token-hash for the value and refreshed-at the Secret holds, in one write with the
// resourceVersion read, and counts the token as already sent to workloads. No upstream
// call: an upgrade costs nothing and restarts nothing. A Secret that changed meanwhile is
// adopted only if it still qualifies.
func (r *FigmaTokenReconciler) adopt(ctx context.Context, ft *figmav1alpha1.FigmaToken, s secrets, obs *policy.Observation) error {
	current, recheck := s.source, r.recheckSource(ctx, ft, obs)
	if ft.Spec.Target != nil {
		current = s.target
		recheck = func(target *corev1.Secret) (bool, error) {
			seeTarget(ft, target, obs)
			return obs.Adopt, nil
		}
	}
	if current == nil {
		return nil
	}
	key := client.ObjectKeyFromObject(current)
	adopted, written, err := r.writeSecret(ctx, key, current.DeepCopy(), func(current *corev1.Secret) error {
		if current == nil {
			return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
		}
		rec := tokensecret.ReadRecord(current.Annotations)
		value := string(current.Data[string(ft.Spec.SecretRef.AccessTokenKey)])
		current.Annotations[figmav1alpha1.AnnotationAccessTokenHash] = tokensecret.AccessTokenFingerprint(obs.UID, value, rec.RefreshedAt)
		r.memory.noteWrite(ft, key, current.Annotations[figmav1alpha1.AnnotationRefreshedAt])
		return r.Client.Update(ctx, current, fieldOwner)
	}, func(current *corev1.Secret) (bool, error) {
		if ok, err := recheck(current); err != nil || !ok {
			return ok, err
		}
		return obs.Adopt, nil
	})
	if err != nil || !written {
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
