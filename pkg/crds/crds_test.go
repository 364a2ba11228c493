package crds_test

import (
	"testing"

	"github.com/tokenops/figma-token-operator/pkg/crds"
)

func TestAllHoldsTheFigmaTokenCRD(t *testing.T) {
	all, err := crds.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "figmatokens.figma.tokenops.dev" || all[0].Spec.Names.ShortNames[0] != "ft" {
		t.Fatalf("crds.All() = %v", all)
	}
}
