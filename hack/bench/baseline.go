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
	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/internal/operator"
)

// baseline is the API server's own limit for the job: a plain client, through the same
// proxy, with the operator's rate limits and concurrency, making only the writes the job
// needs: one Secret update and one status patch per token.
func baseline(ctx context.Context, cluster *harness.ControlPlane, proxy *harness.APIProxy, n int) (float64, error) {
	const ns = "baseline"
	if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return 0, err
	}
	secrets := make([]*corev1.Secret, n)
	tokens := make([]*figmav1alpha1.FigmaToken, n)
	err := parallel(ctx, n, createWorkers, func(i int) error {
		name := fmt.Sprintf("token-%05d", i)
		secrets[i] = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Data: map[string][]byte{"refreshToken": []byte("refresh-" + name)}}
		tokens[i] = &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: figmav1alpha1.DNSSubdomain(name)}}}
		if err := cluster.Client.Create(ctx, secrets[i]); err != nil {
			return err
		}
		return cluster.Client.Create(ctx, tokens[i])
	})
	if err != nil {
		return 0, err
	}

	cfg := &rest.Config{Host: proxy.URL(), QPS: operator.DefaultQPS, Burst: operator.DefaultBurst}
	c, err := client.New(cfg, client.Options{Scheme: cluster.Client.Scheme()})
	if err != nil {
		return 0, err
	}
	start := time.Now()
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
