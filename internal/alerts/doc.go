// Package alerts tests the Prometheus alerts shipped in config/prometheus/alerts.yaml against
// what they point to: every alert's runbook_url names a section of docs/runbooks.md that
// exists, the links inside the runbooks resolve, and the Helm chart ships the same rules
// (charts/figma-token-operator/files/alerts.yaml, copied by hack/sync-chart.sh). The rules
// themselves are unit-tested with promtool in test/e2e. It has no code of its own.
package alerts
