package operator

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// mayReadClusterClients asks the API server (SelfSubjectAccessReview, which every identity
// may create) whether the manager may list and watch ClusterFigmaOAuthClients and Namespaces,
// cluster-wide. The cluster-wide install grants it; a namespaced install may not, and then
// must not watch them, or its cache would never sync.
func mayReadClusterClients(ctx context.Context, config *rest.Config) (bool, error) {
	return allowed(ctx, config, "list and watch",
		authorizationv1.ResourceAttributes{Group: figmav1alpha1.GroupVersion.Group, Resource: "clusterfigmaoauthclients"},
		authorizationv1.ResourceAttributes{Resource: "namespaces"})
}

// mayWatchSecretsIn asks whether the manager may list and watch Secrets in namespace: a
// namespaced install that serves ClusterFigmaOAuthClients has a Role there for their Secrets.
func mayWatchSecretsIn(ctx context.Context, config *rest.Config, namespace string) (bool, error) {
	return allowed(ctx, config, "list and watch", authorizationv1.ResourceAttributes{Namespace: namespace, Resource: "secrets"})
}

// allowed reports whether every one of resources may be listed and watched.
func allowed(ctx context.Context, config *rest.Config, what string, resources ...authorizationv1.ResourceAttributes) (bool, error) {
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return false, err
	}
	for _, res := range resources {
		for _, verb := range []string{"list", "watch"} {
			attrs := res
			attrs.Verb = verb
			review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
				&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}, metav1.CreateOptions{})
			if err != nil {
				return false, fmt.Errorf("asking whether the manager may %s %s: %w", what, res.Resource, err)
			}
			if !review.Status.Allowed {
				return false, nil
			}
		}
	}
	return true, nil
}
