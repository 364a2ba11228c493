package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// result is everything one run measured; the JSON names are the published ones. The fields
// of the first method (operator_seconds, baseline_seconds, ratio) keep their names and now
// hold the cold-start figures.
type result struct {
	N         int     `json:"n"`
	Unrelated int     `json:"unrelated"`
	Workers   int     `json:"max_concurrent_reconciles"`
	QPS       float64 `json:"kube_api_qps"`
	Burst     int     `json:"kube_api_burst"`

	ColdStartSeconds float64 `json:"cold_start_seconds"`
	// The main baseline: the requests the job cannot avoid at the API server's own pace (no
	// client rate limit), as the operator's ServiceAccount; the main ratio is against it.
	UnthrottledBaselineSeconds float64 `json:"unthrottled_baseline_seconds"`
	PaceRatio                  float64 `json:"cold_start_ratio_to_api_server_pace"`
	// The same requests under the manager's former client limits, and the ratio against
	// them, for comparison with earlier runs.
	BaselineSeconds       float64 `json:"cold_start_baseline_seconds"`
	ColdStartRatio        float64 `json:"cold_start_ratio"`
	OperatorSeconds       float64 `json:"operator_seconds"`
	LegacyBaselineSeconds float64 `json:"baseline_seconds"`
	Ratio                 float64 `json:"ratio"`
	// The same against the API server's pace at the largest N of the curve.
	LargestN                          int     `json:"largest_n"`
	LargestColdStartSeconds           float64 `json:"largest_cold_start_seconds"`
	LargestUnthrottledBaselineSeconds float64 `json:"largest_unthrottled_baseline_seconds"`
	LargestPaceRatio                  float64 `json:"largest_cold_start_ratio_to_api_server_pace"`

	Sharded *shardedResult `json:"sharded,omitempty"`
	Figma   *figmaResult   `json:"figma,omitempty"`

	UpstreamCalls          int            `json:"upstream_calls"`
	SecretWritesPerRefresh float64        `json:"secret_writes_per_refresh"`
	StatusWritesPerRefresh float64        `json:"status_writes_per_refresh"`
	APIRequestsPerRefresh  float64        `json:"api_requests_per_refresh"`
	RequestsByKind         map[string]int `json:"requests_by_kind"`

	SteadyRefreshes             int            `json:"steady_refreshes"`
	SteadyAPIRequestsPerRefresh float64        `json:"steady_api_requests_per_refresh"`
	SteadyRequestsByKind        map[string]int `json:"steady_requests_by_kind"`

	RestartN              int            `json:"restart_n"`
	RestartWindow         string         `json:"restart_window"`
	RestartUpstreamCalls  int            `json:"restart_upstream_calls"`
	RestartRequests       int            `json:"restart_api_requests_first_minute"`
	RestartRequestsByKind map[string]int `json:"restart_requests_by_kind"`

	IdleSeconds       float64 `json:"idle_seconds"`
	IdleUpstreamCalls int     `json:"idle_upstream_calls"`
	IdleWrites        int     `json:"idle_writes"`
	IdleRequests      int     `json:"idle_requests"`

	RSSMiB              float64 `json:"rss_mib"`
	RSSWithUnrelatedMiB float64 `json:"rss_mib_with_unrelated"`

	TimelinessLifetime string    `json:"steady_token_lifetime"`
	LatenessP50        float64   `json:"lateness_p50_seconds"`
	LatenessP99        float64   `json:"lateness_p99_seconds"`
	LatenessMax        float64   `json:"lateness_max_seconds"`
	ExpiredTokens      int       `json:"expired_tokens"`
	Lateness           []float64 `json:"-"`

	Curve      []curvePoint `json:"scaling_curve,omitempty"`
	RSSSlope   float64      `json:"rss_mib_per_1000"`
	Date       string       `json:"date"`
	Commit     string       `json:"commit"`
	RunSeconds float64      `json:"run_seconds"`
}

type curvePoint struct {
	N       int     `json:"n"`
	Seconds float64 `json:"operator_seconds"`
	RSSMiB  float64 `json:"rss_mib"`
	Expired int     `json:"expired_tokens"`
}

// setPerRefresh divides the requests of the cold start by the refreshes made; the caches'
// initial lists and watches are not per refresh and are left out.
func (r *result) setPerRefresh(requests map[requestKind]int, refreshes int) {
	r.RequestsByKind = requests
	if refreshes == 0 {
		return
	}
	r.SecretWritesPerRefresh = float64(requests[secretWrite]) / float64(refreshes)
	r.StatusWritesPerRefresh = float64(requests[statusWrite]) / float64(refreshes)
	r.APIRequestsPerRefresh = float64(total(requests)-requests[listOrWatch]) / float64(refreshes)
}

