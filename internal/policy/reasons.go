package policy

import (
	corev1 "k8s.io/api/core/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/schedule"
)

// Rule is what a reason means: which condition it sets besides Ready, the Event it is
// reported with, and, for the failures of a refresh attempt, its backoff schedule and the
// result it counts as in figmatoken_refresh_total.
type Rule struct {
	// Blocker reasons stop refreshes until something changes; the others are failures of
	// an attempt, retried on Backoff.
	Blocker bool
	// Stalled: nothing will improve without a person. Reconciling: retries will pass it.
	Stalled, Reconciling bool
	// EventType and EventReason of the Event that reports it; "" for none.
	EventType, EventReason string
	Backoff                schedule.Failure
	// Metric is the refresh_total result of a failed attempt; "" for blockers.
	Metric string
	// Fight: a fight with another writer (SecretOverwritten), neither a blocker nor a
	// failed attempt; it ends by itself.
	Fight bool
	// KeepsReady: Ready reports the token's own state (Expired, Pending) rather than this
	// reason when there is no valid token, because the reason is about a write, not the token.
	KeepsReady bool
}

// Results of figmatoken_refresh_total.
const (
	ResultSuccess  = "success"
	ResultError    = "error"
	ResultRejected = "rejected"
)

// Reasons is the one table of what each problem reason means.
var Reasons = map[string]Rule{
	figmav1alpha1.ReasonSuspended: {Blocker: true},
	figmav1alpha1.ReasonSecretNotFound: {Blocker: true, Stalled: true,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonSecretNotFound},
	figmav1alpha1.ReasonSecretConflict: {Blocker: true, Stalled: true,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonSecretConflict},
	figmav1alpha1.ReasonSecretOverwritten: {Fight: true, Stalled: true,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonSecretOverwritten},
	figmav1alpha1.ReasonRefreshTokenMissing: {Blocker: true, Stalled: true,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonRefreshTokenMissing},
	// Found before any call: the client may not be used (or the Amplify upstream is off).
	figmav1alpha1.ReasonOAuthClientNotReady: {Blocker: true, Stalled: true,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonOAuthClientNotReady},
	// The platform team fixes the client or its Secret; a change there is retried at once.
	figmav1alpha1.ReasonOAuthClientRejected: {Stalled: true, Backoff: schedule.Transient, Metric: ResultRejected,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonOAuthClientRejected},
	figmav1alpha1.ReasonRefreshRejected: {Stalled: true, Backoff: schedule.Rejected, Metric: ResultRejected,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonRefreshRejected},
	// An administrator fixes IAM outside the cluster, so it is retried on the transient schedule.
	figmav1alpha1.ReasonAWSAccessDenied: {Stalled: true, Backoff: schedule.Transient, Metric: ResultError,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonAWSAccessDenied},
	figmav1alpha1.ReasonRefreshFailed: {Reconciling: true, Backoff: schedule.Transient, Metric: ResultError,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonRefreshFailed},
	// A failed write is reported as a failed refresh: the new token did not arrive.
	figmav1alpha1.ReasonSecretWriteFailed: {Reconciling: true, Backoff: schedule.Transient, KeepsReady: true,
		EventType: corev1.EventTypeWarning, EventReason: figmav1alpha1.ReasonRefreshFailed},
}

// IsFailure reports whether reason is one a refresh attempt can fail with.
func IsFailure(reason string) bool {
	rule, ok := Reasons[reason]
	return ok && !rule.Blocker && !rule.Fight
}
