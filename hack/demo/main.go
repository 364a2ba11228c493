// Command demo runs the whole product on this machine, offline: a real kube-apiserver and
// etcd on loopback, fake Amplify and Figma endpoints issuing short-lived tokens, and the
// operator's own manager binary; it applies config/samples/ (a FigmaToken on each upstream)
// and shows each refresh live.
//
//	make demo                 # until Ctrl-C
//	make demo DURATION=90s    # stops by itself and prints a summary
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

func main() {
	duration := flag.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	lifetime := flag.Duration("token-lifetime", 30*time.Second, "lifetime of the access tokens the fake endpoint issues")
	kubeconfig := flag.String("kubeconfig-out", filepath.Join("bin", "demo.kubeconfig"), "where to write the control plane's kubeconfig (removed on exit), relative to the repository")
	managerLog := flag.String("manager-log", filepath.Join("bin", "demo-manager.log"), "where the operator logs (kept on exit), relative to the repository")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *lifetime, *duration, *kubeconfig, *managerLog); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run sets everything up, then shows the refreshes for duration (0: until Ctrl-C). The
// duration starts once the operator runs, not during the first build. On the way out it
// removes what it made (the operator, the control plane with its data and kubeconfig, the
// fake endpoint), keeping only the operator's log.
func run(ctx context.Context, lifetime, duration time.Duration, kubeconfig, managerLog string) error {
	bins, err := harness.Build(ctx, say)
	if err != nil {
		return err
	}
	root, assets, managerBinary := bins.Root, bins.Assets, bins.Manager

	say("starting etcd and kube-apiserver on loopback, installing the CRD from config/crd...")
	cluster, err := harness.StartControlPlane(harness.ControlPlaneOptions{Assets: assets, Kubeconfig: inRepo(root, kubeconfig)})
	if err != nil {
		return err
	}
	defer cluster.Stop()

	upstream, err := harness.StartEndpoint(fakeamplify.Options{Lifetime: lifetime})
	if err != nil {
		return err
	}
	defer upstream.Down()
	say("fake Amplify endpoint at %s issues tokens valid for %s", upstream.URL, lifetime)
	// The OAuth app of config/samples/figma_v1alpha1_figmaoauthclient.yaml.
	figma := fakefigma.New(fakefigma.Options{Clients: map[string]string{"sample-figma-client-id": "sample-figma-client-secret"}, Lifetime: lifetime})
	figmaServer := httptest.NewServer(figma)
	defer figmaServer.Close()
	say("fake Figma OAuth endpoint at %s issues tokens valid for %s", figmaServer.URL, lifetime)

	operator := &harness.Manager{Binary: managerBinary, Kubeconfig: cluster.Kubeconfig, Endpoint: upstream.URL, FigmaEndpoint: figmaServer.URL,
		LogPath: inRepo(root, managerLog)}
	_ = os.Remove(operator.LogPath) // the log of this run only
	if err := operator.Start(); err != nil {
		return err
	}
	defer operator.Stop()
	say("operator started (bin/manager, pid %d)", operator.Pid())

	if err := cluster.Kubectl(ctx, "apply", "-n", "default", "-k", filepath.Join(root, "config", "samples")); err != nil {
		return err
	}

	rel := func(p string) string { r, _ := filepath.Rel(root, p); return r }
	say("The operator is running. From a second terminal:")
	say("  %s --kubeconfig %s get figmatokens -w", rel(cluster.KubectlPath), rel(cluster.Kubeconfig))
	say("  %s --kubeconfig %s annotate figmatoken design-system figma.tokenops.dev/refresh-requested-at=$(date -u +%%FT%%TZ) --overwrite",
		rel(cluster.KubectlPath), rel(cluster.Kubeconfig))
	say("Operator log: %s. Tokens are issued for %s; Ctrl-C stops everything.", rel(operator.LogPath), lifetime)

	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	// design-system refreshes through Amplify, design-app through Figma's OAuth endpoints.
	summaries := make(chan summary, 2)
	for name, secret := range map[string]string{"design-system": "figma-credentials", "design-app": "design-app-credentials"} {
		go func() { summaries <- watch(ctx, cluster.Client, "default", name, secret) }()
	}
	total := add(<-summaries, <-summaries)
	total.calls = upstream.Fake.TotalCalls() + figma.TotalCalls()
	total.issued = len(upstream.Fake.Issued()) + len(figma.Issued())
	total.print()
	say("stopping: the operator, then the control plane (its data and %s go); the operator's log stays at %s",
		rel(cluster.Kubeconfig), rel(operator.LogPath))
	return nil
}

// inRepo is path, relative to the repository root unless absolute.
func inRepo(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// say prints one line of the demo's narration, stamped with the time.
func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
