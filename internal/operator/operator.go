// Package operator assembles the operator: a controller-runtime manager (cache, metrics,
// probes, leader election) running the FigmaToken reconciler against an upstream. main.go
// and the tests start the very same thing. It is the one package that imports controllers;
// nothing below it may import it (a depguard rule in .golangci.yml).
package operator

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/controllers"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// DefaultMaxConcurrentReconciles is the default of --max-concurrent-reconciles. An upstream
// attempt that hangs holds its worker for up to 10 s; right after a failover a new leader
// makes hundreds of calls within seconds, and make soak saw eight of them hang at once, which
// stalled every FigmaToken with 8 workers. Workers wait on I/O and cost little (docs/tuning.md).
const DefaultMaxConcurrentReconciles = 16

// LeaderElectionID names the Lease replicas compete for.
const LeaderElectionID = "figma-token-operator.figma.tokenops.dev"

// leaderElectionID is the Lease of the instance that watches selector: each shard has its
// own (the selector's fingerprint appended), so shards run side by side, each with standbys.
func leaderElectionID(selector labels.Selector) string {
	if selector == nil || selector.Empty() {
		return LeaderElectionID
	}
	sum := sha256.Sum256([]byte(selector.String()))
	return LeaderElectionID + "-" + hex.EncodeToString(sum[:4])
}

// lastAppliedAnnotation is kubectl's copy of an applied object; for a Secret it holds the
// Secret's data, so it is never kept in the cache.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Options are the manager's settings, from the command line.
type Options struct {
	MetricsAddr string
	// MetricsSecure serves metrics over HTTPS behind Kubernetes authentication (TokenReview)
	// and authorization (SubjectAccessReview: get on the /metrics non-resource URL, as the
	// metrics-reader ClusterRole grants); false serves plain HTTP to anyone.
	MetricsSecure bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics endpoint; without them (the
	// default) a self-signed certificate is made at start.
	MetricsCertDir string
	ProbeAddr      string
	// PprofAddr serves Go's /debug/pprof profiles; "" or "0" disables it.
	PprofAddr               string
	LeaderElect             bool
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election; zero keeps
	// controller-runtime's defaults (15 s, 10 s, 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	MaxConcurrentReconciles                   int
	// WatchNamespaces narrows the operator to these namespaces; empty means all.
	WatchNamespaces []string
	// WatchLabelSelector narrows the operator to the FigmaTokens it selects, for sharding:
	// several instances side by side, each with its own selector and its own Lease; nil
	// selects all.
	WatchLabelSelector labels.Selector
	// SkipNameValidation lets one process start the manager more than once (tests do).
	SkipNameValidation bool
	// EnableRolloutRestarts lets the reconciler patch the workloads in
	// spec.rolloutRestartTargets; the RBAC for it is granted only alongside.
	EnableRolloutRestarts bool
	// ClusterResourceNamespace holds the Secrets of ClusterFigmaOAuthClients
	// (--cluster-resource-namespace); "" leaves cluster clients on the Figma upstream not Ready.
	ClusterResourceNamespace string
	// NamespacedClientsAmbientIdentity lets FigmaOAuthClients on the Amplify upstream sign
	// with the operator's own AWS identity (--namespaced-clients-ambient-identity).
	NamespacedClientsAmbientIdentity bool
	// RequireClientRef stalls FigmaTokens without spec.clientRef (OAuthClientNotReady)
	// rather than sign their calls with the operator's own AWS identity (--require-client-ref).
	RequireClientRef bool

	// leading is the lease fence's check, with leader election (see leaseFence).
	leading func() error
}

// Upstreams are the services that refresh tokens.
type Upstreams struct {
	// Amplify is the AWS Amplify UI Builder upstream; nil when the manager has no AWS
	// region (FigmaTokens that use it are then Stalled, AWSAccessDenied).
	Amplify upstream.Refresher
	// Figma is Figma's own OAuth endpoints.
	Figma upstream.Refresher
}

// New builds a manager running the FigmaToken and OAuth client reconcilers against upstreams.
func New(restConfig *rest.Config, opts Options, upstreams Upstreams, clk clock.PassiveClock) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, figmav1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	watches := controllers.NewWatchHealth(clk)
	if opts.LeaderElect {
		fence := &leaseFence{clock: clk, lease: leaderElectionID(opts.WatchLabelSelector), deadline: cmp.Or(opts.RenewDeadline, defaultRenewDeadline)}
		restConfig = fence.wrap(restConfig)
		opts.leading = fence.check // and no upstream call either
	}
	managerOptions := ManagerOptions(ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOptions(opts),
		HealthProbeBindAddress:        opts.ProbeAddr,
		PprofBindAddress:              opts.PprofAddr,
		LeaderElection:                opts.LeaderElect,
		LeaderElectionID:              leaderElectionID(opts.WatchLabelSelector),
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 nonZero(opts.LeaseDuration),
		RenewDeadline:                 nonZero(opts.RenewDeadline),
		RetryPeriod:                   nonZero(opts.RetryPeriod),
		Controller:                    config.Controller{SkipNameValidation: &opts.SkipNameValidation},
	}, opts.WatchNamespaces, opts.WatchLabelSelector, watches)
	if err := watchClusterClientSecrets(context.Background(), restConfig, opts, &managerOptions.Cache); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(withReconnectingWatches(restConfig, watches.Failed), managerOptions)
	if err != nil {
		return nil, err
	}
	if err := Register(mgr, opts, upstreams, clk, watches); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// ManagerOptions adds to base what the operator needs of a manager: Secrets are never
