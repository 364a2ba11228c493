package crds_test

import (
	"slices"
	"testing"

	"github.com/tokenops/figma-token-operator/pkg/crds"
)

func TestAllHoldsTheOperatorsCRDs(t *testing.T) {
	all, err := crds.All()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, crd := range all {
		names = append(names, crd.Name)
	}
	want := []string{"clusterfigmaoauthclients.figma.tokenops.dev", "figmaoauthclients.figma.tokenops.dev", "figmatokens.figma.tokenops.dev"}
	if !slices.Equal(names, want) || all[2].Spec.Names.ShortNames[0] != "ft" {
		t.Fatalf("crds.All() holds %v, want %v", names, want)
	}
}
