package controllers_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// The API server itself refuses bad FigmaTokens (OpenAPI schema and CEL rules of the CRD),
// so one bad object never reaches the operator.
func TestAPIServerRefusesInvalidFigmaTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	many := map[string]string{}
	for i := range 65 {
		many["k"+strings.Repeat("x", i)] = "v"
	}
	tests := []struct {
		name   string
		mutate func(*figmav1alpha1.FigmaToken)
	}{
		{"missing secretRef.name", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.Name = "" }},
		{"secretRef.name not a DNS subdomain", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.Name = "Not_A_Name" }},
		{"same refresh and access key", func(ft *figmav1alpha1.FigmaToken) {
			ft.Spec.SecretRef.RefreshTokenKey, ft.Spec.SecretRef.AccessTokenKey = "token", "token"
		}},
		{"access key equals the default refresh key", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.AccessTokenKey = "refreshToken" }},
		{"expiresAtKey equals the refresh key", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.ExpiresAtKey = "refreshToken" }},
		{"expiresAtKey equals the access key", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.ExpiresAtKey = "accessToken" }},
		{"key with a slash", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.AccessTokenKey = "a/b" }},
		{"key '.'", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.AccessTokenKey = "." }},
		{"key starting with '..'", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.RefreshTokenKey = "..token" }},
		{"key longer than 253", func(ft *figmav1alpha1.FigmaToken) {
			ft.Spec.SecretRef.AccessTokenKey = figmav1alpha1.SecretKey(strings.Repeat("a", 254))
		}},
		{"refreshBefore not a duration", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshBefore = "soon" }},
		{"refreshBefore zero", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshBefore = "0s" }},
		{"refreshBefore negative", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshBefore = "-5m" }},
		{"refreshBefore beyond a year, which would overflow time arithmetic", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshBefore = "2562047h" }},
		{"refreshInterval under an hour", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshInterval = "59m" }},
		{"refreshInterval not a duration", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshInterval = "daily" }},
		{"refreshInterval beyond a year", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.RefreshInterval = "8761h" }},
		{"too many target labels", func(ft *figmav1alpha1.FigmaToken) {
			ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "t", Labels: many}
		}},
		{"too many target annotations", func(ft *figmav1alpha1.FigmaToken) {
			ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "t", Annotations: many}
		}},
		{"target label in the operator's prefix", func(ft *figmav1alpha1.FigmaToken) {
			ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "t", Labels: map[string]string{"figma.tokenops.dev/x": "y"}}
		}},
		{"target annotation in the operator's prefix", func(ft *figmav1alpha1.FigmaToken) {
			ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "t", Annotations: map[string]string{"figma.tokenops.dev/owner": "y"}}
		}},
		{"target name equal to secretRef.name", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "creds"} }},
		{"target name not a DNS subdomain", func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "UPPER"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := validFigmaToken(f.ns)
			tt.mutate(ft)
			err := k8s.Create(context.Background(), ft, client.DryRunAll)
			NewWithT(t).Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want the API server to refuse it as invalid, got %v", err)
		})
	}

	t.Run("a valid FigmaToken gets the defaults", func(t *testing.T) {
		g := NewWithT(t)
		ft := validFigmaToken(f.ns)
		ft.Spec.RefreshBefore = "20m"
		ft.Spec.SecretRef.ExpiresAtKey = "expiresAt"
		g.Expect(k8s.Create(context.Background(), ft, client.DryRunAll)).To(Succeed())
		g.Expect(string(ft.Spec.SecretRef.RefreshTokenKey)).To(Equal("refreshToken"))
		g.Expect(string(ft.Spec.SecretRef.AccessTokenKey)).To(Equal("accessToken"))
	})

	t.Run("refreshBefore of a year is accepted", func(t *testing.T) {
		ft := validFigmaToken(f.ns)
		ft.Spec.RefreshBefore = "8760h"
		NewWithT(t).Expect(k8s.Create(context.Background(), ft, client.DryRunAll)).To(Succeed())
	})

	t.Run("refreshInterval from an hour to a year is accepted", func(t *testing.T) {
		for _, interval := range []string{"1h", "24h", "8760h"} {
			ft := validFigmaToken(f.ns)
			ft.Spec.RefreshInterval = interval
			NewWithT(t).Expect(k8s.Create(context.Background(), ft, client.DryRunAll)).To(Succeed(), interval)
		}
	})
}

func validFigmaToken(namespace string) *figmav1alpha1.FigmaToken {
	return &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Name: "valid", Namespace: namespace},
		Spec:       figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: "creds"}},
	}
}
