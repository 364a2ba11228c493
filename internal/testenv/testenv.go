// Package testenv starts the envtest control plane (a real kube-apiserver and etcd) with the
// operator's CRDs installed, for the test suites.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the repository's top folder, found from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "PROJECT")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no PROJECT file above the working directory")
		}
		dir = parent
	}
}

// Assets is the folder holding kube-apiserver, etcd and kubectl: KUBEBUILDER_ASSETS when
// set, else what hack/envtest.sh built under bin/k8s/.
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	matches, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*", "kube-apiserver"))
	if len(matches) == 0 {
		return "", errors.New("no control-plane binaries: run 'make test' (it builds them) or set KUBEBUILDER_ASSETS")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// Start starts kube-apiserver and etcd with the CRDs from config/crd/bases installed.
func Start() (*envtest.Environment, *rest.Config, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	return start(filepath.Join(root, "config", "crd", "bases"))
}

// StartBare starts kube-apiserver and etcd with nothing installed, for suites that install
// the CRDs themselves, as users do.
func StartBare() (*envtest.Environment, *rest.Config, error) {
	return start()
}

func start(crdPaths ...string) (*envtest.Environment, *rest.Config, error) {
	assets, err := Assets()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: len(crdPaths) > 0,
	}
	// As on clusters that enforce it (OpenShift does): setting blockOwnerDeletion on a
	// target Secret's ownerReference needs update on figmatokens/finalizers.
	env.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest from %s: %w", assets, err)
	}
	return env, cfg, nil
}
