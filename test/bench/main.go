// Command bench measures the operator at scale on this machine: a real kube-apiserver and
// etcd, the fake Amplify and Figma endpoints and the manager binary, all on loopback. It writes
// docs/benchmarks.json, docs/benchmarks.md and two plots; every figure comes from one run.
//
//	make bench        # N=1000 with 5000 unrelated Secrets; the curve at 100, 1000, 5000, 10000
//	bin/bench -n 20 -unrelated 50 -idle 3s -timeliness-lifetime 9s -out DIR   # test/smoke
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/internal/operator"
)

const (
	// operatorWorkers is --max-concurrent-reconciles' default; the baselines use as many.
	operatorWorkers = operator.DefaultMaxConcurrentReconciles
	// createWorkers create the test objects; they are not measured.
	createWorkers = 32
)

type config struct {
	n, unrelated     int
	idle, restart    time.Duration
	timelinessTokens time.Duration
	cycleTokens      time.Duration
	out, heapProfile string
	cpuProfile       string
	curve            []int
	sharded          int
	figma            int
	operatorArgs     []string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 1000, "FigmaTokens (with their Secrets) of the main run")
	flag.IntVar(&cfg.unrelated, "unrelated", 5000, "unrelated 64 KiB Secrets added in other namespaces")
	flag.DurationVar(&cfg.idle, "idle", 60*time.Second, "length of the idle window")
	flag.DurationVar(&cfg.restart, "restart-window", 60*time.Second, "how long a restarted manager's requests are counted")
	flag.DurationVar(&cfg.timelinessTokens, "timeliness-lifetime", 60*time.Second, "token lifetime for the steady-state and lateness figures")
	flag.DurationVar(&cfg.cycleTokens, "cycle-lifetime", 5*time.Minute, "token lifetime at the scaling curve's cold starts, whose next refresh is checked")
	flag.StringVar(&cfg.out, "out", "docs/benchmarks", "output path without extension (.json, .md and the .svg plots are written)")
	flag.StringVar(&cfg.heapProfile, "heap-profile", "", "write the operator's heap profile at the largest N to this file")
	flag.StringVar(&cfg.cpuProfile, "cpu-profile", "", "write a 5 s CPU profile of the operator during the main run's cold start to this file")
	flag.IntVar(&cfg.sharded, "sharded", 0, "FigmaTokens of the sharded point, over a default instance and two shards (0: none)")
	flag.IntVar(&cfg.figma, "figma", 0, "FigmaTokens of the Figma point, through one FigmaOAuthClient at the fake Figma endpoint (0: none)")
	flag.Func("operator-args", "extra manager flags, space-separated, for tuning runs (the baselines keep the defaults)", func(v string) error {
		cfg.operatorArgs = strings.Fields(v)
		return nil
	})
	flag.Func("curve", "comma-separated N values for the scaling curve (each in a fresh control plane)", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			var n int
			if _, err := fmt.Sscan(f, &n); err != nil {
				return err
			}
			cfg.curve = append(cfg.curve, n)
		}
		return nil
	})
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench holds what every run needs.
type bench struct {
	root, assets, manager string
	operatorArgs          []string
}

func run(ctx context.Context, cfg config) error {
	started := time.Now()
	bins, err := harness.Build(ctx, logf)
	if err != nil {
		return err
	}
	b := &bench{root: bins.Root, assets: bins.Assets, manager: bins.Manager, operatorArgs: cfg.operatorArgs}
	largest := slices.Max(append([]int{cfg.n}, cfg.curve...))
	r := &result{N: cfg.n, Unrelated: cfg.unrelated, IdleSeconds: cfg.idle.Seconds(), Workers: operatorWorkers,
		QPS: formerQPS, Burst: formerBurst, Commit: commit(ctx, bins.Root)}

	if err := b.main(ctx, cfg, cfg.n == largest, r); err != nil {
		return err
	}
	if r.UnthrottledBaselineSeconds, r.BaselineSeconds, err = b.baselines(ctx, cfg.n, true); err != nil {
		return err
	}
	for _, n := range cfg.curve {
		if n == cfg.n {
			continue // measured by the main run
		}
		point, err := b.point(ctx, n, cfg, n == largest, r)
		if err != nil {
			return err
		}
		r.Curve = append(r.Curve, point)
	}
	sort.Slice(r.Curve, func(i, j int) bool { return r.Curve[i].N < r.Curve[j].N })
	r.LargestN, r.LargestColdStartSeconds = cfg.n, r.ColdStartSeconds
	r.LargestUnthrottledBaselineSeconds = r.UnthrottledBaselineSeconds
	if largest != cfg.n {
		// The former limits' baseline would take minutes more here (3 requests per token at
		// 100 QPS); the API server's pace is the figure that matters.
		if r.LargestUnthrottledBaselineSeconds, _, err = b.baselines(ctx, largest, false); err != nil {
			return err
		}
		r.LargestN, r.LargestColdStartSeconds = largest, r.Curve[len(r.Curve)-1].Seconds
	}
	r.setRatios()
	if cfg.sharded > 0 {
		if r.Sharded, err = b.shardedPoint(ctx, cfg.sharded); err != nil {
			return err
		}
	}
	if cfg.figma > 0 {
		if r.Figma, err = b.figmaPoint(ctx, cfg.figma); err != nil {
			return err
		}
	}
	r.RunSeconds = time.Since(started).Seconds()
	out := cfg.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(bins.Root, out)
	}
	return r.write(out)
}

