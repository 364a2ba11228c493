package policy

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

func TestConditions(t *testing.T) {
	lapsed := func(o *Observation) { o.Now = now.Add(time.Hour) }
	noToken := func(o *Observation) { o.Record, o.AccessTokenSet, o.TokenHeld = tokensecret.Record{}, false, false }
	tests := []struct {
		name            string
		obs             Observation
		wantReady       metav1.ConditionStatus
		wantReason      string
		wantMessage     string
		wantStalled     bool
		wantReconciling bool
	}{
		{name: "fresh token", obs: healthy(), wantReady: metav1.ConditionTrue, wantReason: figmav1alpha1.ReasonRefreshed,
			wantMessage: "The Secret holds an access token valid until 2026-11-25T11:00:00Z."},
		{name: "still usable while a refresh is failing", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)),
			wantReady: metav1.ConditionTrue, wantReason: figmav1alpha1.ReasonRefreshed, wantReconciling: true},
		{name: "still usable while rejected", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)),
			wantReady: metav1.ConditionTrue, wantReason: figmav1alpha1.ReasonRefreshed, wantStalled: true},
		{name: "still usable while the source Secret is missing (target mode)", obs: with(healthy(), func(o *Observation) { o.SecretFound, o.TargetName = false, "access" }),
			wantReady: metav1.ConditionTrue, wantReason: figmav1alpha1.ReasonRefreshed, wantStalled: true},
		{name: "rejected without a token", obs: with(with(healthy(), noToken), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)),
			wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonRefreshRejected, wantMessage: "RefreshRejected message", wantStalled: true},
		{name: "access denied stalls", obs: with(with(healthy(), noToken), failing(figmav1alpha1.ReasonAWSAccessDenied, 1, time.Second)),
			wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonAWSAccessDenied, wantMessage: "AWSAccessDenied message", wantStalled: true},
		{name: "Secret missing", obs: with(with(healthy(), noToken), func(o *Observation) { o.SecretFound = false }),
			wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonSecretNotFound,
			wantMessage: "Secret creds not found in namespace web: create it with the Figma refresh token under key refreshToken.", wantStalled: true},
		{name: "suspended without a token is neither stalled nor reconciling", obs: with(with(healthy(), noToken), func(o *Observation) { o.Suspended = true }),
			wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonSuspended, wantMessage: "spec.suspend is true: no refreshes until it is false."},
		{name: "a write failure reports the token's state", obs: with(with(healthy(), lapsed), failing(figmav1alpha1.ReasonSecretWriteFailed, 1, time.Second)),
			wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonExpired,
			wantMessage: "The access token expired at 2026-11-25T11:00:00Z and has not been refreshed yet.", wantReconciling: true},
		{name: "lapsed token", obs: with(healthy(), lapsed), wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonExpired,
			wantMessage: "The access token expired at 2026-11-25T11:00:00Z and has not been refreshed yet."},
		{name: "nothing yet", obs: with(healthy(), noToken), wantReady: metav1.ConditionFalse, wantReason: figmav1alpha1.ReasonPending,
			wantMessage: "Waiting for the first refresh."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Start from stale conditions: the ones that no longer hold must go.
			conds := []metav1.Condition{
				{Type: figmav1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Old"},
				{Type: figmav1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "Old"},
			}
			Decide(tt.obs).SetConditions(&conds, 7)
			ready := meta.FindStatusCondition(conds, figmav1alpha1.ConditionReady)
			if ready.Status != tt.wantReady || ready.Reason != tt.wantReason || ready.ObservedGeneration != 7 {
				t.Fatalf("Ready = %+v, want %s/%s", ready, tt.wantReady, tt.wantReason)
			}
			if tt.wantMessage != "" && ready.Message != tt.wantMessage {
				t.Fatalf("Ready message %q, want %q", ready.Message, tt.wantMessage)
			}
			if got := meta.IsStatusConditionTrue(conds, figmav1alpha1.ConditionStalled); got != tt.wantStalled {
				t.Fatalf("Stalled = %v, want %v", got, tt.wantStalled)
			}
			if got := meta.IsStatusConditionTrue(conds, figmav1alpha1.ConditionReconciling); got != tt.wantReconciling {
				t.Fatalf("Reconciling = %v, want %v", got, tt.wantReconciling)
			}
			for _, c := range conds {
				if c.ObservedGeneration != 7 {
					t.Fatalf("condition %s has observedGeneration %d", c.Type, c.ObservedGeneration)
				}
			}
		})
	}
}
