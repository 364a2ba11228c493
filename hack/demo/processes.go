package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/fakeamplify"
)

// demoCredentials sign the operator's requests to the fake endpoint.
var demoCredentials = aws.Credentials{AccessKeyID: "AKIDDEMO", SecretAccessKey: "demo-secret"}

// controlPlaneBinaries returns KUBEBUILDER_ASSETS or builds the binaries with
// hack/envtest.sh, printing a progress line while the first, minutes-long build runs.
func controlPlaneBinaries(ctx context.Context, root string) (string, error) {
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
				say("still building the control plane (%s so far)...", time.Since(start).Round(time.Second))
			}
		}
	}()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building the control plane: %w", err)
	}
	return string(trimNewline(out)), nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func goBuild(ctx context.Context, root, output, pkg string) error {
	say("building %s into %s...", pkg, filepath.Base(output))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", output, pkg)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	return cmd.Run()
}

// cluster is kube-apiserver and etcd on loopback, started by envtest.
type cluster struct {
	env         *envtest.Environment
	client      client.Client
	kubeconfig  string
	kubectlPath string
}

func startCluster(ctx context.Context, root, assets string) (*cluster, error) {
	say("starting etcd and kube-apiserver on loopback, installing the CRD from config/crd...")
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	c := &cluster{env: env, kubeconfig: filepath.Join(root, "bin", "demo.kubeconfig"), kubectlPath: filepath.Join(assets, "kubectl")}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = figmav1alpha1.AddToScheme(scheme)
	if c.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		c.stop()
		return nil, err
	}
	if err := os.WriteFile(c.kubeconfig, env.KubeConfig, 0o600); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *cluster) kubectl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, c.kubectlPath, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func (c *cluster) stop() {
	_ = c.env.Stop()
	_ = os.Remove(c.kubeconfig)
}

// fakeAmplify is the stand-in for the Amplify endpoint, on loopback.
type fakeAmplify struct {
	server *fakeamplify.Server
	http   *http.Server
	url    string
}

func startFakeAmplify(lifetime time.Duration) (*fakeAmplify, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeAmplify{
		server: fakeamplify.New(fakeamplify.Options{Credentials: demoCredentials, Region: "us-east-1", Lifetime: lifetime}),
		url:    "http://" + listener.Addr().String(),
	}
	f.http = &http.Server{Handler: f.server, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.http.Serve(listener) }()
	say("fake Amplify endpoint at %s issues tokens valid for %s", f.url, lifetime)
	return f, nil
}

func (f *fakeAmplify) stop() { _ = f.http.Close() }

// operator is the manager binary, as users deploy it, in its own process group so that
// Ctrl-C reaches the demo only and the demo stops it in order.
type operator struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

func startOperator(root, binary, kubeconfig, endpoint string) (*operator, error) {
	o := &operator{logPath: filepath.Join(root, "bin", "demo-manager.log"), exited: make(chan struct{})}
	logFile, err := os.Create(o.logPath)
	if err != nil {
		return nil, err
	}
	o.cmd = exec.Command(binary, "--kubeconfig", kubeconfig, "--amplify-endpoint", endpoint, "--aws-region", "us-east-1",
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0")
	o.cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+demoCredentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+demoCredentials.SecretAccessKey,
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
	say("operator started (bin/manager, pid %d)", o.cmd.Process.Pid)
	return o, nil
}

func (o *operator) stop() {
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(20 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
}
