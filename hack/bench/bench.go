package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/internal/operator"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

const (
	namespace = "bench"
	// operatorWorkers is --max-concurrent-reconciles' default; the baseline uses as many.
	operatorWorkers = operator.DefaultMaxConcurrentReconciles
	// createWorkers create the test objects; they are not measured.
	createWorkers = 32
)

// bench holds what every run needs.
type bench struct {
	root, assets, manager string
}

// run is one control plane with the fake endpoint and the operator behind a counting proxy.
type stack struct {
	cluster  *harness.ControlPlane
	proxy    *harness.APIProxy
	fake     *harness.Endpoint
	operator *harness.Manager
	calls    *callLog
}

func (b *bench) start(name string) (*stack, error) {
	s := &stack{calls: &callLog{}}
	var err error
	if s.cluster, err = harness.StartControlPlane(harness.ControlPlaneOptions{
		Assets: b.assets, Kubeconfig: filepath.Join(b.root, "bin", name+".kubeconfig")}); err != nil {
		return nil, err
	}
	s.cluster.Config.QPS, s.cluster.Config.Burst = 5000, 10000 // the test's own client: not measured
	proxied := filepath.Join(b.root, "bin", name+"-proxied.kubeconfig")
	if s.proxy, err = harness.StartAPIProxy(s.cluster.Config, proxied, classify); err != nil {
		s.stop()
		return nil, err
	}
	if s.fake, err = harness.StartEndpoint(fakeamplify.Options{Lifetime: time.Hour, OnCall: s.calls.record}); err != nil {
		s.stop()
		return nil, err
	}
	if err := s.cluster.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		s.stop()
		return nil, err
	}
	s.operator = &harness.Manager{Binary: b.manager, Kubeconfig: proxied, Endpoint: s.fake.URL, LogPath: filepath.Join(b.root, "bin", name+"-manager.log")}
	_ = os.Remove(s.operator.LogPath) // each run's log starts empty
	if err = s.operator.Start(); err != nil {
		s.operator = nil
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *stack) stop() {
	if s.operator != nil {
		s.operator.Stop()
	}
	if s.fake != nil {
		s.fake.Down()
	}
	if s.proxy != nil {
		s.proxy.Close()
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
}

// converge creates n Secrets and FigmaTokens at once and waits until all are Ready.
func (s *stack) converge(ctx context.Context, n int) (time.Duration, error) {
	start := time.Now()
	err := parallel(ctx, n, createWorkers, func(i int) error {
		name := fmt.Sprintf("token-%05d", i)
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
			StringData: map[string]string{"refreshToken": "refresh-" + name}}
		if err := s.cluster.Client.Create(ctx, secret); err != nil {
			return err
		}
		return s.cluster.Client.Create(ctx, &figmav1alpha1.FigmaToken{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
			Spec:       figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: figmav1alpha1.DNSSubdomain(name)}},
		})
	})
	if err != nil {
		return 0, err
	}
	if err := s.waitReady(ctx, n, func(*figmav1alpha1.FigmaToken) bool { return true }); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// waitReady polls until n FigmaTokens are Ready and pass check.
