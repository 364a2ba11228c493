package crds_test

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tokenops/figma-token-operator/pkg/crds"
)

// Install the operator's CRDs into an envtest control plane.
func ExampleMustAll() {
	env := &envtest.Environment{CRDs: crds.MustAll()}
	for _, crd := range env.CRDs {
		fmt.Println(crd.Spec.Names.Kind)
	}
	// Output:
	// ClusterFigmaOAuthClient
	// FigmaOAuthClient
	// FigmaToken
}
