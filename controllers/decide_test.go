package controllers

import (
	"testing"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

var now = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

// healthy is a FigmaToken whose Secret holds a one-hour token obtained at 10:00.
func healthy() observation {
	return observation{
		now: now, self: "ft", uid: "uid-1", generation: 1,
		secretFound: true, claim: tokensecret.Verdict{Allowed: true},
		refreshTokenHash: "hash-1", accessTokenSet: true,
		record: tokensecret.Record{
			Owner:            "ft",
			RefreshedAt:      now.Add(-30 * time.Minute),
			ExpiresAt:        now.Add(30 * time.Minute),
			RefreshTokenHash: "hash-1",
		},
	}
}

func with(o observation, change func(*observation)) observation {
	change(&o)
	return o
}

func failing(reason string, attempts int32, ago time.Duration) func(*observation) {
	return func(o *observation) {
		o.failure = failureState{Attempts: attempts, Last: now.Add(-ago), Reason: reason, Generation: 1, RefreshTokenHash: "hash-1"}
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		obs         observation
		wantRefresh bool
		wantBlocker string
	}{
		{"token valid and not yet due: wait", healthy(), false, ""},
		{"due by the schedule", with(healthy(), func(o *observation) { o.now = now.Add(15 * time.Minute) }), true, ""},
		{"expired token", with(healthy(), func(o *observation) { o.now = now.Add(time.Hour) }), true, ""},
		{"no token written yet", with(healthy(), func(o *observation) { o.record = tokensecret.Record{}; o.accessTokenSet = false }), true, ""},
		{"access token emptied by someone", with(healthy(), func(o *observation) { o.accessTokenSet = false }), true, ""},
		{"record written by a FigmaToken that moved on", with(healthy(), func(o *observation) { o.record.Owner = "gone" }), true, ""},
		{"refresh token rotated", with(healthy(), func(o *observation) { o.refreshTokenHash = "hash-2" }), true, ""},
		{"new refresh request", with(healthy(), func(o *observation) { o.request = "2026-11-25T10:29:00Z" }), true, ""},
		{"request already handled in the Secret", with(healthy(), func(o *observation) {
			o.request = "r1"
			o.record.HandledRefreshRequest = "r1"
		}), false, ""},
		{"request already handled by a failed attempt", with(healthy(), func(o *observation) {
			o.request = "r1"
			failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)(o)
			o.failure.Request = "r1"
		}), false, ""},
		{"suspended wins over everything", with(healthy(), func(o *observation) { o.suspended = true; o.secretFound = false }), false, figmav1alpha1.ReasonSuspended},
		{"Secret missing", with(healthy(), func(o *observation) { o.secretFound = false }), false, figmav1alpha1.ReasonSecretNotFound},
		{"Secret owned by someone else", with(healthy(), func(o *observation) { o.claim = tokensecret.Verdict{Why: "taken"} }), false, figmav1alpha1.ReasonSecretConflict},
		{"refresh token missing", with(healthy(), func(o *observation) { o.refreshTokenHash = "" }), false, figmav1alpha1.ReasonRefreshTokenMissing},
		{"transient failure within backoff: wait", with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)), false, ""},
		{"transient failure after backoff: retry", with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 1, 6*time.Second)), true, ""},
		{"access denied retries on the transient schedule", with(healthy(), failing(figmav1alpha1.ReasonAWSAccessDenied, 2, 11*time.Second)), true, ""},
		{"rejection waits longer than a transient backoff", with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, 30*time.Second)), false, ""},
		{"rejection retries after its slow backoff", with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, 61*time.Second)), true, ""},
		{"rejection retries at once for a new refresh token", with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *observation) { o.refreshTokenHash = "hash-2" }), true, ""},
		{"rejection retries at once for a new spec", with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *observation) { o.generation = 2 }), true, ""},
		{"rejection retries at once for a new request", with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *observation) { o.request = "r2" }), true, ""},
		{"an authorization code instead of a refresh token: exchange it", with(healthy(), func(o *observation) {
			o.refreshTokenHash, o.codeHash = "", "code-1"
			o.record, o.accessTokenSet = tokensecret.Record{}, false
		}), true, ""},
		{"a refused code waits", with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)), func(o *observation) {
			o.refreshTokenHash, o.codeHash, o.failure.RefreshTokenHash = "", "code-1", "code-1"
		}), false, ""},
		{"a new code is tried at once", with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)), func(o *observation) {
			o.refreshTokenHash, o.codeHash, o.failure.RefreshTokenHash = "", "code-2", "code-1"
		}), true, ""},
		{"rejection after a restart (token of the attempt unknown) waits", with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *observation) { o.failure.RefreshTokenHash = "" }), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.obs)
			if got.refresh != tt.wantRefresh || got.blocker != tt.wantBlocker {
				t.Fatalf("decide = %+v, want refresh=%v blocker=%q", got, tt.wantRefresh, tt.wantBlocker)
			}
			if !got.refresh && got.blocker == "" && !got.next.After(tt.obs.now) {
				t.Fatalf("waiting without a future wake-up: next=%v", got.next)
			}
		})
	}
}

func TestWakeAfterTurnsReadyFalseAtExpiryWhenBlocked(t *testing.T) {
	o := with(healthy(), func(o *observation) { o.refreshTokenHash = "" })
	if got := wakeAfter(o, decide(o)); got != 30*time.Minute {
		t.Fatalf("wakeAfter = %v, want the 30m until expiry", got)
	}
	o.secretFound = false
	o.accessTokenSet = false
	if got := wakeAfter(o, decide(o)); got != 0 {
		t.Fatalf("wakeAfter = %v for a missing Secret, want 0 (wait for the watch)", got)
	}
}
