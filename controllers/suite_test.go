package controllers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/fakeamplify"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/internal/testenv"
)

// The suite runs a real kube-apiserver and etcd, the real manager, and the fake Amplify
// endpoint over HTTP; tests assert through a direct (uncached) client.
var (
	restConfig *rest.Config
	k8s        client.Client
	fake       *fakeamplify.Server
	upstream   amplify.Refresher
	logs       = &syncBuffer{}
	stopMgr    atomic.Pointer[func()]
	endpoint   = &restartableEndpoint{}
)

// restartableEndpoint serves the fake on a fixed loopback address that tests can take down
// (connections refused) and bring back.
type restartableEndpoint struct {
	addr   string
	server *http.Server
}

func (e *restartableEndpoint) start(addr string) error {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	e.addr = listener.Addr().String()
	e.server = &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.server.Serve(listener) }()
	return nil
}

func (e *restartableEndpoint) stop() { _ = e.server.Close() }

var awsCreds = aws.Credentials{AccessKeyID: "AKIDENVTEST", SecretAccessKey: "envtest-secret"}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	// Debug-level logs are kept so tests can check that no token reaches them.
	log.SetLogger(zap.New(zap.WriteTo(logs), zap.UseDevMode(true), zap.Level(zapcore.Level(-10))))

	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	restConfig = cfg

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = figmav1alpha1.AddToScheme(scheme)
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	fake = fakeamplify.New(fakeamplify.Options{Credentials: awsCreds, Region: "us-east-1", Lifetime: time.Hour})
	if err := endpoint.start("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer endpoint.stop()
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	upstream, err = amplify.New(context.Background(), amplify.Options{
		Endpoint: "http://" + endpoint.addr, Region: "us-east-1", CallTimeout: 5 * time.Second, MaxRetryBackoff: 50 * time.Millisecond,
		ExtraConfig: []func(*config.LoadOptions) error{
			config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: awsCreds}),
		},
	})
	if err != nil {
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
	opts := operator.Options{MetricsAddr: "0", ProbeAddr: "0", MaxConcurrentReconciles: 4, SkipNameValidation: true, EnableRolloutRestarts: true}
	for _, change := range changes {
		change(&opts)
	}
	mgr, err := operator.New(restConfig, opts, upstream, clock.RealClock{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	stop := func() { cancel(); <-done }
	stopMgr.Store(&stop)
	return nil
}

// restartManager stops the running manager and starts a new one, as a restart would.
func restartManager(t *testing.T, changes ...func(*operator.Options)) {
	t.Helper()
	(*stopMgr.Load())()
	if err := startManager(changes...); err != nil {
		t.Fatal(err)
	}
}
