package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// summary is what the demo saw.
type summary struct {
	refreshesSeen int
	expired       int
	calls, issued int
}

// add is the summary of two FigmaTokens.
func add(a, b summary) summary {
	return summary{refreshesSeen: a.refreshesSeen + b.refreshesSeen, expired: a.expired + b.expired}
}

func (s summary) print() {
	fmt.Println()
	fmt.Println("Summary")
	fmt.Printf("  refreshes made:      %d (upstream calls %d, failed %d)\n", s.issued, s.calls, s.calls-s.issued)
	fmt.Printf("  tokens seen written: %d\n", s.refreshesSeen)
	fmt.Printf("  tokens that lapsed:  %d\n", s.expired)
}

// watch polls the FigmaToken and its Secret and narrates each change once, until ctx ends: a
// refresh requested with the annotation, a suspend and a resume, each new token (marked when
// it answers the request), each new Ready state and each new next-refresh time.
func watch(ctx context.Context, c client.Client, namespace, name, secretName string) summary {
	var (
		s                                               summary
		lastToken, lastReady, next, requested, answered string
		suspended                                       bool
	)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return s
		case <-tick.C:
		}
		ft := &figmav1alpha1.FigmaToken{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, ft); err != nil {
			continue
		}
		// Said even when the operator answered before this poll saw the annotation.
		if r := ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt]; r != "" && r != requested {
			requested = r
			say("%s: refresh requested (%s=%s)", name, figmav1alpha1.AnnotationRefreshRequestedAt, r)
		}
		if ft.Spec.Suspend != suspended {
			suspended = ft.Spec.Suspend
			if suspended {
				say("%s suspended (spec.suspend=true): no refreshes until it is false", name)
			} else {
				say("%s resumed (spec.suspend=false): refreshes go on", name)
			}
		}
		secret := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: secretName}, secret); err == nil {
			if token := string(secret.Data["accessToken"]); token != "" && token != lastToken {
				lastToken = token
				s.refreshesSeen++
				how := "refreshed"
				if handled := tokensecret.ReadRecord(secret.Annotations).HandledRefreshRequest; handled != "" && handled == requested && handled != answered {
					how, answered = "refreshed as requested", handled
				}
				say("%s %s: Secret %s now holds access token %s, expires %s",
					name, how, secretName, mask(token), clock(secret.Annotations[figmav1alpha1.AnnotationExpiresAt]))
			}
		}
		if ready := meta.FindStatusCondition(ft.Status.Conditions, figmav1alpha1.ConditionReady); ready != nil {
			state := string(ready.Status) + "/" + ready.Reason
			if state != lastReady {
				lastReady = state
				if ready.Reason == figmav1alpha1.ReasonExpired {
					s.expired++
				}
				say("%s Ready=%s (%s): %s", name, ready.Status, ready.Reason, ready.Message)
			}
		}
		if n := ft.Status.NextRefreshTime; n != nil && n.UTC().Format(time.RFC3339) != next {
			next = n.UTC().Format(time.RFC3339)
			say("%s next refresh at %s (in %s)", name, n.Local().Format("15:04:05"), time.Until(n.Time).Round(time.Second))
		}
	}
}

// mask shows a token only as a short fingerprint.
func mask(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:4]) + "…"
}

// clock shows an RFC 3339 time as local wall-clock time.
func clock(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.Local().Format("15:04:05")
}
