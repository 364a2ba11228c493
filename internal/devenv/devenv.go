// Package devenv runs the product on this machine for the demo and the benchmarks: a real
// kube-apiserver and etcd on loopback (envtest), the fake Amplify endpoint on loopback, and
// the operator's manager binary as its own process.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/fakeamplify"
)

// Credentials sign the operator's requests to the fake endpoint.
var Credentials = aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "local-secret"}

// Region is the AWS region the operator and the fake agree on.
const Region = "us-east-1"

// RepoRoot is the repository's top folder: the working directory, which must hold PROJECT.
func RepoRoot() (string, error) {
	root, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "PROJECT")); err != nil {
		return "", errors.New("run from the repository's top folder (through make)")
	}
	return root, nil
}

// Binaries are what a local run needs, built.
type Binaries struct {
	Root string // the repository
	// Assets holds kube-apiserver, etcd and kubectl.
	Assets string
	// Manager is the operator's binary, bin/manager.
	Manager string
}

// Build finds the repository, the control-plane binaries (building them on first use) and
// builds bin/manager; say narrates the minutes-long first build.
func Build(ctx context.Context, say func(format string, args ...any)) (Binaries, error) {
	root, err := RepoRoot()
	if err != nil {
		return Binaries{}, err
	}
	assets, err := ControlPlaneBinaries(ctx, root, func(elapsed time.Duration) {
		say("still building the control plane (%s so far)...", elapsed.Round(time.Second))
	})
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Root: root, Assets: assets, Manager: filepath.Join(root, "bin", "manager")}
	say("building the operator into bin/manager...")
	return b, GoBuild(ctx, root, b.Manager, ".")
}

// ControlPlaneBinaries returns KUBEBUILDER_ASSETS or builds the binaries with
// hack/envtest.sh, calling progress every 15 s while the first, minutes-long build runs.
func ControlPlaneBinaries(ctx context.Context, root string, progress func(elapsed time.Duration)) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "envtest.sh"))
	cmd.Stderr = os.Stderr
	done := make(chan struct{})
	defer close(done)
	go func() {
		start := time.Now()
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				progress(time.Since(start))
			}
		}
	}()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building the control plane: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// GoBuild compiles a package of the repository into output.
func GoBuild(ctx context.Context, root, output, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", output, pkg)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	return cmd.Run()
}

// Cluster is kube-apiserver and etcd on loopback with the CRD installed.
type Cluster struct {
	env         *envtest.Environment
	Config      *rest.Config
	Client      client.Client
	Kubeconfig  string
	KubectlPath string
}

// StartCluster starts the control plane and writes an admin kubeconfig to kubeconfig.
func StartCluster(root, assets, kubeconfig string) (*Cluster, error) {
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	c := &Cluster{env: env, Config: cfg, Kubeconfig: kubeconfig, KubectlPath: filepath.Join(assets, "kubectl")}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = figmav1alpha1.AddToScheme(scheme)
	if c.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		c.Stop()
		return nil, err
	}
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Kubectl runs kubectl against the cluster, its output going to the terminal.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, c.KubectlPath, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// Stop stops the control plane and removes the kubeconfig and envtest's temporary files.
func (c *Cluster) Stop() {
	_ = c.env.Stop()
	_ = os.Remove(c.Kubeconfig)
}

// FakeAmplify is the stand-in for the Amplify endpoint, on loopback.
type FakeAmplify struct {
	Server *fakeamplify.Server
	URL    string
	http   *http.Server
}

// StartFakeAmplify serves a fake endpoint; the credentials and region are devenv's.
func StartFakeAmplify(opts fakeamplify.Options) (*FakeAmplify, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opts.Credentials, opts.Region = Credentials, Region
	f := &FakeAmplify{
		Server: fakeamplify.New(opts),
		URL:    "http://" + listener.Addr().String(),
	}
	f.http = &http.Server{Handler: f.Server, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.http.Serve(listener) }()
	return f, nil
}

// Stop closes the endpoint.
func (f *FakeAmplify) Stop() { _ = f.http.Close() }

// Operator is the manager binary, as users deploy it, in its own process group so that
// Ctrl-C reaches the caller only and the caller stops it in order.
type Operator struct {
	cmd     *exec.Cmd
	LogPath string
	exited  chan struct{}
}

// StartOperator runs binary against the cluster and the fake endpoint; extraArgs follow the
// defaults (no metrics, no probes).
func StartOperator(binary, kubeconfig, endpoint, logPath string, extraArgs ...string) (*Operator, error) {
	o := &Operator{LogPath: logPath, exited: make(chan struct{})}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--kubeconfig", kubeconfig, "--amplify-endpoint", endpoint, "--aws-region", Region,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0"}, extraArgs...)
	o.cmd = exec.Command(binary, args...)
	o.cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+Credentials.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	o.cmd.Stdout, o.cmd.Stderr = logFile, logFile
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := o.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	go func() {
		_ = o.cmd.Wait()
		_ = logFile.Close()
		close(o.exited)
	}()
	return o, nil
}

// Pid is the operator's process ID.
func (o *Operator) Pid() int { return o.cmd.Process.Pid }

// Stop ends the operator gracefully, or kills it after 20 s.
func (o *Operator) Stop() {
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(20 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
}
