package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

// figmaResult is the Figma point: n FigmaTokens refreshed through one FigmaOAuthClient at
// the fake Figma endpoint, beside the Amplify figures of the main run.
type figmaResult struct {
	N                int     `json:"n"`
	ColdStartSeconds float64 `json:"cold_start_seconds"`
	RefreshedOnce    int     `json:"tokens_refreshed_once"`
	NotRefreshed     int     `json:"tokens_not_refreshed"`
	RefreshedTwice   int     `json:"tokens_refreshed_more_than_once"`
	RSSMiB           float64 `json:"rss_mib"`
}

// figmaPoint starts n FigmaTokens that name one FigmaOAuthClient and the manager, pointed at
// a fake Figma endpoint; every token must be refreshed exactly once.
func (b *bench) figmaPoint(ctx context.Context, n int) (*figmaResult, error) {
	s, err := b.cluster("bench-figma")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	const ns, clientID, clientSecret = "bench", "bench-app", "bench-app-secret"
	fake := fakefigma.New(fakefigma.Options{Clients: map[string]string{clientID: clientSecret}, Lifetime: time.Hour})
	endpoint := httptest.NewServer(fake)
	defer endpoint.Close()
	if err := s.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return nil, err
	}
	if err := s.client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		StringData: map[string]string{"clientSecret": clientSecret}}); err != nil {
		return nil, err
	}
	if err := s.client.Create(ctx, &figmav1alpha1.FigmaOAuthClient{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns},
		Spec: figmav1alpha1.OAuthClientSpec{ClientID: clientID, Figma: &figmav1alpha1.FigmaUpstream{
			ClientSecretRef: figmav1alpha1.ClientSecretRef{Name: "app"}}}}); err != nil {
		return nil, err
	}
	if _, _, err := s.createEach(ctx, ns, n, func(_ int, ft *figmav1alpha1.FigmaToken) {
		ft.Spec.ClientRef = &figmav1alpha1.ClientRef{Name: "app"}
	}); err != nil {
		return nil, err
	}
	logf("figma: %d FigmaTokens through one FigmaOAuthClient", n)
	m := &harness.Manager{Binary: s.manager, Kubeconfig: s.proxy.Kubeconfig, Endpoint: s.fake.URL, FigmaEndpoint: endpoint.URL,
		LogPath: filepath.Join(s.root, "bin", "bench-figma-manager.log"), Args: s.args}
	start := time.Now()
	if err := m.Start(); err != nil {
		return nil, err
	}
	defer m.Stop()
	if err := s.waitReady(ctx, ns, n, func(*figmav1alpha1.FigmaToken) bool { return true }); err != nil {
		return nil, err
	}
	r := &figmaResult{N: n, ColdStartSeconds: time.Since(start).Seconds()}
	s.quiesce()
	r.RefreshedOnce, r.NotRefreshed, r.RefreshedTwice = tally(n, fake.Calls)
	if r.RSSMiB, err = peakRSSMiB(m.Pid()); err != nil {
		return nil, err
	}
	logf("figma: %.1f s; refreshed once %d, not at all %d, more than once %d; peak RSS %.1f MiB",
		r.ColdStartSeconds, r.RefreshedOnce, r.NotRefreshed, r.RefreshedTwice, r.RSSMiB)
	return r, nil
}
