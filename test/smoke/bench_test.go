package smoke

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// A tiny run of make bench (N = 20) keeps the benchmark working; its figures are not
// asserted as goals here, only what must hold at any size.
func TestBenchSmoke(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	out := filepath.Join(t.TempDir(), "benchmarks")
	runCommand(t, "test/bench", "-n", "20", "-unrelated", "50", "-idle", "3s", "-timeliness-lifetime", "9s", "-restart-window", "3s", "-sharded", "30", "-figma", "20", "-out", out)

	data, err := os.ReadFile(out + ".json")
	g.Expect(err).NotTo(HaveOccurred())
	var r struct {
		UpstreamCalls int     `json:"upstream_calls"`
		SecretWrites  float64 `json:"secret_writes_per_refresh"`
		StatusWrites  float64 `json:"status_writes_per_refresh"`
		IdleCalls     int     `json:"idle_upstream_calls"`
		IdleWrites    int     `json:"idle_writes"`
		Expired       int     `json:"expired_tokens"`
		OperatorSecs  float64 `json:"operator_seconds"`
		BaselineSecs  float64 `json:"baseline_seconds"`
		Unthrottled   float64 `json:"unthrottled_baseline_seconds"`
		Steady        float64 `json:"steady_api_requests_per_refresh"`
		RestartCalls  int     `json:"restart_upstream_calls"`
		RestartN      int     `json:"restart_n"`
		PaceRatio     float64 `json:"cold_start_ratio_to_api_server_pace"`
		Sharded       struct {
			Once  int                `json:"tokens_refreshed_once"`
			None  int                `json:"tokens_not_refreshed"`
			Twice int                `json:"tokens_refreshed_more_than_once"`
			RSS   map[string]float64 `json:"rss_mib"`
		} `json:"sharded"`
		Figma struct {
			Once  int     `json:"tokens_refreshed_once"`
			None  int     `json:"tokens_not_refreshed"`
			Twice int     `json:"tokens_refreshed_more_than_once"`
			RSS   float64 `json:"rss_mib"`
		} `json:"figma"`
		Curve []struct {
			N int `json:"n"`
		} `json:"scaling_curve"`
	}
	g.Expect(json.Unmarshal(data, &r)).To(Succeed())
	g.Expect(r.UpstreamCalls).To(Equal(20), "one upstream call per token, no duplicates")
	g.Expect(r.SecretWrites).To(Equal(1.0))
	g.Expect(r.StatusWrites).To(Equal(1.0))
	g.Expect(r.IdleCalls).To(BeZero())
	g.Expect(r.IdleWrites).To(BeZero())
	g.Expect(r.Expired).To(BeZero())
	g.Expect(r.OperatorSecs).To(BeNumerically(">", 0))
	g.Expect(r.BaselineSecs).To(BeNumerically(">", 0))
	g.Expect(r.Unthrottled).To(BeNumerically(">", 0))
	g.Expect(r.Steady).To(BeNumerically("~", 3, 0.5), "a Secret read, a Secret update and a status patch per routine refresh")
	g.Expect(r.RestartN).To(Equal(20))
	g.Expect(r.RestartCalls).To(BeZero(), "no upstream call because the operator restarted")
	g.Expect(r.Curve).To(HaveLen(1))
	g.Expect(r.PaceRatio).To(BeNumerically(">", 0))
	g.Expect(r.Sharded.Once).To(Equal(30), "every token of the sharded point refreshed once, by one instance")
	g.Expect(r.Sharded.None + r.Sharded.Twice).To(BeZero())
	g.Expect(r.Sharded.RSS).To(HaveLen(3), "a default instance and two shards")
	g.Expect(r.Figma.Once).To(Equal(20), "every token of the Figma point refreshed once")
	g.Expect(r.Figma.None + r.Figma.Twice).To(BeZero())
	g.Expect(r.Figma.RSS).To(BeNumerically(">", 0))
	for _, file := range []string{".md", "-scaling.svg", "-lateness.svg"} {
		g.Expect(out + file).To(BeAnExistingFile())
	}
}
