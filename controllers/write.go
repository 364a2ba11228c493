package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// writeSecret is the one way the operator writes a Secret. write sends one create or update
// built on current (nil: the Secret does not exist), carrying the resourceVersion read. When
// the Secret changed meanwhile (a conflict, or a create that found it created), it re-reads
// it and asks recheck whether this FigmaToken may still write it; if so it writes again on
// the version found, with what it already holds: never a second upstream call. It returns
// the Secret as last written or read, and whether the write landed (false with a nil error
// when recheck said no).
func (r *FigmaTokenReconciler) writeSecret(ctx context.Context, key types.NamespacedName, current *corev1.Secret,
	write func(current *corev1.Secret) error, recheck func(current *corev1.Secret) (bool, error)) (*corev1.Secret, bool, error) {
	changed := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	mayWrite := true
	err := retry.OnError(retry.DefaultRetry, changed, func() error {
		err := write(current)
		if !changed(err) {
			return err
		}
		var readErr error
		if current, readErr = r.readSecret(ctx, key.Namespace, key.Name); readErr != nil {
			return readErr
		}
		if mayWrite, readErr = recheck(current); readErr != nil || !mayWrite {
			return readErr
		}
		return err
	})
	return current, err == nil && mayWrite, err
}

// recheckSource re-reads what a source Secret found changed says about who may write it.
func (r *FigmaTokenReconciler) recheckSource(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs *policy.Observation) func(*corev1.Secret) (bool, error) {
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
