package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// formerQPS and formerBurst are the client limits the manager had by default until it left
// rate control to the API server's Priority and Fairness; the throttled baseline keeps them,
// so figures stay comparable with earlier runs.
const (
	formerQPS   = 100
	formerBurst = 200
)

// baselines measure the least any controller could do from the operator's starting line,
// in a fresh control plane: n Secrets and FigmaTokens exist, and a plain client makes only
// the requests the job cannot avoid, with the operator's concurrency and identity: read the
// Secret (its data is never cached), update it, patch the status. Once with no client rate
// limit, the API server's own pace here (the main baseline), and, when throttled is set,
// once with the manager's former client limits, for comparison with earlier runs.
func (b *bench) baselines(ctx context.Context, n int, throttled bool) (unthrottled, former float64, err error) {
	s, err := b.cluster(fmt.Sprintf("baseline-%d", n))
	if err != nil {
		return 0, 0, err
	}
	defer s.stop()
	logf("baseline at N=%d: read, update and status patch per token, %d workers, no client rate limit", n, operatorWorkers)
	if unthrottled, err = s.baseline(ctx, "unthrottled", n, -1, 0); err != nil {
		return 0, 0, err
	}
	logf("baseline at N=%d: %.1f s", n, unthrottled)
	if !throttled {
		return unthrottled, 0, nil
	}
	logf("baseline at N=%d with the manager's former client limits (%d QPS, burst %d)", n, formerQPS, formerBurst)
	if former, err = s.baseline(ctx, "throttled", n, formerQPS, formerBurst); err != nil {
		return 0, 0, err
	}
	logf("baseline at N=%d, former limits: %.1f s", n, former)
	return unthrottled, former, nil
}

// baseline creates n tokens in ns, then times the requests through the counting proxy, as
// the operator's go. A negative qps turns the client's rate limiter off.
func (s *stack) baseline(ctx context.Context, ns string, n int, qps float32, burst int) (float64, error) {
	_, tokens, err := s.create(ctx, ns, n)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	c, err := client.New(&rest.Config{Host: s.proxy.URL(), QPS: qps, Burst: burst}, client.Options{Scheme: s.client.Scheme()})
	if err != nil {
		return 0, err
	}
	err = parallel(ctx, n, operatorWorkers, func(i int) error {
		now := time.Now()
		ft := tokens[i]
		secret := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ft.Name}, secret); err != nil {
			return err
		}
		secret.Data["accessToken"] = []byte("baseline-access-token")
		secret.Annotations = map[string]string{figmav1alpha1.AnnotationExpiresAt: now.Add(time.Hour).UTC().Format(time.RFC3339)}
		if err := c.Update(ctx, secret); err != nil {
			return err
		}
		patch := client.MergeFrom(ft.DeepCopy())
		expires := metav1.NewTime(now.Add(time.Hour))
		ft.Status.ExpiresAt = &expires
		ft.Status.Conditions = []metav1.Condition{{Type: figmav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: figmav1alpha1.ReasonRefreshed, LastTransitionTime: metav1.NewTime(now)}}
		return c.Status().Patch(ctx, ft, patch)
	})
	return time.Since(start).Seconds(), err
}
