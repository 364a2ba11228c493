// Package app is a tiny app that calls Figma with the access token a FigmaToken keeps fresh
// in a Secret. It reads the token at each use, as an app that mounts the Secret as a volume
// would read the file.
package app

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// App reads its Figma token from a Secret that a FigmaToken keeps fresh.
type App struct {
	Client     client.Reader
	Namespace  string
	Secret     string // the Secret the FigmaToken writes
	FigmaToken string
}

// Token is the current access token.
func (a App) Token(ctx context.Context) (string, error) {
	secret := &corev1.Secret{}
	if err := a.Client.Get(ctx, types.NamespacedName{Namespace: a.Namespace, Name: a.Secret}, secret); err != nil {
		return "", err
	}
	token := string(secret.Data["accessToken"])
	if token == "" {
		return "", fmt.Errorf("secret %s has no access token yet", a.Secret)
	}
	return token, nil
}

// Health reports whether the app can count on its token: an error when the FigmaToken is
// Stalled (a person must act, e.g. a refused refresh token) or not Ready.
func (a App) Health(ctx context.Context) error {
	ft := &figmav1alpha1.FigmaToken{}
	if err := a.Client.Get(ctx, types.NamespacedName{Namespace: a.Namespace, Name: a.FigmaToken}, ft); err != nil {
		return err
	}
	if c := meta.FindStatusCondition(ft.Status.Conditions, figmav1alpha1.ConditionStalled); c != nil && c.Status == "True" {
		return fmt.Errorf("figma token stalled (%s): %s", c.Reason, c.Message)
	}
	if !meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady) {
		return fmt.Errorf("figma token not ready")
	}
	return nil
}
