package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

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

// wroteThere returns the first of others whose status shows it wrote its token into the
// Secret they share in place after since (zero: ever); "" when none did.
func wroteThere(others []figmav1alpha1.FigmaToken, since time.Time) string {
	for _, other := range others {
		if other.Spec.Target == nil && wroteBefore(&other) && other.Status.LastRefreshTime.After(since) {
			return other.Name
		}
	}
	return ""
}
