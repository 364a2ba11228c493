package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// result is everything one run measured; the JSON names are the published ones.
type result struct {
	N                      int            `json:"n"`
	Unrelated              int            `json:"unrelated"`
	Workers                int            `json:"max_concurrent_reconciles"`
	OperatorSeconds        float64        `json:"operator_seconds"`
	BaselineSeconds        float64        `json:"baseline_seconds"`
	Ratio                  float64        `json:"ratio"`
	UpstreamCalls          int            `json:"upstream_calls"`
	SecretWritesPerRefresh float64        `json:"secret_writes_per_refresh"`
	StatusWritesPerRefresh float64        `json:"status_writes_per_refresh"`
	APIRequestsPerRefresh  float64        `json:"api_requests_per_refresh"`
	RequestsByKind         map[string]int `json:"requests_by_kind"`
	IdleSeconds            float64        `json:"idle_seconds"`
	IdleUpstreamCalls      int            `json:"idle_upstream_calls"`
	IdleWrites             int            `json:"idle_writes"`
	IdleRequests           int            `json:"idle_requests"`
	RSSMiB                 float64        `json:"rss_mib"`
	RSSWithUnrelatedMiB    float64        `json:"rss_mib_with_unrelated"`
	LatenessP50            float64        `json:"lateness_p50_seconds"`
	LatenessP99            float64        `json:"lateness_p99_seconds"`
	LatenessMax            float64        `json:"lateness_max_seconds"`
	ExpiredTokens          int            `json:"expired_tokens"`
	Curve                  []curvePoint   `json:"scaling_curve,omitempty"`
	Date                   string         `json:"date"`
}

type curvePoint struct {
	N       int     `json:"n"`
	Seconds float64 `json:"operator_seconds"`
	RSSMiB  float64 `json:"rss_mib"`
}

// setPerRefresh divides the requests of the convergence phase by the refreshes made; the
// caches' initial lists and watches are not per refresh and are left out.
func (r *result) setPerRefresh(requests map[requestKind]int, refreshes int) {
	r.RequestsByKind = map[string]int{}
	perRefresh := 0
	for kind, count := range requests {
		r.RequestsByKind[string(kind)] = count
		if kind != listOrWatch {
			perRefresh += count
		}
	}
	if refreshes == 0 {
		return
	}
	r.SecretWritesPerRefresh = float64(requests[secretWrite]) / float64(refreshes)
	r.StatusWritesPerRefresh = float64(requests[statusWrite]) / float64(refreshes)
	r.APIRequestsPerRefresh = float64(perRefresh) / float64(refreshes)
}

func (r *result) write(base string) error {
	r.Date = time.Now().UTC().Format(time.RFC3339)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".md", []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Println(string(data))
	return nil
}

func (r *result) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (hack/bench) on %s, from one run on this project's machine "+
		"(2 cores): a real kube-apiserver and etcd, the fake Amplify endpoint and the manager binary, all on loopback. "+
		"The operator reaches the API server through a counting proxy, as does the baseline. Raw figures: `docs/benchmarks.json`.\n\n", r.Date)
	row := func(what, value, goal string) { fmt.Fprintf(&b, "| %s | %s | %s |\n", what, value, goal) }
	fmt.Fprintf(&b, "## N = %d FigmaTokens\n\n| figure | value | goal |\n|---|---|---|\n", r.N)
	row("convergence: all Ready after creating them at once", fmt.Sprintf("%.1f s", r.OperatorSeconds), "< 20 s")
	row(fmt.Sprintf("baseline: client-go, 1 Secret update + 1 status patch each, %d workers, same rate limits", r.Workers), fmt.Sprintf("%.1f s", r.BaselineSeconds), "")
	row("ratio baseline / operator", fmt.Sprintf("%.2f", r.Ratio), "≥ 0.8")
	row("upstream calls", fmt.Sprint(r.UpstreamCalls), fmt.Sprintf("= %d", r.N))
	row("Secret writes per refresh", fmt.Sprintf("%.2f", r.SecretWritesPerRefresh), "1")
	row("status writes per refresh", fmt.Sprintf("%.2f", r.StatusWritesPerRefresh), "1")
	row("API requests per refresh (reads and Events included)", fmt.Sprintf("%.2f", r.APIRequestsPerRefresh), "≤ 4")
	row(fmt.Sprintf("idle %.0f s: upstream calls / writes / requests", r.IdleSeconds), fmt.Sprintf("%d / %d / %d", r.IdleUpstreamCalls, r.IdleWrites, r.IdleRequests), "0 / 0")
	row("peak RSS", fmt.Sprintf("%.1f MiB", r.RSSMiB), "≤ 60 MiB")
	growth := 100 * (r.RSSWithUnrelatedMiB - r.RSSMiB) / r.RSSMiB
	row(fmt.Sprintf("peak RSS after %d unrelated 64 KiB Secrets", r.Unrelated), fmt.Sprintf("%.1f MiB (%+.1f%%)", r.RSSWithUnrelatedMiB, growth), "< +10%")
	row("refresh lateness p50 / p99 / max (60 s tokens)", fmt.Sprintf("%.2f / %.2f / %.2f s", r.LatenessP50, r.LatenessP99, r.LatenessMax), "p99 < 1 s")
	row("tokens that lapsed before their refresh", fmt.Sprint(r.ExpiredTokens), "0")
	fmt.Fprintf(&b, "\nRequests by kind during convergence: %v.\n", r.RequestsByKind)
	if len(r.Curve) > 0 {
		b.WriteString("\n## Scaling curve\n\nEach N in a fresh control plane.\n\n| N | convergence | peak RSS |\n|---|---|---|\n")
		for _, p := range r.Curve {
			fmt.Fprintf(&b, "| %d | %.1f s | %.1f MiB |\n", p.N, p.Seconds, p.RSSMiB)
		}
	}
	return b.String()
}
