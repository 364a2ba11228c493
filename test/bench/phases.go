package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
)

// coldStart starts the operator with every Secret and FigmaToken of ns already there and
// waits until all are Ready: process start, cache sync and the first refresh of each.
func (s *stack) coldStart(ctx context.Context, ns string, n int, profile bool) (time.Duration, error) {
	start := time.Now()
	if err := s.startOperator(profile); err != nil {
		return 0, err
	}
	err := s.waitReady(ctx, ns, n, func(*figmav1alpha1.FigmaToken) bool { return true })
	return time.Since(start), err
}

// idle counts what the operator sends while nothing is due.
func (s *stack) idle(window time.Duration, r *result) {
	before, callsBefore := s.proxy.Counts(), s.fake.Fake.TotalCalls()
	time.Sleep(window)
	idle := since(s.proxy, before)
	r.IdleUpstreamCalls = s.fake.Fake.TotalCalls() - callsBefore
	r.IdleWrites = idle[secretWrite] + idle[statusWrite]
	r.IdleRequests = total(idle)
}

// restart stops the operator gracefully, starts it again and counts, over window, what
// the new process sends: the goal is the caches' lists and watches, nothing per token, and
// no upstream call.
func (s *stack) restart(window time.Duration, n int, r *result) error {
	s.stopOperator()
	before, callsBefore := s.proxy.Counts(), s.fake.Fake.TotalCalls()
	if err := s.startOperator(false); err != nil {
		return err
	}
	time.Sleep(window)
	requests := since(s.proxy, before)
	r.RestartN, r.RestartWindow = n, window.String()
	r.RestartUpstreamCalls = s.fake.Fake.TotalCalls() - callsBefore
	r.RestartRequests = total(requests)
	r.RestartRequestsByKind = requests
	return nil
}

// steady makes every token short-lived with one forced refresh, then lets each come due on
// its own and measures the routine refreshes: API requests per refresh by kind, and how late
// each came against its nextRefreshTime.
func (s *stack) steady(ctx context.Context, ns string, n int, lifetime time.Duration, r *result) error {
	s.fake.Fake.SetLifetime(lifetime)
	r.TimelinessLifetime = lifetime.String()
	forcedAt := time.Now()
	stamp := forcedAt.UTC().Format(time.RFC3339Nano)
	err := parallel(ctx, n, createWorkers, func(i int) error {
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`,
			figmav1alpha1.AnnotationRefreshRequestedAt, stamp))
		return s.client.Patch(ctx, &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: tokenName(i), Namespace: ns}}, patch)
	})
	if err != nil {
		return err
	}
	short := func(ft *figmav1alpha1.FigmaToken) bool {
		return ft.Status.ExpiresAt != nil && ft.Status.ExpiresAt.Time.Before(forcedAt.Add(lifetime+time.Minute)) && ft.Status.NextRefreshTime != nil
	}
	if err := s.waitReady(ctx, ns, n, short); err != nil {
		return err
	}
	// The routine refreshes get hour-long tokens: one round each, and then quiet.
	s.fake.Fake.SetLifetime(time.Hour)
	s.quiesce() // the forced refreshes' Events are not routine
	before, callsBefore := s.proxy.Counts(), s.fake.Fake.TotalCalls()
	var list figmav1alpha1.FigmaTokenList
	if err := s.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	latest := time.Time{}
	for _, ft := range list.Items {
		if ft.Status.ExpiresAt.After(latest) {
			latest = ft.Status.ExpiresAt.Time
		}
	}
	logf("  every token is due by %s; waiting", latest.Format("15:04:05"))
	time.Sleep(time.Until(latest) + 2*time.Second)
	s.quiesce()
	requests := since(s.proxy, before)
	if refreshes := s.fake.Fake.TotalCalls() - callsBefore; refreshes > 0 {
		r.SteadyRefreshes = refreshes
		r.SteadyRequestsByKind = requests
		r.SteadyAPIRequestsPerRefresh = float64(total(requests)-requests[listOrWatch]) / float64(refreshes)
	}

	r.Lateness = nil
	for _, ft := range list.Items {
		scheduled, expiry := ft.Status.NextRefreshTime.Time, ft.Status.ExpiresAt.Time
		at := harness.FirstFrom(s.fake.Fake.CallTimes(refreshToken(ft.Name)), scheduled.Add(-time.Second))
		if at.IsZero() || !at.Before(expiry) {
			r.ExpiredTokens++
			continue
		}
		r.Lateness = append(r.Lateness, max(at.Sub(scheduled).Seconds(), 0))
	}
	sort.Float64s(r.Lateness)
	r.LatenessP50 = percentile(r.Lateness, 0.50)
	r.LatenessP99 = percentile(r.Lateness, 0.99)
	if len(r.Lateness) > 0 {
		r.LatenessMax = r.Lateness[len(r.Lateness)-1]
	}
	return nil
}

// cycle waits until every one of the n tokens, issued for lifetime at the cold start, has
// been refreshed once, and counts those whose refresh came after their expiry, or never.
func (s *stack) cycle(n int, lifetime time.Duration) int {
	firsts := make([]time.Time, n)
	latest := time.Time{}
	for i := range n {
		firsts[i] = nth(s.fake.Fake.CallTimes(refreshToken(tokenName(i))), 0)
		if firsts[i].After(latest) {
			latest = firsts[i]
		}
	}
	deadline := latest.Add(lifetime + 5*time.Second)
	bar := progress("tokens refreshed once more", n)
	defer bar.stop()
	expired := 0
	for {
		refreshed := 0
		expired = 0
		for i := range n {
			second := nth(s.fake.Fake.CallTimes(refreshToken(tokenName(i))), 1)
			switch {
			case !second.IsZero() && second.Before(firsts[i].Add(lifetime)):
				refreshed++
			case !second.IsZero() || time.Now().After(firsts[i].Add(lifetime)):
				expired++
			}
		}
		bar.set(refreshed)
		if refreshed+expired == n || time.Now().After(deadline) {
			return n - refreshed
		}
		time.Sleep(time.Second)
	}
}

// addUnrelated adds count 64 KiB Secrets in ten other namespaces, for the memory figure:
// the operator caches Secret metadata only.
func (s *stack) addUnrelated(ctx context.Context, count int) error {
	const spread = 10
	for i := range spread {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i)}}
		if err := s.client.Create(ctx, ns); err != nil {
			return err
		}
	}
	payload := make([]byte, 64*1024)
	for i := range payload {
		payload[i] = byte(i*7 + 13)
	}
	bar := progress("unrelated Secrets created", count)
	defer bar.stop()
	return parallel(ctx, count, createWorkers, func(i int) error {
		defer bar.add(1)
		return s.client.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("blob-%05d", i), Namespace: fmt.Sprintf("unrelated-%d", i%spread)},
			Data:       map[string][]byte{"blob": payload},
		})
	})
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}
