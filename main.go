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

// settings are the manager's command-line settings.
type settings struct {
	manager      manager.Options
	amplify      amplify.Options
	kubeAPIQPS   float64
	kubeAPIBurst int
	zap          zap.Options
}

// bindFlags registers every flag of the manager on fs. --kubeconfig is registered by
// controller-runtime itself.
func bindFlags(fs *flag.FlagSet) *settings {
	s := &settings{}
	opts := &s.manager
	fs.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", "Address of the metrics endpoint; 0 disables it.")
	fs.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
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
	fs.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", manager.DefaultMaxConcurrentReconciles, "FigmaTokens reconciled in parallel.")
	fs.StringVar(&s.amplify.Endpoint, "amplify-endpoint", "", "Amplify UI Builder endpoint URL; default: AWS_ENDPOINT_URL_AMPLIFYUIBUILDER, AWS_ENDPOINT_URL, else the regional endpoint.")
	fs.StringVar(&s.amplify.Region, "aws-region", "", "AWS region; default: AWS_REGION or the shared config.")
	fs.Float64Var(&s.kubeAPIQPS, "kube-api-qps", manager.DefaultQPS, "Requests per second to the Kubernetes API server.")
	fs.IntVar(&s.kubeAPIBurst, "kube-api-burst", manager.DefaultBurst, "Burst of requests to the Kubernetes API server.")
	s.zap.BindFlags(fs)
	return s
}

func main() {
	s := bindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&s.zap)))
	log := ctrl.Log.WithName("setup")

	ctx := ctrl.SetupSignalHandler()
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "no Kubernetes configuration")
		os.Exit(1)
	}
	restConfig.QPS, restConfig.Burst = float32(s.kubeAPIQPS), s.kubeAPIBurst

	upstream, err := amplify.New(ctx, s.amplify)
	if err != nil {
		log.Error(err, "loading the AWS configuration")
		os.Exit(1)
	}
	mgr, err := manager.New(restConfig, s.manager, upstream, clock.RealClock{})
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
