package main

import (
	"context"
	"time"

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
// the writes the job needs, one Secret update and one status patch per token, with the
// operator's concurrency. Once with the operator's client rate limits, and once with none:
// the API server's own limit on this machine.
func (b *bench) baselines(ctx context.Context, n int, r *result) error {
	s, err := b.cluster("baseline")
	if err != nil {
		return err
	}
	defer s.stop()
	logf("baseline: the minimal writes, the manager's former client limits (%d QPS, burst %d), %d workers", formerQPS, formerBurst, operatorWorkers)
	if r.BaselineSeconds, err = s.baseline(ctx, "baseline", n, formerQPS, formerBurst); err != nil {
		return err
	}
	logf("baseline: %.1f s; the same without a client rate limit", r.BaselineSeconds)
	if r.UnthrottledBaselineSeconds, err = s.baseline(ctx, "unthrottled", n, -1, 0); err != nil {
		return err
	}
	logf("unthrottled baseline: %.1f s", r.UnthrottledBaselineSeconds)
	return nil
}

// baseline creates n tokens in ns, then times the writes through the counting proxy, as
// the operator's requests go. A negative qps turns the client's rate limiter off.
func (s *stack) baseline(ctx context.Context, ns string, n int, qps float32, burst int) (float64, error) {
	secrets, tokens, err := s.create(ctx, ns, n)
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
		secret := secrets[i]
		secret.Data["accessToken"] = []byte("baseline-access-token")
		secret.Annotations = map[string]string{figmav1alpha1.AnnotationExpiresAt: now.Add(time.Hour).UTC().Format(time.RFC3339)}
		if err := c.Update(ctx, secret); err != nil {
			return err
		}
		ft := tokens[i]
		patch := client.MergeFrom(ft.DeepCopy())
		expires := metav1.NewTime(now.Add(time.Hour))
		ft.Status.ExpiresAt = &expires
		ft.Status.Conditions = []metav1.Condition{{Type: figmav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: figmav1alpha1.ReasonRefreshed, LastTransitionTime: metav1.NewTime(now)}}
		return c.Status().Patch(ctx, ft, patch)
	})
	return time.Since(start).Seconds(), err
}
