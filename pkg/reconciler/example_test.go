package reconciler_test

import (
	"context"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tokenops/figma-token-operator/pkg/crds"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
	"github.com/tokenops/figma-token-operator/pkg/reconciler"
)

// An envtest suite's setup: the CRD, the fake endpoint, and the reconciler in the suite's
// manager. examples/envtest-app runs this for real.
func ExampleRegister() {
	env := &envtest.Environment{CRDs: crds.MustAll()}
	cfg, err := env.Start()
	if err != nil {
		panic(err)
	}
	defer func() { _ = env.Stop() }()

	creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"}
	fake := fakeamplify.New(fakeamplify.Options{Credentials: creds, Region: "us-east-1", Lifetime: time.Hour})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, reconciler.ManagerOptions(ctrl.Options{Scheme: scheme}))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := reconciler.Register(ctx, mgr, reconciler.Options{Endpoint: srv.URL, Region: "us-east-1", Credentials: creds}); err != nil {
		panic(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	// Create Secrets and FigmaTokens, wait for Ready, program fake per refresh token...
}
