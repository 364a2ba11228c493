// Package metrics defines the operator's Prometheus metrics, served on the manager's
// metrics endpoint. Labels carry names only, never token values.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	refreshTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "figmatoken_refresh_total",
		Help: "Refresh attempts by FigmaToken and result (success, error, rejected).",
	}, []string{"namespace", "name", "result"})

	refreshDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "figmatoken_refresh_duration_seconds",
		Help:    "Latency of upstream RefreshToken calls.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	})

	expiration = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "figmatoken_expiration_timestamp_seconds",
		Help: "Unix time at which the current access token expires.",
	}, []string{"namespace", "name"})

	ready = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "figmatoken_ready",
		Help: "1 when the FigmaToken's Secret holds a valid access token, else 0.",
	}, []string{"namespace", "name"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(refreshTotal, refreshDuration, expiration, ready)
}

// ObserveRefresh records one upstream call.
func ObserveRefresh(namespace, name, result string, took time.Duration) {
	refreshTotal.WithLabelValues(namespace, name, result).Inc()
	refreshDuration.Observe(took.Seconds())
}

// SetState records whether a FigmaToken is ready and when its token expires (zero: none).
func SetState(namespace, name string, isReady bool, expiresAt time.Time) {
	value := 0.0
	if isReady {
		value = 1
	}
	ready.WithLabelValues(namespace, name).Set(value)
	if expiresAt.IsZero() {
		expiration.DeleteLabelValues(namespace, name)
		return
	}
	expiration.WithLabelValues(namespace, name).Set(float64(expiresAt.Unix()))
}

// Forget removes every series of a deleted FigmaToken.
func Forget(namespace, name string) {
	labels := prometheus.Labels{"namespace": namespace, "name": name}
	refreshTotal.DeletePartialMatch(labels)
	expiration.Delete(labels)
	ready.Delete(labels)
}
