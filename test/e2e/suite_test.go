// Package e2e runs the operator as its users do: the built manager binary as its own process,
// under a user that holds only the RBAC generated into config/rbac/, against a real
// kube-apiserver and etcd, driven with real kubectl.
//
// Tests that stop, kill or replace the suite's manager run one at a time; the others call
// t.Parallel() and so run together after them, never while the manager is away.
package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

const operatorUser = "figma-token-operator"

var (
	root            string // the repository
	work            string // binaries, kubeconfigs and logs of this run
	kubectlBin      string
	adminKubeconfig string
	fake            *fakeamplify.Server
	// operatorKubeconfig and operatorUserConfig are the operator user's: bound to the
	// generated RBAC only.
	operatorKubeconfig string
	operatorUserConfig *rest.Config
	fakeURL            string
	// figmaFake serves Figma's OAuth endpoints at figmaURL, knowing the samples' OAuth app.
	figmaFake *fakefigma.Server
	figmaURL  string
	operator  *harness.Manager
)

// The OAuth app of config/samples, as the fake Figma endpoint knows it.
const (
	sampleClientID     = "sample-figma-client-id"
	sampleClientSecret = "sample-figma-client-secret"
)

// gc is the suite's garbage collector.
var gc *garbageCollector

func TestMain(m *testing.M) {
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	os.Exit(code)
}

func runSuite(m *testing.M) (int, error) {
	var err error
	if root, err = harness.RepoRoot(); err != nil {
		return 1, err
	}
	if work, err = os.MkdirTemp("", "figma-e2e-"); err != nil {
		return 1, err
	}
	defer os.RemoveAll(work)

	assets, err := harness.Assets(context.Background(), false, nil)
	if err != nil {
		return 1, err
	}
	// Empty: the suite installs the CRD with kubectl, as users do.
	adminKubeconfig = filepath.Join(work, "admin.kubeconfig")
	cp, err := harness.StartControlPlane(harness.ControlPlaneOptions{Assets: assets, WithoutCRDs: true, Kubeconfig: adminKubeconfig})
	if err != nil {
		return 1, err
	}
	defer cp.Stop()
	env := cp.Env
	kubectlBin = cp.KubectlPath

	if err := build(filepath.Join(work, "manager"), root, "."); err != nil {
		return 1, err
	}
	if operatorKubeconfig, err = installLikeAUser(env); err != nil {
		return 1, err
	}
	// After the CRD is installed, so that the collector's first discovery sees FigmaTokens.
	if gc, err = startGarbageCollector(env.BinaryAssetsDirectory, adminKubeconfig); err != nil {
		return 1, err
	}
	defer gc.stop()

	endpoint, err := harness.StartEndpoint(fakeamplify.Options{Lifetime: time.Hour})
	if err != nil {
		return 1, err
	}
	defer endpoint.Down()
	fake, fakeURL = endpoint.Fake, endpoint.URL
	figmaFake = fakefigma.New(fakefigma.Options{Clients: map[string]string{sampleClientID: sampleClientSecret}, Lifetime: time.Hour})
	figmaServer := httptest.NewServer(figmaFake)
	defer figmaServer.Close()
	figmaURL = figmaServer.URL

	operator = newManager(operatorKubeconfig, "manager.log")
	if err := operator.Start(); err != nil {
		return 1, err
	}
	defer operator.Stop()
	return m.Run(), nil
}

// installLikeAUser applies the CRDs and the generated RBAC with kubectl, and returns the
// kubeconfig of a user bound to nothing but that RBAC.
func installLikeAUser(env *envtest.Environment) (string, error) {
	steps := [][]string{
		{"apply", "-f", filepath.Join(root, "config", "crd", "bases")},
		{"wait", "--for=condition=Established", "crd/figmatokens.figma.tokenops.dev", "--timeout=60s"},
		{"apply", "-f", filepath.Join(root, "config", "rbac", "role.yaml")},
		{"create", "clusterrolebinding", "e2e-operator", "--clusterrole=manager-role", "--user=" + operatorUser},
		// Leader election: the Role of config/rbac/ in the namespace it names.
		{"create", "namespace", "system"},
		{"apply", "-f", filepath.Join(root, "config", "rbac", "leader_election_role.yaml")},
		{"create", "rolebinding", "e2e-leader-election", "-n", "system", "--role=leader-election-role", "--user=" + operatorUser},
		// The metrics endpoint's authentication and authorization, and a scraper allowed to get
		// /metrics (a ServiceAccount, as Prometheus is).
		{"apply", "-f", filepath.Join(root, "config", "rbac", "metrics_auth", "role.yaml")},
		{"create", "clusterrolebinding", "e2e-metrics-auth", "--clusterrole=metrics-auth-role", "--user=" + operatorUser},
		{"apply", "-f", filepath.Join(root, "config", "rbac", "metrics_reader_role.yaml")},
		{"create", "serviceaccount", "scraper", "-n", "system"},
		{"create", "clusterrolebinding", "e2e-scraper", "--clusterrole=metrics-reader", "--serviceaccount=system:scraper"},
		{"create", "serviceaccount", "stranger", "-n", "system"},
	}
	for _, args := range steps {
		if out, err := kubectl(nil, args...); err != nil {
			return "", fmt.Errorf("kubectl %v: %w: %s", args, err, out)
		}
	}
	user, err := env.AddUser(envtest.User{Name: operatorUser}, nil)
	if err != nil {
		return "", err
	}
	operatorUserConfig = user.Config()
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(work, "operator.kubeconfig")
	return path, os.WriteFile(path, kubeconfig, 0o600)
}

// build compiles a Go package into output.
func build(output, dir, pkg string) error {
	cmd := exec.CommandContext(context.Background(), "go", "build", "-o", output, pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, out)
	}
	return nil
}
