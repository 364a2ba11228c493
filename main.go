// Command manager runs the figma-token-operator: it keeps Figma access tokens in Secrets
// fresh through Figma's own OAuth endpoints or the AWS Amplify UI Builder RefreshToken
// operation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/figma"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/internal/version"
)

// settings are the manager's command-line settings.
type settings struct {
	manager      operator.Options
	amplify      amplify.Options
	figma        figma.Options
	kubeAPIQPS   float64
	kubeAPIBurst int
	zap          zap.Options
	version      bool
}

// bindFlags registers every flag of the manager on fs. --kubeconfig is registered by
// controller-runtime itself.
func bindFlags(fs *flag.FlagSet) *settings {
	// Errors are single lines: a stack trace says nothing to an operator's user.
	s := &settings{zap: zap.Options{StacktraceLevel: zapcore.PanicLevel}}
	opts := &s.manager
	fs.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", "Address of the metrics endpoint; 0 disables it.")
	fs.BoolVar(&opts.MetricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, to clients the API server authenticates and authorizes for get on /metrics (the metrics-reader ClusterRole); false: plain HTTP, to anyone.")
	fs.StringVar(&opts.MetricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the metrics endpoint; default: a self-signed certificate made at start.")
	fs.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	fs.StringVar(&opts.PprofAddr, "pprof-bind-address", "0", "Address of Go's /debug/pprof profiles, for memory and CPU profiling; 0 disables it.")
	fs.BoolVar(&opts.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica refreshes tokens.")
	fs.DurationVar(&opts.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long standby replicas wait before taking over a lease that is not renewed.")
	fs.DurationVar(&opts.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader retries renewing its lease before giving up.")
	fs.DurationVar(&opts.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "How often replicas try to acquire or renew the lease.")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; default: the Pod's namespace.")
	fs.Func("watch-namespace", "Namespace to watch; repeat it or separate with commas for several (default: all namespaces).",
		func(v string) error {
			for _, ns := range strings.Split(v, ",") {
				if ns = strings.TrimSpace(ns); ns != "" {
					opts.WatchNamespaces = append(opts.WatchNamespaces, ns)
				}
			}
			return nil
		})
	fs.Func("watch-label-selector", "Reconcile only the FigmaTokens this label selector selects, for sharding (e.g. figma.tokenops.dev/shard=b; the default instance: 'figma.tokenops.dev/shard notin (b)'); each selector has its own leader-election Lease. Default: all.",
		func(v string) error {
			selector, err := labels.Parse(v)
			if err != nil {
				return fmt.Errorf("not a label selector: %w", err)
			}
			opts.WatchLabelSelector = selector
			return nil
		})
	fs.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", operator.DefaultMaxConcurrentReconciles, "FigmaTokens reconciled in parallel.")
	fs.StringVar(&s.amplify.Endpoint, "amplify-endpoint", "", "Amplify UI Builder endpoint URL; default: AWS_ENDPOINT_URL_AMPLIFYUIBUILDER, AWS_ENDPOINT_URL, else the regional endpoint.")
	fs.StringVar(&s.amplify.Region, "aws-region", "", "AWS region; default: AWS_REGION or the shared config. Without one the Amplify upstream is off.")
	fs.StringVar(&s.figma.Endpoint, "figma-endpoint", figma.DefaultEndpoint, "Base URL of Figma's OAuth endpoints (/v1/oauth/refresh, /v1/oauth/token), where client secrets are sent.")
	fs.StringVar(&opts.ClusterResourceNamespace, "cluster-resource-namespace", "",
		"Namespace of the Secrets of ClusterFigmaOAuthClients; default: the manager's own (POD_NAMESPACE, else the ServiceAccount's namespace).")
	fs.BoolVar(&opts.NamespacedClientsAmbientIdentity, "namespaced-clients-ambient-identity", false,
		"Let FigmaOAuthClients on the Amplify upstream without amplify.roleArn sign with the operator's own AWS identity (as cert-manager's --issuer-ambient-credentials); off: they are not Ready.")
	fs.BoolVar(&opts.RequireClientRef, "require-client-ref", false,
		"Stall FigmaTokens without spec.clientRef (OAuthClientNotReady) rather than sign their calls with the operator's own AWS identity.")
	fs.Float64Var(&s.kubeAPIQPS, "kube-api-qps", operator.DefaultQPS,
		"Client-side limit of requests per second to the Kubernetes API server; 0 or less: none, the API server's Priority and Fairness paces the operator (as controller-runtime does).")
	fs.IntVar(&s.kubeAPIBurst, "kube-api-burst", operator.DefaultBurst, "Burst of requests above --kube-api-qps, when that is positive; 0 or less: the QPS rounded up.")
	fs.BoolVar(&opts.EnableRolloutRestarts, "enable-rollout-restarts", false,
		"Restart the workloads in spec.rolloutRestartTargets after each new token; needs patch on Deployments, StatefulSets and DaemonSets.")
	fs.BoolVar(&s.version, "version", false, "Print the version and exit.")
	s.zap.BindFlags(fs)
	return s
}

// gcPercent is the garbage collector's target when GOGC is not set: a collection once new
// garbage reaches a fifth of the live heap, where Go's default waits for as much garbage as
// live data. Peak memory is the live heap plus that headroom; the operator sleeps between
// refreshes, so the extra collections cost little (docs/tuning.md has the measurements).
const gcPercent = 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	s := bindFlags(flag.CommandLine)
	flag.Parse()
	if s.version {
		// The one line printed rather than logged: it is the command's output.
		_, _ = fmt.Fprintln(os.Stdout, version.String())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&s.zap)))
	log := ctrl.Log.WithName("setup")
	if err := run(ctrl.SetupSignalHandler(), s, log); err != nil {
		log.Error(err, "the manager stopped")
		os.Exit(1)
	}
}

// serviceAccountNamespace is where a Pod's ServiceAccount token mount names its namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// ownNamespace is the manager's own namespace: POD_NAMESPACE (the install paths set it
// through the downward API), else the ServiceAccount's; "" outside a Pod.
func ownNamespace() string {
	if ns := strings.TrimSpace(os.Getenv("POD_NAMESPACE")); ns != "" {
		return ns
	}
	data, err := os.ReadFile(serviceAccountNamespace)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// run starts the manager with the settings and blocks until ctx ends. Settings that can
// never work are refused here, before anything starts.
func run(ctx context.Context, s *settings, log logr.Logger) error {
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("no Kubernetes configuration: %w", err)
	}
	operator.SetRateLimit(restConfig, s.kubeAPIQPS, s.kubeAPIBurst)

	// Each worker may have one call in flight: keep a connection for each.
	s.amplify.Concurrency = s.manager.MaxConcurrentReconciles
	s.figma.Concurrency = s.manager.MaxConcurrentReconciles
	var upstreams operator.Upstreams
	if upstreams.Figma, err = figma.New(s.figma); err != nil {
		return err
	}
	amplifyClient, err := amplify.New(ctx, s.amplify)
	switch {
	case errors.Is(err, amplify.ErrNoRegion):
		log.Info("the Amplify upstream is off until --aws-region or AWS_REGION is set (Amplify UI Builder is regional); FigmaTokens that use it are Stalled, AWSAccessDenied. The Figma upstream is unaffected.")
	case err != nil:
		return fmt.Errorf("loading the AWS configuration: %w", err)
	default:
		upstreams.Amplify = amplifyClient
	}
	if s.manager.ClusterResourceNamespace == "" {
		s.manager.ClusterResourceNamespace = ownNamespace()
	}
	mgr, err := operator.New(restConfig, s.manager, upstreams, clock.RealClock{})
	if err != nil {
		return fmt.Errorf("setting up the manager: %w", err)
	}
	region, amplifyEndpoint := "", ""
	if amplifyClient != nil {
		region, amplifyEndpoint = amplifyClient.Region(), amplifyClient.Endpoint()
	}
	// The effective settings, for whoever reads the logs; no credential is among them.
	log.Info("starting manager", "version", version.Version, "revision", version.Revision(),
		"awsRegion", region, "amplifyEndpoint", amplifyEndpoint, "figmaEndpoint", upstreams.Figma.(*figma.Client).Endpoint(),
		"clusterResourceNamespace", s.manager.ClusterResourceNamespace, "namespacedClientsAmbientIdentity", s.manager.NamespacedClientsAmbientIdentity, "requireClientRef", s.manager.RequireClientRef,
		"watchNamespaces", s.manager.WatchNamespaces, "watchLabelSelector", fmt.Sprint(s.manager.WatchLabelSelector), "leaderElect", s.manager.LeaderElect,
		"maxConcurrentReconciles", s.manager.MaxConcurrentReconciles, "rolloutRestarts", s.manager.EnableRolloutRestarts,
		"kubeAPIQPS", s.kubeAPIQPS, "kubeAPIBurst", s.kubeAPIBurst, "metricsBindAddress", s.manager.MetricsAddr, "metricsSecure", s.manager.MetricsSecure)
	return mgr.Start(ctx)
}
