// Command bench measures the operator at scale on this machine: a real kube-apiserver and
// etcd, the fake Amplify endpoint and the manager binary, all on loopback. It writes
// docs/benchmarks.json and docs/benchmarks.md; every figure comes from one run.
//
//	make bench                       # N=1000 FigmaTokens, 5000 unrelated Secrets
//	bin/bench -n 20 -unrelated 50 -idle 3s -out DIR   # the smoke run of make test (test/e2e/bench_test.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

type config struct {
	n, unrelated     int
	idle             time.Duration
	timelinessTokens time.Duration
	out              string
	curve            []int
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 1000, "FigmaTokens (with their Secrets) created at once")
	flag.IntVar(&cfg.unrelated, "unrelated", 5000, "unrelated 64 KiB Secrets added in other namespaces")
	flag.DurationVar(&cfg.idle, "idle", 60*time.Second, "length of the idle window")
	flag.DurationVar(&cfg.timelinessTokens, "timeliness-lifetime", 60*time.Second, "token lifetime for the timeliness figures")
	flag.StringVar(&cfg.out, "out", "docs/benchmarks", "output path without extension (.json and .md are written)")
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

func run(ctx context.Context, cfg config) error {
	bins, err := harness.Build(ctx, logf)
	if err != nil {
		return err
	}
	root := bins.Root
	env := &bench{root: root, assets: bins.Assets, manager: bins.Manager}

	result, err := env.full(ctx, cfg)
	if err != nil {
		return err
	}
	result.Curve = append(result.Curve, curvePoint{N: cfg.n, Seconds: result.OperatorSeconds, RSSMiB: result.RSSMiB})
	for _, n := range cfg.curve {
		if n == cfg.n {
			continue // measured above
		}
		point, err := env.convergenceOnly(ctx, n)
		if err != nil {
			return err
		}
		result.Curve = append(result.Curve, point)
	}
	sort.Slice(result.Curve, func(i, j int) bool { return result.Curve[i].N < result.Curve[j].N })
	out := cfg.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	return result.write(out)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// callLog records when the fake endpoint was called with each refresh token.
type callLog struct {
	mu    sync.Mutex
	calls map[string][]time.Time
}

func (l *callLog) record(token string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string][]time.Time{}
	}
	l.calls[token] = append(l.calls[token], at)
}

// firstAfter is the first call with token at or after t; zero if none.
func (l *callLog) firstAfter(token string, t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, at := range l.calls[token] {
		if !at.Before(t) {
			return at
		}
	}
	return time.Time{}
}