func (r *result) setRatios() {
	if r.ColdStartSeconds > 0 {
		r.ColdStartRatio = r.BaselineSeconds / r.ColdStartSeconds
		r.PaceRatio = r.UnthrottledBaselineSeconds / r.ColdStartSeconds
	}
	if r.LargestColdStartSeconds > 0 {
		r.LargestPaceRatio = r.LargestUnthrottledBaselineSeconds / r.LargestColdStartSeconds
	}
	r.OperatorSeconds, r.LegacyBaselineSeconds, r.Ratio = r.ColdStartSeconds, r.BaselineSeconds, r.ColdStartRatio
}

// commit names the code measured; "-dirty" when it differs from the commit.
func commit(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func (r *result) write(base string) error {
	r.Date = time.Now().UTC().Format(time.RFC3339)
	r.RSSSlope, _ = rssSlope(r.Curve)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+"-scaling.svg", []byte(scalingPlot(r.Curve)), 0o644); err != nil {
		return err
	}
	label := fmt.Sprintf("%d routine refreshes of %s tokens, N = %d", len(r.Lateness), r.TimelinessLifetime, r.N)
	if err := os.WriteFile(base+"-lateness.svg", []byte(latenessPlot(r.Lateness, label)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".md", []byte(r.markdown(filepath.Base(base))), 0o644); err != nil {
		return err
	}
	fmt.Println(string(data))
	return nil
}

func (r *result) markdown(base string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (test/bench) on %s from commit `%s`, in one run of %.0f minutes on "+
		"this project's machine (2 cores): a real kube-apiserver and etcd, the fake Amplify and Figma endpoints and the manager binary, "+
		"all on loopback, each N in a fresh control plane. The operator reaches the API server through a counting proxy, "+
		"as do the baselines, each as the operator's ServiceAccount (Priority and Fairness applies to it as in a cluster). Raw figures: `docs/benchmarks.json`; the method: `docs/tuning.md`.\n\n", r.Date, r.Commit, r.RunSeconds/60)
	row := func(what, value, goal string) { fmt.Fprintf(&b, "| %s | %s | %s |\n", what, value, goal) }
	fmt.Fprintf(&b, "## N = %d FigmaTokens\n\n| figure | value | goal |\n|---|---|---|\n", r.N)
	row("cold start: the manager starts with every Secret and FigmaToken in place; until all are Ready", fmt.Sprintf("%.1f s", r.ColdStartSeconds), "")
	row(fmt.Sprintf("baseline: client-go from the same state, as the same ServiceAccount, the requests the job cannot avoid (Secret read, Secret update, status patch) with %d workers and no client rate limit: the API server's pace", r.Workers),
		fmt.Sprintf("%.1f s", r.UnthrottledBaselineSeconds), "")
	row("cold-start ratio, baseline / operator", fmt.Sprintf("%.2f", r.PaceRatio), "≥ 0.8")
	row(fmt.Sprintf("the same baseline under the manager's former client limits (%.0f QPS, burst %d), and its ratio", r.QPS, r.Burst),
		fmt.Sprintf("%.1f s, %.2f", r.BaselineSeconds, r.ColdStartRatio), "")
	row("upstream calls at the cold start", fmt.Sprint(r.UpstreamCalls), fmt.Sprintf("= %d", r.N))
	row("API requests per cold-start refresh (first Event included)", fmt.Sprintf("%.2f", r.APIRequestsPerRefresh), "")
	row("API requests per steady-state refresh", fmt.Sprintf("%.2f", r.SteadyAPIRequestsPerRefresh), "≤ 3, ideally 2")
	row(fmt.Sprintf("refresh lateness p50 / p99 / max (%d routine refreshes of %s tokens)", len(r.Lateness), r.TimelinessLifetime),
		fmt.Sprintf("%.2f / %.2f / %.2f s", r.LatenessP50, r.LatenessP99, r.LatenessMax), "p99 < 0.5 s")
	row("tokens that lapsed before their refresh", fmt.Sprint(r.ExpiredTokens), "0")
	row(fmt.Sprintf("idle %.0f s: upstream calls / writes / API requests", r.IdleSeconds),
		fmt.Sprintf("%d / %d / %d", r.IdleUpstreamCalls, r.IdleWrites, r.IdleRequests), "0 / 0 / 0")
	row("peak RSS over the cold start and a full cycle", fmt.Sprintf("%.1f MiB", r.RSSMiB), "≤ 50 MiB")
	growth := 100 * (r.RSSWithUnrelatedMiB - r.RSSMiB) / r.RSSMiB
	row(fmt.Sprintf("peak RSS after %d unrelated 64 KiB Secrets", r.Unrelated), fmt.Sprintf("%.1f MiB (%+.1f%%)", r.RSSWithUnrelatedMiB, growth), "< +10%")
	fmt.Fprintf(&b, "\nRequests by kind: cold start %s; steady state (%d refreshes) %s.\n", kinds(r.RequestsByKind), r.SteadyRefreshes, kinds(r.SteadyRequestsByKind))

	if r.LargestN != r.N {
		fmt.Fprintf(&b, "\n## Cold start at N = %d\n\n| figure | value | goal |\n|---|---|---|\n", r.LargestN)
		row("cold start (the scaling curve's)", fmt.Sprintf("%.1f s", r.LargestColdStartSeconds), "")
		row("baseline at the API server's pace (as above)", fmt.Sprintf("%.1f s", r.LargestUnthrottledBaselineSeconds), "")
		row("cold-start ratio, baseline / operator", fmt.Sprintf("%.2f", r.LargestPaceRatio), "≥ 0.8")
	}
	fmt.Fprintf(&b, "\n## Restart at N = %d\n\n| figure | value | goal |\n|---|---|---|\n", r.RestartN)
	row("upstream calls by a restarted manager", fmt.Sprint(r.RestartUpstreamCalls), "0")
	row(fmt.Sprintf("its API requests in the first %s", r.RestartWindow), fmt.Sprintf("%d (%s)", r.RestartRequests, kinds(r.RestartRequestsByKind)), "lists and watches only")

	if len(r.Curve) > 0 {
		b.WriteString("\n## Scaling curve\n\nEach N in a fresh control plane: the cold start, the peak RSS, and the tokens that expired " +
			"over a full cycle (each token's next refresh checked against its expiry).\n\n")
		fmt.Fprintf(&b, "![cold start and peak RSS against N](%s-scaling.svg)\n\n", base)
		b.WriteString("| N | cold start | peak RSS | expired tokens |\n|---|---|---|---|\n")
		for _, p := range r.Curve {
			fmt.Fprintf(&b, "| %d | %.1f s | %.1f MiB | %d |\n", p.N, p.Seconds, p.RSSMiB, p.Expired)
		}
		if slope, ok := rssSlope(r.Curve); ok {
			fmt.Fprintf(&b, "\nRSS per 1,000 more FigmaTokens (least squares over the curve): %.1f MiB (goal ≤ 6 MiB).\n", slope)
		}
	}
	if sh := r.Sharded; sh != nil {
		fmt.Fprintf(&b, "\n## Sharded: N = %d over %d instances\n\nOne API server; a default instance and shards a and b "+
			"(`--watch-label-selector`), a third of the FigmaTokens each, started together.\n\n| figure | value | goal |\n|---|---|---|\n", sh.N, len(sh.RSSMiB))
		row("cold start, until all are Ready", fmt.Sprintf("%.1f s", sh.ColdStartSeconds), "")
		row("FigmaTokens refreshed exactly once / not at all / more than once", fmt.Sprintf("%d / %d / %d", sh.RefreshedOnce, sh.NotRefreshed, sh.RefreshedTwice), fmt.Sprintf("%d / 0 / 0", sh.N))
		for _, instance := range slices.Sorted(maps.Keys(sh.RSSMiB)) {
			row(fmt.Sprintf("peak RSS of %s", instance), fmt.Sprintf("%.1f MiB", sh.RSSMiB[instance]), "")
		}
		row("peak RSS, all instances", fmt.Sprintf("%.1f MiB", sh.TotalRSSMiB), "")
	}
	if f := r.Figma; f != nil {
		fmt.Fprintf(&b, "\n## The Figma upstream: N = %d\n\nOne manager; every FigmaToken names one FigmaOAuthClient and is "+
			"refreshed at the fake Figma endpoint (HTTP Basic client authentication, `golang.org/x/oauth2`).\n\n| figure | value | goal |\n|---|---|---|\n", f.N)
		row("cold start, until all are Ready", fmt.Sprintf("%.1f s", f.ColdStartSeconds), "")
		row("FigmaTokens refreshed exactly once / not at all / more than once", fmt.Sprintf("%d / %d / %d", f.RefreshedOnce, f.NotRefreshed, f.RefreshedTwice), fmt.Sprintf("%d / 0 / 0", f.N))
		row("peak RSS", fmt.Sprintf("%.1f MiB", f.RSSMiB), "")
	}
	fmt.Fprintf(&b, "\n## Lateness\n\n![refresh lateness distribution](%s-lateness.svg)\n", base)
	return b.String()
}

// rssSlope is the least-squares slope of peak RSS against N, in MiB per 1,000.
func rssSlope(curve []curvePoint) (float64, bool) {
	if len(curve) < 2 {
		return 0, false
	}
	var sx, sy, sxx, sxy float64
	for _, p := range curve {
		x := float64(p.N) / 1000
		sx, sy, sxx, sxy = sx+x, sy+p.RSSMiB, sxx+x*x, sxy+x*p.RSSMiB
	}
	n := float64(len(curve))
	return (n*sxy - sx*sy) / (n*sxx - sx*sx), true
}

// kinds lists the request counts that are not zero, by kind.
func kinds(counts map[string]int) string {
	var parts []string
	for _, kind := range slices.Sorted(maps.Keys(counts)) {
		if counts[kind] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", kind, counts[kind]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
