package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// A Secret may start from an OAuth authorization code instead of a refresh token: obtain
// exchanges it once (ExchangeCodeForToken) and the refresh token it returns is stored in the
// Secret, the code removed, in the same update as the access token (writeInPlace) or, with a
// target, before the target is written (storeRefreshToken).

// storeRefreshToken writes an exchanged refresh token into the source Secret and removes
// the used code, for a FigmaToken whose access token goes to a target Secret.
func (r *FigmaTokenReconciler) storeRefreshToken(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, token string) error {
	_, _, err := r.writeSecret(ctx, client.ObjectKeyFromObject(source), source.DeepCopy(), func(current *corev1.Secret) error {
		tokensecret.StoreRefreshToken(current, string(ft.Spec.SecretRef.RefreshTokenKey), token)
		return r.Client.Update(ctx, current, fieldOwner)
	}, func(current *corev1.Secret) (bool, error) {
		if current == nil {
			return false, apierrors.NewNotFound(corev1.Resource("secrets"), source.Name)
		}
		return true, nil
	})
	return err
}
