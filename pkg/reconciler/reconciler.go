// Package reconciler runs the FigmaToken and OAuth client reconcilers inside a manager an
// app's envtest suite already has, pointed at an Amplify endpoint (a pkg/fakeamplify server,
// usually) and a Figma endpoint (a pkg/fakefigma server), with the same defaults as the
// operator's binary.
//
//	mgr, _ := ctrl.NewManager(cfg, reconciler.ManagerOptions(ctrl.Options{Scheme: scheme}))
//	_ = reconciler.Register(ctx, mgr, reconciler.Options{Endpoint: srv.URL, Region: "us-east-1", Credentials: creds,
//		FigmaEndpoint: figmaSrv.URL})
//	go mgr.Start(ctx)
package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/figma"
	"github.com/tokenops/figma-token-operator/internal/operator"
)

// Options point the reconciler at an endpoint.
type Options struct {
	// Endpoint is the Amplify UI Builder endpoint URL, e.g. an httptest server's; "" leaves
	// the Amplify upstream off (FigmaTokens that use it are Stalled, AWSAccessDenied).
	Endpoint string
	// Region is the AWS region the endpoint checks signatures for; required with Endpoint.
	Region string
	// FigmaEndpoint is the base URL of Figma's OAuth endpoints, e.g. an httptest server's
	// serving a pkg/fakefigma.Server; default https://api.figma.com.
	FigmaEndpoint string
	// ClusterResourceNamespace holds the Secrets of ClusterFigmaOAuthClients; "" leaves
	// those on the Figma upstream not Ready.
	ClusterResourceNamespace string
	// Credentials sign the requests.
	Credentials aws.Credentials
	// CallTimeout bounds each upstream call; 30 s (the binary's) when zero. A shorter one
	// makes tests of hanging endpoints quick.
	CallTimeout time.Duration
	// MaxConcurrentReconciles defaults to the binary's (operator.DefaultMaxConcurrentReconciles).
	MaxConcurrentReconciles int
	// EnableRolloutRestarts lets it patch spec.rolloutRestartTargets (off, as in the binary).
	EnableRolloutRestarts bool
}

// ManagerOptions returns base with the binary's cache and client settings: no Secret data is
// ever cached, and cached objects are stripped of bulky metadata. Use it to create the
// manager Register is given. Unlike the binary, it does not track failed watches, after which
// the binary reads Secrets directly for a minute (a test's API server has no outages).
func ManagerOptions(base ctrl.Options) ctrl.Options {
	return operator.ManagerOptions(base, nil, nil, nil)
}

// Register adds the FigmaToken and OAuth client reconcilers to mgr; they run when mgr
// starts. The API types join mgr's scheme.
func Register(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Endpoint != "" && opts.Region == "" {
		return errors.New("reconciler: Region is required with Endpoint")
	}
	maxReconciles := opts.MaxConcurrentReconciles
	if maxReconciles == 0 {
		maxReconciles = operator.DefaultMaxConcurrentReconciles
	}
	var upstreams operator.Upstreams
	var err error
	upstreams.Figma, err = figma.New(figma.Options{Endpoint: opts.FigmaEndpoint, CallTimeout: opts.CallTimeout, Concurrency: maxReconciles})
	if err != nil {
		return err
	}
	if opts.Endpoint != "" {
		if upstreams.Amplify, err = amplifyUpstream(ctx, opts, maxReconciles); err != nil {
			return err
		}
	}
	return operator.Register(mgr, operator.Options{MaxConcurrentReconciles: maxReconciles, EnableRolloutRestarts: opts.EnableRolloutRestarts,
		ClusterResourceNamespace: opts.ClusterResourceNamespace}, upstreams, clock.RealClock{}, nil)
}

// amplifyUpstream is the Amplify upstream at opts.Endpoint, signed with opts.Credentials only.
func amplifyUpstream(ctx context.Context, opts Options, maxReconciles int) (*amplify.Client, error) {
	return amplify.New(ctx, amplify.Options{
		Endpoint:    opts.Endpoint,
		Region:      opts.Region,
		CallTimeout: opts.CallTimeout,
		Concurrency: maxReconciles,
		ExtraConfig: []func(*config.LoadOptions) error{
			config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: opts.Credentials}),
			// Nothing of the machine's AWS configuration leaks into a test.
			config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		},
	})
}
