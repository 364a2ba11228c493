// Command soak runs the operator under load and faults at once, as production brings them:
// a real kube-apiserver and etcd, the fake Amplify endpoint and two manager processes with
// leader election, all on loopback. For the whole run it injects upstream faults, API server
// outages and leader kills at random (a seed, printed, repeats a run), while users rotate
// refresh tokens, edit Secrets, force refreshes and create and delete FigmaTokens. A checker
// asserts the invariants all along. It writes docs/soak.json and docs/soak.md and exits
// non-zero when an invariant broke.
//
//	make soak                          # DURATION=10m N=500
//	make soak DURATION=90s N=100       # the short run of make test
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
)

type config struct {
	duration time.Duration
	n        int
	seed     uint64
	out      string
	// safetyOnly fails the run on safety violations only (see result.ok).
	safetyOnly bool
	// logLevel is the managers' --zap-log-level.
	logLevel string
	// faults is the order the planned faults take turns in.
	faults []string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long faults and users act")
	flag.IntVar(&cfg.n, "n", 500, "FigmaTokens (with their Secrets) kept in the cluster")
	flag.Uint64Var(&cfg.seed, "seed", 0, "seed of every random choice; 0 picks one (printed, to repeat the run)")
	flag.StringVar(&cfg.out, "out", "docs/soak", "output path without extension (.json and .md are written)")
	flag.BoolVar(&cfg.safetyOnly, "safety-only", false, "fail only when a refresh token, a foreign key, label or annotation or a token value is at stake; report the timing goals")
	// Above 1 the logger stops sampling, so every refresh and failure is in the logs.
	flag.StringVar(&cfg.logLevel, "operator-log-level", "2", "the managers' --zap-log-level; 2 or more logs every line (5: every reconcile and the work queue)")
	cfg.faults = plannedFaults
	flag.Func("faults", "the planned faults in the order they take turns, comma-separated (default "+strings.Join(plannedFaults, ",")+")", func(v string) error {
		cfg.faults = strings.Split(v, ",")
		for _, f := range cfg.faults {
			if !slices.Contains(plannedFaults, f) {
				return fmt.Errorf("unknown fault %q: one of %s", f, strings.Join(plannedFaults, ", "))
			}
		}
		return nil
	})
	flag.Parse()
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "soak: an invariant broke (seed %d; repeat with -seed %d)\n", cfg.seed, cfg.seed)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) (bool, error) {
	logf("seed %d (repeat the run with -seed %d); %d FigmaTokens for %s", cfg.seed, cfg.seed, cfg.n, cfg.duration)
	bins, err := harness.Build(ctx, logf)
	if err != nil {
		return false, err
	}
	s := &soak{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5eed)), faults: map[string]int{}}
	if err := s.start(bins); err != nil {
		return false, err
	}
	defer s.stop()
	if err := s.populate(ctx); err != nil {
		return false, err
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	s.begin = time.Now()
	var wg sync.WaitGroup
	for _, actor := range []func(context.Context){s.chaos, s.actAsUsers, s.checker.run} {
		wg.Add(1)
		go func() { defer wg.Done(); actor(runCtx) }()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	logf("faults stop; the checker waits for the last recovery and checks once more")
	s.settle(ctx)
	r := s.result()
	out := cfg.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(bins.Root, out)
	}
	if err := r.write(out); err != nil {
		return false, err
	}
	return r.ok(cfg.safetyOnly), nil
}

// plannedFaults are the faults the plan can take turns with, besides the upstream's per-call
// faults.
var plannedFaults = []string{"leader_kill", "api_outage", "leader_pause", "apiserver_restart", "upgrade"}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