// main is the run at cfg.n: cold start, idle, steady state and lateness, memory beside
// unrelated Secrets, and a restart when it is the largest N.
func (b *bench) main(ctx context.Context, cfg config, largest bool, r *result) error {
	s, err := b.cluster("bench")
	if err != nil {
		return err
	}
	defer s.stop()
	const ns = "bench"
	if _, _, err := s.create(ctx, ns, cfg.n); err != nil {
		return err
	}

	logf("cold start: the manager starts with %d FigmaTokens and Secrets in place", cfg.n)
	profiled := make(chan error, 1)
	if cfg.cpuProfile != "" {
		go func() {
			time.Sleep(time.Second) // the manager serves pprof
			profiled <- s.saveProfile(ctx, "profile?seconds=5", cfg.cpuProfile)
		}()
	}
	took, err := s.coldStart(ctx, ns, cfg.n, (largest && cfg.heapProfile != "") || cfg.cpuProfile != "")
	if err != nil {
		return err
	}
	if cfg.cpuProfile != "" {
		if err := <-profiled; err != nil {
			return err
		}
		logf("CPU profile: %s", cfg.cpuProfile)
	}
	s.quiesce() // the last status writes and Events land
	r.ColdStartSeconds = took.Seconds()
	requests, calls := since(s.proxy, map[string]int{}), s.fake.Fake.TotalCalls()
	r.UpstreamCalls = calls
	r.setPerRefresh(requests, calls)
	logf("cold start: %.1f s, %d upstream calls, %s", r.ColdStartSeconds, calls, kinds(requests))

	logf("idle: %s with nothing due", cfg.idle)
	s.idle(cfg.idle, r)
	logf("idle: %d upstream calls, %d writes, %d requests", r.IdleUpstreamCalls, r.IdleWrites, r.IdleRequests)

	logf("steady state: %s tokens, each refreshed when due", cfg.timelinessTokens)
	if err := s.steady(ctx, ns, cfg.n, cfg.timelinessTokens, r); err != nil {
		return err
	}
	logf("steady state: %.2f API requests per refresh (%s); lateness p50 %.2f s, p99 %.2f s, max %.2f s; %d expired",
		r.SteadyAPIRequestsPerRefresh, kinds(r.SteadyRequestsByKind), r.LatenessP50, r.LatenessP99, r.LatenessMax, r.ExpiredTokens)
	// Peak memory over the cold start and a full cycle, as at every point of the curve.
	if r.RSSMiB, err = s.rssMiB(); err != nil {
		return err
	}
	r.Curve = append(r.Curve, curvePoint{N: cfg.n, Seconds: r.ColdStartSeconds, RSSMiB: r.RSSMiB, Expired: r.ExpiredTokens})

	logf("memory: peak RSS %.1f MiB so far; adding %d unrelated 64 KiB Secrets in other namespaces", r.RSSMiB, cfg.unrelated)
	if err := s.addUnrelated(ctx, cfg.unrelated); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // the metadata informer has seen them
	if r.RSSWithUnrelatedMiB, err = s.rssMiB(); err != nil {
		return err
	}
	logf("memory: peak RSS %.1f MiB", r.RSSWithUnrelatedMiB)
	if largest {
		return b.restartAndProfile(ctx, s, cfg, r)
	}
	return nil
}

// point measures the scaling curve at n in a fresh control plane: cold start, peak RSS, and
// a full cycle, every token refreshed once more before it expires.
func (b *bench) point(ctx context.Context, n int, cfg config, largest bool, r *result) (curvePoint, error) {
	s, err := b.cluster(fmt.Sprintf("bench-%d", n))
	if err != nil {
		return curvePoint{}, err
	}
	defer s.stop()
	ns := "bench"
	if _, _, err := s.create(ctx, ns, n); err != nil {
		return curvePoint{}, err
	}
	logf("scaling curve: cold start at N=%d with %s tokens", n, cfg.cycleTokens)
	s.fake.Fake.SetLifetime(cfg.cycleTokens)
	took, err := s.coldStart(ctx, ns, n, largest && cfg.heapProfile != "")
	if err != nil {
		return curvePoint{}, err
	}
	// The next tokens last an hour, so nothing is due after the cycle.
	s.fake.Fake.SetLifetime(time.Hour)
	logf("scaling curve: N=%d Ready in %.1f s; waiting for every token's next refresh", n, took.Seconds())
	p := curvePoint{N: n, Seconds: took.Seconds(), Expired: s.cycle(n, cfg.cycleTokens)}
	if p.RSSMiB, err = s.rssMiB(); err != nil {
		return p, err
	}
	logf("scaling curve: N=%d: %.1f s, peak RSS %.1f MiB, %d expired", n, p.Seconds, p.RSSMiB, p.Expired)
	if largest {
		err = b.restartAndProfile(ctx, s, cfg, r)
	}
	return p, err
}

// restartAndProfile saves the heap profile, when asked, and measures a restart.
func (b *bench) restartAndProfile(ctx context.Context, s *stack, cfg config, r *result) error {
	if cfg.heapProfile != "" {
		if err := s.saveProfile(ctx, "heap?gc=1", cfg.heapProfile); err != nil {
			return err
		}
		logf("heap profile: %s (go tool pprof -top %s)", cfg.heapProfile, cfg.heapProfile)
	}
	n := r.N
	if len(cfg.curve) > 0 {
		n = slices.Max(append([]int{cfg.n}, cfg.curve...))
	}
	logf("restart: counting a restarted manager's requests for %s", cfg.restart)
	if err := s.restart(cfg.restart, n, r); err != nil {
		return err
	}
	logf("restart: %d upstream calls, %d API requests (%s)", r.RestartUpstreamCalls, r.RestartRequests, kinds(r.RestartRequestsByKind))
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// nth is times[i]; zero if there are fewer.
func nth(times []time.Time, i int) time.Time {
	if i < len(times) {
		return times[i]
	}
	return time.Time{}
}
