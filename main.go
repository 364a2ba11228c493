// Command manager runs the figma-token-operator: it keeps Figma access tokens in Secrets
// fresh by calling the AWS Amplify UI Builder RefreshToken operation.
package main

import (
	"flag"
	"os"
	"strings"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/manager"
)

func main() {
	var (
		opts         manager.Options
		amplifyOpts  amplify.Options
		kubeAPIQPS   float64
		kubeAPIBurst int
	)
	// --kubeconfig is registered by controller-runtime itself.
	flag.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", "Address of the metrics endpoint; 0 disables it.")
	flag.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	flag.BoolVar(&opts.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica refreshes tokens.")
	flag.DurationVar(&opts.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long standby replicas wait before taking over a lease that is not renewed.")
	flag.DurationVar(&opts.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader retries renewing its lease before giving up.")
	flag.DurationVar(&opts.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "How often replicas try to acquire or renew the lease.")
	flag.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; default: the Pod's namespace.")
	flag.Func("watch-namespace", "Namespace to watch; repeat it or separate with commas for several (default: all namespaces).",
		func(v string) error {
			for _, ns := range strings.Split(v, ",") {
				if ns = strings.TrimSpace(ns); ns != "" {
					opts.WatchNamespaces = append(opts.WatchNamespaces, ns)
				}
			}
			return nil
		})
	flag.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", manager.DefaultMaxConcurrentReconciles, "FigmaTokens reconciled in parallel.")
	flag.StringVar(&amplifyOpts.Endpoint, "amplify-endpoint", "", "Amplify UI Builder endpoint URL; default: AWS_ENDPOINT_URL_AMPLIFYUIBUILDER, AWS_ENDPOINT_URL, else the regional endpoint.")
	flag.StringVar(&amplifyOpts.Region, "aws-region", "", "AWS region; default: AWS_REGION or the shared config.")
	flag.Float64Var(&kubeAPIQPS, "kube-api-qps", manager.DefaultQPS, "Requests per second to the Kubernetes API server.")
	flag.IntVar(&kubeAPIBurst, "kube-api-burst", manager.DefaultBurst, "Burst of requests to the Kubernetes API server.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	ctx := ctrl.SetupSignalHandler()
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "no Kubernetes configuration")
		os.Exit(1)
	}
	restConfig.QPS, restConfig.Burst = float32(kubeAPIQPS), kubeAPIBurst

	upstream, err := amplify.New(ctx, amplifyOpts)
	if err != nil {
		log.Error(err, "loading the AWS configuration")
		os.Exit(1)
	}
	mgr, err := manager.New(restConfig, opts, upstream, clock.RealClock{})
	if err != nil {
		log.Error(err, "setting up the manager")
		os.Exit(1)
	}
	log.Info("starting manager")
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}
