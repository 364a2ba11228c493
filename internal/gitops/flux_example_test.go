package gitops

import (
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

const fluxExample = "../../examples/flux"

// The Flux example's health check names the FigmaToken it applies, where kustomize puts it.
func TestFluxExampleHealthChecksItsFigmaToken(t *testing.T) {
	var token figmav1alpha1.FigmaToken
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(fluxExample, "figma", "figmatoken.yaml")), &token); err != nil {
		t.Fatalf("figmatoken.yaml is not a FigmaToken: %v", err)
	}
	var kustomize struct {
		Namespace string `json:"namespace"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(fluxExample, "figma", "kustomization.yaml")), &kustomize); err != nil {
		t.Fatal(err)
	}
	var flux struct {
		Spec struct {
			HealthChecks []struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Name       string `json:"name"`
				Namespace  string `json:"namespace"`
			} `json:"healthChecks"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(fluxExample, "figma-tokens.yaml")), &flux); err != nil {
		t.Fatal(err)
	}
	for _, hc := range flux.Spec.HealthChecks {
		if hc.APIVersion == figmav1alpha1.GroupVersion.String() && hc.Kind == "FigmaToken" &&
			hc.Name == token.Name && hc.Namespace == kustomize.Namespace {
			return
		}
	}
	t.Errorf("figma-tokens.yaml has no health check for FigmaToken %s/%s (%s): %+v",
		kustomize.Namespace, token.Name, figmav1alpha1.GroupVersion, flux.Spec.HealthChecks)
}