func (s *stack) waitReady(ctx context.Context, n int, check func(*figmav1alpha1.FigmaToken) bool) error {
	deadline := time.Now().Add(15 * time.Minute)
	for {
		var list figmav1alpha1.FigmaTokenList
		if err := s.cluster.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return err
		}
		ready := 0
		for i := range list.Items {
			if meta.IsStatusConditionTrue(list.Items[i].Status.Conditions, figmav1alpha1.ConditionReady) && check(&list.Items[i]) {
				ready++
			}
		}
		if ready >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d FigmaTokens ready after 15 minutes", ready, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// rssMiB is the operator's peak resident memory so far (VmHWM).
func (s *stack) rssMiB() (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.operator.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "VmHWM:" {
			kib, err := strconv.ParseFloat(fields[1], 64)
			return kib / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for pid %d", s.operator.Pid())
}

// full measures everything at cfg.n in one control plane.
func (b *bench) full(ctx context.Context, cfg config) (*result, error) {
	s, err := b.start("bench")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	r := &result{N: cfg.n, Unrelated: cfg.unrelated, IdleSeconds: cfg.idle.Seconds(), Workers: operatorWorkers}

	logf("convergence: %d FigmaTokens and Secrets created at once", cfg.n)
	before := s.proxy.Counts()
	took, err := s.converge(ctx, cfg.n)
	if err != nil {
		return nil, err
	}
	r.OperatorSeconds = took.Seconds()
	// Let the last status writes and Events land before counting.
	time.Sleep(2 * time.Second)
	requests := since(s.proxy, before)
	calls := s.fake.Fake.TotalCalls()
	r.UpstreamCalls = calls
	r.setPerRefresh(requests, calls)
	logf("converged in %.1f s; %d upstream calls; %v", r.OperatorSeconds, calls, requests)
	if r.RSSMiB, err = s.rssMiB(); err != nil {
		return nil, err
	}

	logf("idle: %s with nothing due", cfg.idle)
	before, callsBefore := s.proxy.Counts(), s.fake.Fake.TotalCalls()
	time.Sleep(cfg.idle)
	idle := since(s.proxy, before)
	r.IdleUpstreamCalls = s.fake.Fake.TotalCalls() - callsBefore
	r.IdleWrites = idle[secretWrite] + idle[statusWrite]
	r.IdleRequests = total(idle)

	logf("memory: adding %d unrelated 64 KiB Secrets in other namespaces", cfg.unrelated)
	if err := s.addUnrelated(ctx, cfg.unrelated); err != nil {
		return nil, err
	}
	time.Sleep(5 * time.Second) // the metadata informer has seen them
	if r.RSSWithUnrelatedMiB, err = s.rssMiB(); err != nil {
		return nil, err
	}

	logf("timeliness: %s tokens", cfg.timelinessTokens)
	if err := s.timeliness(ctx, cfg.n, cfg.timelinessTokens, r); err != nil {
		return nil, err
	}

	logf("baseline: the minimal writes with client-go at the same concurrency")
	s.operator.Stop()
	s.operator = nil
	if r.BaselineSeconds, err = baseline(ctx, s.cluster, s.proxy, cfg.n); err != nil {
		return nil, err
	}
	r.Ratio = r.BaselineSeconds / r.OperatorSeconds
	return r, nil
}

// convergenceOnly measures convergence and memory at n in a fresh control plane.
func (b *bench) convergenceOnly(ctx context.Context, n int) (curvePoint, error) {
	s, err := b.start(fmt.Sprintf("bench-%d", n))
	if err != nil {
		return curvePoint{}, err
	}
	defer s.stop()
	logf("scaling curve: N=%d", n)
	took, err := s.converge(ctx, n)
	if err != nil {
		return curvePoint{}, err
	}
	rss, err := s.rssMiB()
	return curvePoint{N: n, Seconds: took.Seconds(), RSSMiB: rss}, err
}

func (s *stack) addUnrelated(ctx context.Context, count int) error {
	const spread = 10
	for i := range spread {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i)}}
		if err := s.cluster.Client.Create(ctx, ns); err != nil {
			return err
		}
	}
	payload := make([]byte, 64*1024)
	for i := range payload {
		payload[i] = byte(i*7 + 13)
	}
	return parallel(ctx, count, createWorkers, func(i int) error {
		return s.cluster.Client.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("blob-%05d", i), Namespace: fmt.Sprintf("unrelated-%d", i%spread)},
			Data:       map[string][]byte{"blob": payload},
		})
	})
}

// timeliness switches to short-lived tokens, forces one refresh of each, then measures how
// late each next refresh comes against its scheduled time.
func (s *stack) timeliness(ctx context.Context, n int, lifetime time.Duration, r *result) error {
	s.fake.Fake.SetLifetime(lifetime)
	forcedAt := time.Now()
	stamp := forcedAt.UTC().Format(time.RFC3339Nano)
	err := parallel(ctx, n, createWorkers, func(i int) error {
		key := types.NamespacedName{Namespace: namespace, Name: fmt.Sprintf("token-%05d", i)}
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`,
			figmav1alpha1.AnnotationRefreshRequestedAt, stamp))
		return s.cluster.Client.Patch(ctx, &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}, patch)
	})
	if err != nil {
		return err
	}
	// Wait until every FigmaToken holds a short-lived token.
	short := func(ft *figmav1alpha1.FigmaToken) bool {
		return ft.Status.ExpiresAt != nil && ft.Status.ExpiresAt.Time.Before(forcedAt.Add(lifetime+time.Minute)) && ft.Status.NextRefreshTime != nil
	}
	if err := s.waitReady(ctx, n, short); err != nil {
		return err
	}
	var list figmav1alpha1.FigmaTokenList
	if err := s.cluster.Client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err
	}
	latest := time.Time{}
	for _, ft := range list.Items {
		if ft.Status.ExpiresAt.After(latest) {
			latest = ft.Status.ExpiresAt.Time
		}
	}
	time.Sleep(time.Until(latest) + 2*time.Second)

	var lateness []float64
	for _, ft := range list.Items {
		token := "refresh-" + ft.Name
		scheduled, expiry := ft.Status.NextRefreshTime.Time, ft.Status.ExpiresAt.Time
		at := s.calls.firstAfter(token, scheduled.Add(-time.Second))
		if at.IsZero() || !at.Before(expiry) {
			r.ExpiredTokens++
			continue
		}
		lateness = append(lateness, max(at.Sub(scheduled).Seconds(), 0))
	}
	sort.Float64s(lateness)
	r.LatenessP50 = percentile(lateness, 0.50)
	r.LatenessP99 = percentile(lateness, 0.99)
	if len(lateness) > 0 {
		r.LatenessMax = lateness[len(lateness)-1]
	}
	return nil
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}

// parallel runs do(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, do func(int) error) error {
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case jobs <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
