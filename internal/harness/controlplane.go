package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/pkg/crds"
)

// Assets is the folder holding kube-apiserver, etcd, kubectl and kube-controller-manager:
// KUBEBUILDER_ASSETS when set, else what hack/envtest.sh built under bin/k8s/. build, when
// set, builds them on first use (minutes), calling progress every 15 s; else their absence
// is an error that says how to get them.
func Assets(ctx context.Context, build bool, progress func(elapsed time.Duration)) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	if !build {
		matches, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*", "kube-apiserver"))
		if len(matches) == 0 {
			return "", errors.New("no control-plane binaries: run 'make test' (it builds them) or set KUBEBUILDER_ASSETS")
		}
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "envtest.sh"))
	cmd.Stderr = os.Stderr
	started := time.Now()
	var out []byte
	err = whileSaying(func() (err error) {
		out, err = cmd.Output()
		return err
	}, 15*time.Second, func() {
		if progress != nil {
			progress(time.Since(started))
		}
	})
	if err != nil {
		return "", fmt.Errorf("building the control plane: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ControlPlaneOptions configure StartControlPlane.
type ControlPlaneOptions struct {
	// Assets holds the binaries (see Assets).
	Assets string
	// WithoutCRDs starts an empty API server, for suites that install the CRD as users do.
	WithoutCRDs bool
	// Kubeconfig, when set, is where an admin kubeconfig is written (removed by Stop).
	Kubeconfig string
	// Log receives controller-runtime's logs in this process; the zero value discards them.
	// (Without a logger controller-runtime prints a warning with a stack trace.)
	Log logr.Logger
}

// ControlPlane is kube-apiserver and etcd on loopback.
type ControlPlane struct {
	Env    *envtest.Environment
	Config *rest.Config
	// Client is an uncached admin client that knows FigmaTokens.
	Client client.Client
	// Kubeconfig is the admin kubeconfig's path, "" when none was asked for.
	Kubeconfig  string
	KubectlPath string

	certDir string // the API server's certificates, kept across its restarts
}

// controlPlaneStartTimeout bounds the start of etcd and of kube-apiserver, each.
const controlPlaneStartTimeout = 90 * time.Second

// StartControlPlane starts kube-apiserver and etcd, with the operator's CRDs (pkg/crds, the
// copies of config/crd/bases) installed unless opts.WithoutCRDs.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	logger := opts.Log
	if logger.GetSink() == nil {
		logger = logr.Discard()
	}
	log.SetLogger(logger)
	// kube-apiserver may take longer than envtest's 20 s to become healthy on a loaded
	// two-core machine where other suites start control planes of their own at the same time;
	// a start that times out is killed and tried again, which only adds to the load.
	env := &envtest.Environment{BinaryAssetsDirectory: opts.Assets, ControlPlaneStartTimeout: controlPlaneStartTimeout}
	if !opts.WithoutCRDs {
		// The CRDs as users' suites get them: embedded in pkg/crds.
		all, err := crds.All()
		if err != nil {
			return nil, err
		}
		env.CRDs = all
	}
	// As on clusters that enforce it (OpenShift does): setting blockOwnerDeletion on a
	// target Secret's ownerReference needs update on figmatokens/finalizers.
	env.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	// The API server's certificates live in a folder of the harness's own: envtest removes one
	// it made when the API server stops, and a restart must keep them (RestartAPIServer).
	certDir, err := os.MkdirTemp("", "kube-apiserver-")
	if err != nil {
		return nil, err
	}
	env.ControlPlane.GetAPIServer().CertDir = certDir
	cfg, err := env.Start()
	if err != nil {
		_ = os.RemoveAll(certDir)
		return nil, fmt.Errorf("starting the control plane from %s: %w", opts.Assets, err)
	}
	cp := &ControlPlane{Env: env, Config: cfg, Kubeconfig: opts.Kubeconfig, KubectlPath: filepath.Join(opts.Assets, "kubectl"), certDir: certDir}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = figmav1alpha1.AddToScheme(scheme)
	if cp.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		cp.Stop()
		return nil, err
	}
	if opts.Kubeconfig != "" {
		if err := os.WriteFile(opts.Kubeconfig, env.KubeConfig, 0o600); err != nil {
			cp.Stop()
			return nil, err
		}
	}
	return cp, nil
}

// Kubectl runs kubectl against the control plane as its admin, its output going to the
// terminal.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, cp.KubectlPath, append([]string{"--kubeconfig", cp.Kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// Stop stops the control plane and removes the kubeconfig.
func (cp *ControlPlane) Stop() {
	_ = cp.Env.Stop()
	_ = os.RemoveAll(cp.certDir)
	if cp.Kubeconfig != "" {
		_ = os.Remove(cp.Kubeconfig)
	}
}

// StopAPIServer stops the kube-apiserver process (SIGTERM) and leaves etcd running: every
// connection and watch breaks, as in a control-plane upgrade. StartAPIServer starts it
// again on the same port with the same certificates, and returns once it is healthy;
// clients' watches then resume, or relist on 410 Gone.
func (cp *ControlPlane) StopAPIServer() error { return cp.Env.ControlPlane.GetAPIServer().Stop() }

// StartAPIServer starts the kube-apiserver StopAPIServer stopped.
func (cp *ControlPlane) StartAPIServer() error { return cp.Env.ControlPlane.GetAPIServer().Start() }
