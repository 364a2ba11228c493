package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func TestSetConditions(t *testing.T) {
	expiry := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		valid           bool
		expiresAt       time.Time
		p               problem
		wantReady       metav1.ConditionStatus
		wantReason      string
		wantStalled     bool
		wantReconciling bool
	}{
		{"fresh token", true, expiry, problem{}, metav1.ConditionTrue, figmav1alpha1.ReasonRefreshed, false, false},
		{"still usable while a refresh is failing", true, expiry, problem{figmav1alpha1.ReasonRefreshFailed, "m"}, metav1.ConditionTrue, figmav1alpha1.ReasonRefreshed, false, true},
		{"still usable while rejected", true, expiry, problem{figmav1alpha1.ReasonRefreshRejected, "m"}, metav1.ConditionTrue, figmav1alpha1.ReasonRefreshed, true, false},
		{"rejected without a token", false, time.Time{}, problem{figmav1alpha1.ReasonRefreshRejected, "m"}, metav1.ConditionFalse, figmav1alpha1.ReasonRefreshRejected, true, false},
		{"access denied stalls", false, time.Time{}, problem{figmav1alpha1.ReasonAWSAccessDenied, "m"}, metav1.ConditionFalse, figmav1alpha1.ReasonAWSAccessDenied, true, false},
		{"Secret missing", false, time.Time{}, problem{figmav1alpha1.ReasonSecretNotFound, "m"}, metav1.ConditionFalse, figmav1alpha1.ReasonSecretNotFound, true, false},
		{"suspended without a token is neither stalled nor reconciling", false, time.Time{}, problem{figmav1alpha1.ReasonSuspended, "m"}, metav1.ConditionFalse, figmav1alpha1.ReasonSuspended, false, false},
		{"write failure reports the token's state", false, expiry, problem{figmav1alpha1.ReasonSecretWriteFailed, "m"}, metav1.ConditionFalse, figmav1alpha1.ReasonExpired, false, true},
		{"lapsed token", false, expiry, problem{}, metav1.ConditionFalse, figmav1alpha1.ReasonExpired, false, false},
		{"nothing yet", false, time.Time{}, problem{}, metav1.ConditionFalse, figmav1alpha1.ReasonPending, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Start from stale conditions: the ones that no longer hold must go.
			conds := []metav1.Condition{
				{Type: figmav1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Old"},
				{Type: figmav1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "Old"},
			}
			setConditions(&conds, 7, tt.valid, tt.expiresAt, tt.p)
			ready := meta.FindStatusCondition(conds, figmav1alpha1.ConditionReady)
			if ready.Status != tt.wantReady || ready.Reason != tt.wantReason || ready.ObservedGeneration != 7 {
				t.Fatalf("Ready = %+v, want %s/%s", ready, tt.wantReady, tt.wantReason)
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
