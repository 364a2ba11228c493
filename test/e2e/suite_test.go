// Package e2e runs the operator as its users do: the built manager binary as its own process,
// under a user that holds only the RBAC generated into config/rbac/, against a real
// kube-apiserver and etcd, driven with real kubectl.
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tokenops/figma-token-operator/internal/fakeamplify"
	"github.com/tokenops/figma-token-operator/internal/testenv"
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
	operator           *managerProcess
)

// gc is the suite's garbage collector; nil without kube-controller-manager.
var gc *garbageCollector

var awsCreds = aws.Credentials{AccessKeyID: "AKIDE2E", SecretAccessKey: "e2e-secret"}

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
	if root, err = testenv.RepoRoot(); err != nil {
		return 1, err
	}
	if work, err = os.MkdirTemp("", "figma-e2e-"); err != nil {
		return 1, err
	}
	defer os.RemoveAll(work)

	env, _, err := testenv.StartBare()
	if err != nil {
		return 1, err
	}
	defer func() { _ = env.Stop() }()
	kubectlBin = filepath.Join(env.BinaryAssetsDirectory, "kubectl")
	adminKubeconfig = filepath.Join(work, "admin.kubeconfig")
	if err := os.WriteFile(adminKubeconfig, env.KubeConfig, 0o600); err != nil {
		return 1, err
	}

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

	fake = fakeamplify.New(fakeamplify.Options{Credentials: awsCreds, Region: "us-east-1", Lifetime: time.Hour})
	server := httptest.NewServer(fake)
	defer server.Close()
	fakeURL = server.URL

	operator = &managerProcess{binary: filepath.Join(work, "manager"), kubeconfig: operatorKubeconfig, logPath: filepath.Join(work, "manager.log")}
	if err := operator.start(); err != nil {
		return 1, err
	}
	defer operator.stop()
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
