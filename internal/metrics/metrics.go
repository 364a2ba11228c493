// Package metrics defines the operator's Prometheus metrics, served on the manager's
// metrics endpoint. Labels carry names only, never token values.
package metrics

import (
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tokenops/figma-token-operator/internal/version"
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

	condition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "figmatoken_condition",
		Help: "1 for each condition a FigmaToken has (Ready always; Stalled and Reconciling while they hold), with its status and reason.",
	}, []string{"namespace", "name", "type", "status", "reason"})

	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "figmatoken_operator_build_info",
		Help: "1, labeled with the manager's version, source revision and Go version; absent when no manager is scraped.",
	}, []string{"version", "revision", "goversion"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(refreshTotal, refreshDuration, expiration, ready, condition, buildInfo)
	buildInfo.WithLabelValues(version.Version, version.Revision(), runtime.Version()).Set(1)
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

// ConditionSeries is what figmatoken_condition says of one condition.
type ConditionSeries struct{ Type, Status, Reason string }

// Series are the condition series of conditions.
func Series(conditions []metav1.Condition) []ConditionSeries {
	out := make([]ConditionSeries, 0, len(conditions))
	for _, c := range conditions {
		out = append(out, ConditionSeries{Type: c.Type, Status: string(c.Status), Reason: c.Reason})
	}
	return out
}

// SetConditions replaces a FigmaToken's condition series, before as last exported with
// after. Only series that changed are touched, so a reconcile costs the same at any number
// of FigmaTokens.
func SetConditions(namespace, name string, before, after []ConditionSeries) {
	for _, c := range before {
		if !slices.Contains(after, c) {
			condition.DeleteLabelValues(namespace, name, c.Type, c.Status, c.Reason)
		}
	}
	for _, c := range after {
		condition.WithLabelValues(namespace, name, c.Type, c.Status, c.Reason).Set(1)
	}
}

// Forget removes every series of a deleted FigmaToken.
func Forget(namespace, name string) {
	labels := prometheus.Labels{"namespace": namespace, "name": name}
	refreshTotal.DeletePartialMatch(labels)
	condition.DeletePartialMatch(labels)
	expiration.Delete(labels)
	ready.Delete(labels)
}
