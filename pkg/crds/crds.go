// Package crds holds the operator's CustomResourceDefinitions, embedded, so that a suite
// that tests an app against FigmaTokens installs them without a path into the module cache:
//
//	env := &envtest.Environment{CRDs: crds.MustAll()}
//
// The files are copies of config/crd/bases, made by make manifests.
package crds

import (
	_ "embed"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed figma.tokenops.dev_figmatokens.yaml
var figmaToken []byte

// All returns the operator's CRDs: FigmaToken.
func All() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(figmaToken, crd); err != nil {
		return nil, fmt.Errorf("the embedded FigmaToken CRD: %w", err)
	}
	return []*apiextensionsv1.CustomResourceDefinition{crd}, nil
}

// MustAll is All for test setup, where a broken embedded file is a bug.
func MustAll() []*apiextensionsv1.CustomResourceDefinition {
	all, err := All()
	if err != nil {
		panic(err)
	}
	return all
}
