package main

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// exchange is where the operator's exchange of one code stands.
type exchange int

const (
	exchangePending exchange = iota
	// exchangeDone: the code is spent and the FigmaToken is Ready with the token it brought.
	exchangeDone
	// exchangeFailed: the operator tried this code and a person must act (Stalled).
	exchangeFailed
)

// exchangeOutcome reads the exchange of the code whose Fingerprint is codeHash from the
// FigmaToken and its Secret, both read after the code was written. The operator removes
// the code in the write that stores the refresh token, and mirrors that write's
// refreshed-at into status.lastRefreshTime; a failed attempt records the code's Fingerprint
// in status.failedCredentialHash. A transient failure (Reconciling) stays pending: the
// operator retries it.
func exchangeOutcome(ft *figmav1alpha1.FigmaToken, secret *corev1.Secret, codeHash string) exchange {
	if secret == nil {
		return exchangePending
	}
	if tokensecret.Fingerprint(string(ft.UID), tokensecret.Text(secret, figmav1alpha1.SecretKeyCode)) == codeHash {
		if ft.Status.FailedAttempts > 0 && ft.Status.FailedCredentialHash == codeHash &&
			holding(ft.Status.Conditions, figmav1alpha1.ConditionStalled) != nil {
			return exchangeFailed
		}
		return exchangePending
	}
	written := tokensecret.ReadRecord(secret.Annotations).RefreshedAt
	if isReady(ft) && ft.Status.LastRefreshTime != nil && !written.IsZero() && ft.Status.LastRefreshTime.Time.Equal(written) {
		return exchangeDone
	}
	return exchangePending
}

// awaitExchange polls the FigmaToken and its Secret until the operator has exchanged the
// code or timeout passes, and prints the outcome. Only the outcome is printed, never the
// Secret's values.
func (s *session) awaitExchange(ctx context.Context, out io.Writer, ft *figmav1alpha1.FigmaToken, h handover, timeout time.Duration) error {
	fmt.Fprintf(out, "Waiting up to %s for the operator to exchange the code ...\n", shortDuration(timeout))
	codeHash := tokensecret.Fingerprint(string(ft.UID), h.code)
	key := client.ObjectKeyFromObject(ft)
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		latest := &figmav1alpha1.FigmaToken{}
		secret := &corev1.Secret{}
		if s.client.Get(wait, key, latest) == nil {
			ft = latest
			if s.client.Get(wait, client.ObjectKey{Namespace: h.namespace, Name: h.secret}, secret) != nil {
				secret = nil
			}
			switch exchangeOutcome(ft, secret, codeHash) {
			case exchangeDone:
				fmt.Fprintf(out, "%s/%s: connected: %s\n", h.namespace, h.name, verdict(ft, time.Now()))
				return nil
			case exchangeFailed:
				fmt.Fprintf(out, "%s/%s: the operator could not exchange the code: %s\n", h.namespace, h.name, verdict(ft, time.Now()))
				fmt.Fprintf(out, "Once that is fixed, start again: kubectl figmatoken connect %s -n %s --client %s/%s\n", h.name, h.namespace, h.client.Kind, h.client.Name)
				return silentError{fmt.Errorf("the exchange failed")}
			}
		}
		select {
		case <-wait.Done():
			what := fmt.Sprintf("not exchanged within %s", shortDuration(timeout))
			if ctx.Err() != nil {
				what = "interrupted before the exchange"
			}
			fmt.Fprintf(out, "%s/%s: %s: %s\n", h.namespace, h.name, what, verdict(ft, time.Now()))
			fmt.Fprintf(out, "Check that the operator runs and watches namespace %s (kubectl figmatoken status %s -n %s shows its conditions and Events). "+
				"The code stays in Secret %s until it is exchanged, but Figma's codes expire within minutes: once fixed, run connect again.\n",
				h.namespace, h.name, h.namespace, h.secret)
			return silentError{fmt.Errorf("the exchange was not done")}
		case <-ticker.C:
		}
	}
}
