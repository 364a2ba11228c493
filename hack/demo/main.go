// Command demo runs the whole product on this machine, offline: a real kube-apiserver and
// etcd on loopback, the fake Amplify endpoint issuing short-lived tokens, and the operator's
// own manager binary; it applies config/samples/ and shows each refresh live.
//
//	go run ./hack/demo                 # until Ctrl-C
//	go run ./hack/demo -duration 90s   # stops by itself and prints a summary
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	duration := flag.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	lifetime := flag.Duration("token-lifetime", 30*time.Second, "lifetime of the access tokens the fake endpoint issues")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *lifetime, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run sets everything up, then shows the refreshes for duration (0: until Ctrl-C). The
// duration starts once the operator runs, not during the first build.
func run(ctx context.Context, lifetime, duration time.Duration) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "PROJECT")); err != nil {
		return fmt.Errorf("run the demo from the repository's top folder (make demo)")
	}

	assets, err := controlPlaneBinaries(ctx, root)
	if err != nil {
		return err
	}
	managerBinary := filepath.Join(root, "bin", "manager")
	if err := goBuild(ctx, root, managerBinary, "."); err != nil {
		return err
	}

	cluster, err := startCluster(ctx, root, assets)
	if err != nil {
		return err
	}
	defer cluster.stop()

	upstream, err := startFakeAmplify(lifetime)
	if err != nil {
		return err
	}
	defer upstream.stop()

	operator, err := startOperator(root, managerBinary, cluster.kubeconfig, upstream.url)
	if err != nil {
		return err
	}
	defer operator.stop()

	if err := cluster.kubectl(ctx, "apply", "-n", "default", "-k", filepath.Join(root, "config", "samples")); err != nil {
		return err
	}

	rel := func(p string) string { r, _ := filepath.Rel(root, p); return r }
	say("The operator is running. From a second terminal:")
	say("  %s --kubeconfig %s get figmatokens -w", rel(cluster.kubectlPath), rel(cluster.kubeconfig))
	say("  %s --kubeconfig %s annotate figmatoken design-system figma.tokenops.dev/refresh-requested-at=$(date -u +%%FT%%TZ) --overwrite",
		rel(cluster.kubectlPath), rel(cluster.kubeconfig))
	say("Operator log: %s. Tokens are issued for %s; Ctrl-C stops everything.", rel(operator.logPath), lifetime)

	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	summary := watch(ctx, cluster.client, "default", "design-system", "figma-credentials")
	summary.calls, summary.issued = upstream.server.TotalCalls(), len(upstream.server.Issued())
	summary.print()
	return nil
}

// say prints one line of the demo's narration, stamped with the time.
func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