// cached (the reconciler reads the few it needs directly; a cache of every Secret's data is
// how other operators ran out of memory), cached objects are stripped of bulky metadata, and
// the cache covers the watched namespaces only (all when none) and, with a selector, the
// FigmaTokens it selects only (all when nil). watches, when not nil, is told of every failed
// watch.
func ManagerOptions(base ctrl.Options, watchNamespaces []string, figmaTokens labels.Selector, watches *controllers.WatchHealth) ctrl.Options {
	base.Cache = cacheOptions(watchNamespaces)
	if figmaTokens != nil && !figmaTokens.Empty() {
		base.Cache.ByObject = map[client.Object]cache.ByObject{&figmav1alpha1.FigmaToken{}: {Label: figmaTokens}}
	}
	if watches != nil {
		base.Cache.DefaultWatchErrorHandler = watches.HandleWatchError
	}
	base.Client.Cache = &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}
	return base
}

// Register adds the FigmaToken reconciler, calling upstreams, and the OAuth client
// reconciler to mgr; the API types join the manager's scheme. watches is what
// ManagerOptions was given.
func Register(mgr ctrl.Manager, opts Options, upstreams Upstreams, clk clock.PassiveClock, watches *controllers.WatchHealth) error {
	if err := figmav1alpha1.AddToScheme(mgr.GetScheme()); err != nil {
		return err
	}
	clusterClients, err := mayReadClusterClients(context.Background(), mgr.GetConfig())
	if err != nil {
		return err
	}
	if !clusterClients {
		mgr.GetLogger().Info("ClusterFigmaOAuthClients are off: this manager may not list and watch them and Namespaces (a namespaced install without the cluster-wide grant); FigmaTokens that name one are Stalled, OAuthClientNotReady")
	}
	clients := &controllers.OAuthClients{
		Client:                    mgr.GetClient(),
		Secrets:                   &controllers.ClientSecrets{Reader: mgr.GetAPIReader(), Metadata: mgr.GetCache()},
		Amplify:                   upstreams.Amplify,
		Figma:                     upstreams.Figma,
		ClusterResourceNamespace:  opts.ClusterResourceNamespace,
		ClusterClients:            clusterClients,
		NamespacedAmbientIdentity: opts.NamespacedClientsAmbientIdentity,
		RequireClientRef:          opts.RequireClientRef,
	}
	recorder := mgr.GetEventRecorder("figma-token-operator")
	oauthClients := &controllers.OAuthClientReconciler{Client: mgr.GetClient(), Clients: clients, Recorder: recorder}
	if err := oauthClients.SetupWithManager(mgr); err != nil {
		return err
	}
	reconciler := &controllers.FigmaTokenReconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Secrets:         &secretwrite.Writer{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Clock: clk},
		SecretMetadata:  mgr.GetCache(),
		Clients:         clients,
		Recorder:        recorder,
		Clock:           clk,
		RolloutRestarts: opts.EnableRolloutRestarts,
		Watches:         watches,
		Leading:         opts.leading,
		Sharded:         opts.WatchLabelSelector != nil && !opts.WatchLabelSelector.Empty(),
	}
	return reconciler.SetupWithManager(mgr, max(opts.MaxConcurrentReconciles, 1))
}

// watchClusterClientSecrets adds the cluster resource namespace to the Secret metadata watch
// of a namespaced manager (--watch-namespace) that serves ClusterFigmaOAuthClients and may
// watch Secrets there, so that a FigmaToken re-checks at once when such a client's Secret
// changes. Without the grant the namespace stays out: a watch refused would keep the cache
// from ever syncing.
func watchClusterClientSecrets(ctx context.Context, config *rest.Config, opts Options, c *cache.Options) error {
	ns := opts.ClusterResourceNamespace
	if ns == "" || len(opts.WatchNamespaces) == 0 || slices.Contains(opts.WatchNamespaces, ns) {
		return nil
	}
	clusterClients, err := mayReadClusterClients(ctx, config)
	if err != nil || !clusterClients {
		return err
	}
	if ok, err := mayWatchSecretsIn(ctx, config, ns); err != nil || !ok {
		return err
	}
	namespaces := map[string]cache.Config{ns: {}}
	for _, watched := range opts.WatchNamespaces {
		namespaces[watched] = cache.Config{}
	}
	if c.ByObject == nil {
		c.ByObject = map[client.Object]cache.ByObject{}
	}
	c.ByObject[&corev1.Secret{}] = cache.ByObject{Namespaces: namespaces}
	return nil
}

// defaultRenewDeadline is controller-runtime's, for RenewDeadline zero.
const defaultRenewDeadline = 10 * time.Second

func nonZero(d time.Duration) *time.Duration {
	if d == 0 {
		return nil
	}
	return &d
}

// cacheOptions limits the cache (and so the watches, Secret metadata included) to the
// watched namespaces.
func cacheOptions(namespaces []string) cache.Options {
	opts := cache.Options{DefaultTransform: stripBulkyMetadata}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// stripBulkyMetadata keeps cached objects small: no managedFields, no last-applied copy.
func stripBulkyMetadata(obj any) (any, error) {
	if o, ok := obj.(client.Object); ok {
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a[lastAppliedAnnotation] != "" {
			delete(a, lastAppliedAnnotation)
			o.SetAnnotations(a)
		}
	}
	return obj, nil
}
