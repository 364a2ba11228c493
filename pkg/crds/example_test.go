package crds_test

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tokenops/figma-token-operator/pkg/crds"
)

// Install the FigmaToken CRD into an envtest control plane.
func ExampleMustAll() {
	env := &envtest.Environment{CRDs: crds.MustAll()}
	fmt.Println(env.CRDs[0].Spec.Names.Kind)
	// Output: FigmaToken
}
