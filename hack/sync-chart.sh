#!/usr/bin/env bash
# Copies the generated CRD and RBAC rules, and the sample alerts, into the Helm chart, so that
# the chart and config/ never disagree. Run by make manifests; make verify checks the result.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=charts/figma-token-operator
cp config/crd/bases/figma.tokenops.dev_figmatokens.yaml "$chart/files/crd.yaml"
cp config/crd/bases/figma.tokenops.dev_figmaoauthclients.yaml "$chart/files/crd_figmaoauthclients.yaml"
cp config/crd/bases/figma.tokenops.dev_clusterfigmaoauthclients.yaml "$chart/files/crd_clusterfigmaoauthclients.yaml"
# The CRDs embedded for users' envtest suites (pkg/crds).
cp config/crd/bases/figma.tokenops.dev_*.yaml pkg/crds/
cp config/rbac/role.yaml config/rbac/leader_election_role.yaml config/prometheus/alerts.yaml "$chart/files/"
cp config/components/rollout-restarts/role.yaml "$chart/files/rollout_restarts_role.yaml"
cp config/rbac/metrics_auth/role.yaml "$chart/files/metrics_auth_role.yaml"
cp config/grafana/figma-token-operator.json "$chart/files/dashboard.json"
