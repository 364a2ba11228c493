package main

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
)

// shardedResult is the sharded point: n FigmaTokens over a default instance and two shards
// on one API server.
type shardedResult struct {
	N                int                `json:"n"`
	ColdStartSeconds float64            `json:"cold_start_seconds"`
	RefreshedOnce    int                `json:"tokens_refreshed_once"`
	NotRefreshed     int                `json:"tokens_not_refreshed"`
	RefreshedTwice   int                `json:"tokens_refreshed_more_than_once"`
	RSSMiB           map[string]float64 `json:"rss_mib"`
	TotalRSSMiB      float64            `json:"total_rss_mib"`
}

// shardLabel is the label shards select on, as the chart's shards do.
const shardLabel = "figma.tokenops.dev/shard"

// shardedPoint starts n FigmaTokens, every third labeled for shard a, every third for b,
// the rest for none, and a manager per instance, each selecting its share as the chart's
// shards: [a, b] would. Every token must be refreshed exactly once, by one instance.
func (b *bench) shardedPoint(ctx context.Context, n int) (*shardedResult, error) {
	s, err := b.cluster("bench-sharded")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	const ns = "bench"
	shardOf := func(i int) string { return []string{"", "a", "b"}[i%3] }
	if _, _, err := s.createLabeled(ctx, ns, n, func(i int) map[string]string {
		if shard := shardOf(i); shard != "" {
			return map[string]string{shardLabel: shard}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	selectors := map[string]string{"default": shardLabel + " notin (a,b)", "shard a": shardLabel + "=a", "shard b": shardLabel + "=b"}
	managers := map[string]*harness.Manager{}
	defer func() {
		for _, m := range managers {
			m.Stop()
		}
	}()
	logf("sharded: %d FigmaTokens over a default instance and shards a and b", n)
	start := time.Now()
	for instance, selector := range selectors {
		m := &harness.Manager{Binary: s.manager, Kubeconfig: s.proxy.Kubeconfig, Endpoint: s.fake.URL,
			LogPath: filepath.Join(s.root, "bin", "bench-sharded-"+strings.ReplaceAll(instance, " ", "-")+"-manager.log"),
			Args:    append([]string{"--watch-label-selector=" + selector}, s.args...)}
		if err := m.Start(); err != nil {
			return nil, err
		}
		managers[instance] = m
	}
	if err := s.waitReady(ctx, ns, n, func(*figmav1alpha1.FigmaToken) bool { return true }); err != nil {
		return nil, err
	}
	r := &shardedResult{N: n, ColdStartSeconds: time.Since(start).Seconds(), RSSMiB: map[string]float64{}}
	s.quiesce()
	r.RefreshedOnce, r.NotRefreshed, r.RefreshedTwice = tally(n, s.fake.Fake.Calls)
	for instance, m := range managers {
		if r.RSSMiB[instance], err = peakRSSMiB(m.Pid()); err != nil {
			return nil, err
		}
		r.TotalRSSMiB += r.RSSMiB[instance]
	}
	logf("sharded: %.1f s; refreshed once %d, not at all %d, more than once %d; peak RSS %v MiB, %.1f MiB in all",
		r.ColdStartSeconds, r.RefreshedOnce, r.NotRefreshed, r.RefreshedTwice, r.RSSMiB, r.TotalRSSMiB)
	return r, nil
}

// tally counts the n tokens refreshed exactly once, not at all and more than once, by the
// upstream calls made with each one's refresh token.
func tally(n int, calls func(refreshToken string) int) (once, none, more int) {
	for i := range n {
		switch calls(refreshToken(tokenName(i))) {
		case 1:
			once++
		case 0:
			none++
		default:
			more++
		}
	}
	return once, none, more
}
