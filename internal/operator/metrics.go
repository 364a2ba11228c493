package operator

import (
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The metrics endpoint (--metrics-secure, the default) asks the API server who a scraper is
// and whether it may get /metrics: a cluster-wide grant of its own (config/rbac/metrics_auth),
// apart from the manager's role, so that a namespaced install keeps it too.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// metricsOptions serves metrics as kubebuilder scaffolds them by default: HTTPS (a
// self-signed certificate unless MetricsCertDir holds one), behind controller-runtime's
// authentication and authorization filter; scrapers need get on the /metrics non-resource
// URL (the metrics-reader ClusterRole).
func metricsOptions(opts Options) metricsserver.Options {
	m := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.MetricsSecure {
		m.SecureServing, m.CertDir = true, opts.MetricsCertDir
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return m
}
