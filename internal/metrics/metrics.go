// Package metrics defines the operator's Prometheus metrics, served on the manager's
// metrics endpoint. Labels carry names only, never token values.
//
// The per-FigmaToken series are not client_golang vectors: a vector keeps a series object
// with its label pairs per FigmaToken and label set, which a heap profile at N = 10,000 showed
// as a third of the live heap. Each FigmaToken's figures are kept as one small struct
// instead, and a collector writes them out when Prometheus scrapes, as kube-state-metrics does.
package metrics

import (
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tokenops/figma-token-operator/internal/version"
)

var (
	refreshTotal = prometheus.NewDesc("figmatoken_refresh_total",
		"Refresh attempts by FigmaToken and result (success, error, rejected).", []string{"namespace", "name", "result"}, nil)
	expiration = prometheus.NewDesc("figmatoken_expiration_timestamp_seconds",
		"Unix time at which the current access token expires.", []string{"namespace", "name"}, nil)
	ready = prometheus.NewDesc("figmatoken_ready",
		"1 when the FigmaToken's Secret holds a valid access token, else 0.", []string{"namespace", "name"}, nil)
	condition = prometheus.NewDesc("figmatoken_condition",
		"1 for each condition a FigmaToken has (Ready always; Stalled and Reconciling while they hold), with its status and reason.",
		[]string{"namespace", "name", "type", "status", "reason"}, nil)

	refreshDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "figmatoken_refresh_duration_seconds",
		Help:    "Latency of upstream RefreshToken calls.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	})
	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "figmatoken_operator_build_info",
		Help: "1, labeled with the manager's version, source revision and Go version; absent when no manager is scraped.",
	}, []string{"version", "revision", "goversion"})
)

// results are the values of figmatoken_refresh_total's result label.
var results = [...]string{"success", "error", "rejected"}

// figures are what the metrics say of one FigmaToken.
type figures struct {
	refreshes  [len(results)]uint64
	ready      bool
	expiresAt  int64 // Unix seconds; 0 when there is no token
	conditions []ConditionSeries
}

// tokens holds the figures of every FigmaToken this process has reconciled.
var tokens = struct {
	sync.Mutex
	byName map[types.NamespacedName]*figures
}{byName: map[types.NamespacedName]*figures{}}

func init() {
	ctrlmetrics.Registry.MustRegister(collector{}, refreshDuration, buildInfo)
	buildInfo.WithLabelValues(version.Version, version.Revision(), runtime.Version()).Set(1)
}

// update changes a FigmaToken's figures under the lock.
func update(namespace, name string, change func(*figures)) {
	tokens.Lock()
	defer tokens.Unlock()
	key := types.NamespacedName{Namespace: namespace, Name: name}
	f := tokens.byName[key]
	if f == nil {
		f = &figures{}
		tokens.byName[key] = f
	}
	change(f)
}

// ObserveRefresh records one upstream call.
func ObserveRefresh(namespace, name, result string, took time.Duration) {
	update(namespace, name, func(f *figures) {
		for i, r := range results {
			if r == result {
				f.refreshes[i]++
			}
		}
	})
	refreshDuration.Observe(took.Seconds())
}

// SetState records whether a FigmaToken is ready and when its token expires (zero: none).
func SetState(namespace, name string, isReady bool, expiresAt time.Time) {
	update(namespace, name, func(f *figures) {
		f.ready, f.expiresAt = isReady, 0
		if !expiresAt.IsZero() {
			f.expiresAt = expiresAt.Unix()
		}
	})
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

// SetConditions replaces a FigmaToken's condition series.
func SetConditions(namespace, name string, series []ConditionSeries) {
	update(namespace, name, func(f *figures) { f.conditions = series })
}

// Forget removes every series of a deleted FigmaToken.
func Forget(namespace, name string) {
	tokens.Lock()
	defer tokens.Unlock()
	delete(tokens.byName, types.NamespacedName{Namespace: namespace, Name: name})
}

// collector writes out every FigmaToken's series at scrape time.
type collector struct{}

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{refreshTotal, expiration, ready, condition} {
		ch <- d
	}
}

func (collector) Collect(ch chan<- prometheus.Metric) {
	tokens.Lock()
	defer tokens.Unlock()
	for key, f := range tokens.byName {
		ns, name := key.Namespace, key.Name
		for i, count := range f.refreshes {
			if count > 0 {
				ch <- prometheus.MustNewConstMetric(refreshTotal, prometheus.CounterValue, float64(count), ns, name, results[i])
			}
		}
		readyValue := 0.0
		if f.ready {
			readyValue = 1
		}
		ch <- prometheus.MustNewConstMetric(ready, prometheus.GaugeValue, readyValue, ns, name)
		if f.expiresAt != 0 {
			ch <- prometheus.MustNewConstMetric(expiration, prometheus.GaugeValue, float64(f.expiresAt), ns, name)
		}
		for _, c := range f.conditions {
			ch <- prometheus.MustNewConstMetric(condition, prometheus.GaugeValue, 1, ns, name, c.Type, c.Status, c.Reason)
		}
	}
}
