package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// The fixtures of the tests in this package that run the reconciler's parts against a fake
// client, without a control plane.

// testScheme knows the built-in types and FigmaTokens.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, figmav1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return scheme
}

// inPlaceFigmaToken is FigmaToken "ft" (UID "uid-1") in namespace "ns", writing the access
// token into its Secret "creds", refreshed 20 minutes before expiry.
func inPlaceFigmaToken() *figmav1alpha1.FigmaToken {
	return &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Name: "ft", Namespace: "ns", Generation: 1, UID: "uid-1"},
		Spec: figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: "creds",
			RefreshTokenKey: "refreshToken", AccessTokenKey: "accessToken"}, RefreshBefore: "20m"},
	}
}
