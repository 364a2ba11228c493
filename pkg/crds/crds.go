// Package crds holds the operator's CustomResourceDefinitions, embedded, so that a suite
// that tests an app against FigmaTokens installs them without a path into the module cache:
//
//	env := &envtest.Environment{CRDs: crds.MustAll()}
//
// The files are copies of config/crd/bases, made by make manifests.
package crds

import (
	"embed"
	"fmt"
	"io/fs"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed figma.tokenops.dev_*.yaml
var files embed.FS

// All returns the operator's CRDs: FigmaToken, FigmaOAuthClient and ClusterFigmaOAuthClient.
func All() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, err
	}
	all := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return nil, fmt.Errorf("the embedded CRD %s: %w", name, err)
		}
		all = append(all, crd)
	}
	return all, nil
}

// MustAll is All for test setup, where a broken embedded file is a bug.
func MustAll() []*apiextensionsv1.CustomResourceDefinition {
	all, err := All()
	if err != nil {
		panic(err)
	}
	return all
}
