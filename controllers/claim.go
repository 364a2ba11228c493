package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// claimFirst makes a Secret that other FigmaTokens name too this FigmaToken's before any
// upstream call is made for it. When an owner goes away, its siblings all see a Secret they
// may take over; without a claim each would call upstream and only one write would land.
// The claim is an update of the owner annotation alone, carrying the resourceVersion read,
// so exactly one sibling's claim lands; the others re-read and find it owned. It reports
// whether this FigmaToken may go on, with s and obs updated to what it found.
//
// A Secret no other FigmaToken names, or one this FigmaToken already owns, needs no claim:
// the token's own write claims it, in the same update.
func (r *FigmaTokenReconciler) claimFirst(ctx context.Context, ft *figmav1alpha1.FigmaToken, s *secrets, obs *policy.Observation) (bool, error) {
	if ft.Spec.Target != nil || obs.Owned() || len(r.byIndex(ctx, ft.Namespace, string(ft.Spec.SecretRef.Name), ft.Name)) == 0 {
		return true, nil
	}
	claimed, ok, err := r.writeSecret(ctx, client.ObjectKeyFromObject(s.source), s.source.DeepCopy(), func(current *corev1.Secret) error {
		if current.Annotations == nil {
			current.Annotations = map[string]string{}
		}
		current.Annotations[figmav1alpha1.AnnotationOwner] = ft.Name
		return r.Client.Update(ctx, current, fieldOwner)
	}, r.recheckSource(ctx, ft, obs))
	if err != nil || !ok {
		return false, err
	}
	s.source = claimed
	return true, nil
}
