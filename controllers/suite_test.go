package controllers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/figma"
	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/internal/upstream"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

// The suite runs a real kube-apiserver and etcd, the real manager, and the fake Amplify
// endpoint over HTTP; tests assert through a direct (uncached) client. Each test has its own
// namespace and refresh tokens, so most run in parallel (make test: -parallel 32); those that
// restart the manager, take the endpoint down or race the clock run alone, before them.
var (
	restConfig *rest.Config
	k8s        client.Client
	fake       *fakeamplify.Server
	amplifyAPI upstream.Refresher
	// stsFake issues the temporary credentials of OAuth clients' roles, which fake accepts.
	stsFake *fakeamplify.STS
	// figmaFake is the fake Figma OAuth endpoint, with the OAuth app figmaApp; figmaAPI calls it.
	figmaFake *fakefigma.Server
	figmaAPI  upstream.Refresher
	logs      = &harness.Output{} // the manager's logs
	stopMgr   atomic.Pointer[func()]
	// endpoint serves fake on loopback; tests take it down and bring it back.
	endpoint *harness.Endpoint
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	assets, err := harness.Assets(context.Background(), false, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Debug-level logs are kept so tests can check that no token reaches them.
	cp, err := harness.StartControlPlane(harness.ControlPlaneOptions{Assets: assets,
		Log: zap.New(zap.WriteTo(logs), zap.UseDevMode(true), zap.Level(zapcore.Level(-10)))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cp.Stop()
	restConfig, k8s = cp.Config, cp.Client

	if endpoint, err = harness.StartEndpoint(fakeamplify.Options{Lifetime: time.Hour}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer endpoint.Down()
	fake = endpoint.Fake
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// STS for the roles of OAuth clients, found as the SDK finds it.
	stsFake = fakeamplify.NewSTS(fakeamplify.STSOptions{Credentials: harness.Credentials, Region: harness.Region, Amplify: fake})
	stsServer := httptest.NewServer(stsFake)
	defer stsServer.Close()
	os.Setenv("AWS_ENDPOINT_URL_STS", stsServer.URL)
	amplifyAPI, err = amplify.New(context.Background(), amplify.Options{
		Endpoint: endpoint.URL, Region: harness.Region, CallTimeout: 5 * time.Second, MaxRetryBackoff: 50 * time.Millisecond,
		ExtraConfig: []func(*config.LoadOptions) error{
			config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: harness.Credentials}),
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	figmaFake = fakefigma.New(fakefigma.Options{Clients: map[string]string{figmaAppID: figmaAppSecret}, Lifetime: time.Hour})
	figmaServer := httptest.NewServer(figmaFake)
	defer figmaServer.Close()
	if figmaAPI, err = figma.New(figma.Options{Endpoint: figmaServer.URL, CallTimeout: 5 * time.Second}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: clusterResourceNamespace}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	if err := startManager(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { (*stopMgr.Load())() }()
	code := m.Run()
	if err := findLeaks(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	return code
}

// startManager starts the operator's manager, with rollout restarts enabled unless a change
// of the options says otherwise; stopMgr stops it and waits until it has.
func startManager(changes ...func(*operator.Options)) error {
	return startManagerWith(operator.Upstreams{Amplify: amplifyAPI, Figma: figmaAPI}, changes...)
}

// startManagerWith is startManager against upstreams.
func startManagerWith(upstreams operator.Upstreams, changes ...func(*operator.Options)) error {
	opts := operator.Options{MetricsAddr: "0", ProbeAddr: "0", MaxConcurrentReconciles: 4, SkipNameValidation: true, EnableRolloutRestarts: true,
		ClusterResourceNamespace: clusterResourceNamespace}
	for _, change := range changes {
		change(&opts)
	}
	stop, err := runManagerWith("manager", opts, upstreams)
	if err != nil {
		return err
	}
	stopMgr.Store(&stop)
	return nil
}

// runManager starts a manager with opts (the suite's, or another instance beside it); stop
// stops it and waits until it has.
func runManager(name string, opts operator.Options) (stop func(), err error) {
	return runManagerWith(name, opts, operator.Upstreams{Amplify: amplifyAPI, Figma: figmaAPI})
}

// runManagerWith starts a manager with opts against upstreams.
func runManagerWith(name string, opts operator.Options, upstreams operator.Upstreams) (stop func(), err error) {
	mgr, err := operator.New(restConfig, opts, upstreams, clock.RealClock{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, name+":", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// The OAuth app the fake Figma endpoint knows, and the namespace of cluster clients' Secrets.
const (
	figmaAppID               = "figma-app-id"
	figmaAppSecret           = "app+secret/with=chars"
	clusterResourceNamespace = "figma-system"
)

// restartManager stops the running manager and starts a new one, as a restart would.
func restartManager(t *testing.T, changes ...func(*operator.Options)) {
	t.Helper()
	(*stopMgr.Load())()
	if err := startManager(changes...); err != nil {
		t.Fatal(err)
	}
}
