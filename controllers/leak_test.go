package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// findLeaks runs after every test of the suite: no refresh token the fakes received, no
// access token they issued and no OAuth client secret may appear in the manager's logs (kept
// at the most verbose level), in any FigmaToken or OAuth client (status included), Event, or
// metric.
func findLeaks() error {
	ctx := context.Background()
	var fts figmav1alpha1.FigmaTokenList
	var clients figmav1alpha1.FigmaOAuthClientList
	var clusterClients figmav1alpha1.ClusterFigmaOAuthClientList
	var events eventsv1.EventList
	var coreEvents corev1.EventList
	if err := errors.Join(k8s.List(ctx, &fts), k8s.List(ctx, &clients), k8s.List(ctx, &clusterClients),
		k8s.List(ctx, &events), k8s.List(ctx, &coreEvents)); err != nil {
		return err
	}
	objects, _ := json.Marshal([]any{fts, clients, clusterClients})
	eventText, _ := json.Marshal([]any{events, coreEvents})

	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return err
	}
	var metrics bytes.Buffer
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&metrics, mf); err != nil {
			return err
		}
	}
	if fake.TotalCalls() > 0 && !strings.Contains(metrics.String(), "figmatoken_refresh_total") {
		return errors.New("the metrics were not gathered")
	}

	places := map[string]string{"logs": logs.String(), "FigmaTokens and OAuth clients": string(objects), "Events": string(eventText), "metrics": metrics.String()}
	tokens := append(fake.RefreshTokens(), fake.Issued()...)
	tokens = append(append(append(tokens, figmaFake.Issued()...), figmaFake.Exchanged()...), figmaAppSecret)
	for _, token := range tokens {
		for where, text := range places {
			if strings.Contains(text, token) {
				return fmt.Errorf("a token value appears in %s", where)
			}
		}
	}
	fmt.Printf("leak check: %d tokens and client secrets searched in logs (debug), FigmaTokens, OAuth clients, Events and metrics: none found\n", len(tokens))
	return nil
}
