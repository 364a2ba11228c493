package controllers

import (
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// observation is everything a reconcile knows before it acts: the FigmaToken, what its
// Secret says, and the failure streak so far. It is gathered by observe and read by decide.
type observation struct {
	now        time.Time
	self       string // the FigmaToken's name, as written in the owner annotation
	uid        string
	generation int64

	suspended     bool
	refreshBefore time.Duration
	// request is the refresh-requested-at annotation, "" when absent.
	request string

	secretFound bool
	claim       tokensecret.Verdict
	// refreshTokenHash is the Fingerprint of the refresh token in the Secret, "" when missing.
	refreshTokenHash string
	// codeHash is the Fingerprint of the authorization code the Secret holds instead of a
	// refresh token (with a redirect URI), "" when none.
	codeHash       string
	accessTokenSet bool
	record         tokensecret.Record

	failure failureState
}

// failureState is the current streak of failed refreshes; Attempts is 0 when none.
type failureState struct {
	Attempts int32
	Last     time.Time
	// Reason is RefreshFailed, AWSAccessDenied, RefreshRejected or SecretWriteFailed.
	Reason  string
	Message string
	// Generation, RefreshTokenHash and Request are the inputs of the failed attempt: a
	// change of any of them is worth an immediate retry. RefreshTokenHash is the credential
	// used (refresh token or code), "" when unknown.
	Generation       int64
	RefreshTokenHash string
	Request          string
}

// owned reports whether the Secret's record was written by this FigmaToken.
func (o observation) owned() bool { return o.record.Owner == o.self }

// valid reports whether the Secret holds an unexpired access token written by this FigmaToken.
func (o observation) valid() bool {
	return o.owned() && o.accessTokenSet && o.record.ExpiresAt.After(o.now)
}

// requestPending reports whether refresh-requested-at holds a value not yet acted on.
func (o observation) requestPending() bool {
	return o.request != "" && o.request != o.record.HandledRefreshRequest && o.request != o.failure.Request
}

// credentialHash is the Fingerprint of what a refresh would send: the refresh token, else
// the authorization code.
func (o observation) credentialHash() string {
	if o.refreshTokenHash != "" {
		return o.refreshTokenHash
	}
	return o.codeHash
}

// scheduledRefresh is when the current token is due, by the timing rules.
func (o observation) scheduledRefresh() time.Time {
	return schedule.NextRefresh(o.record.RefreshedAt, o.record.ExpiresAt, o.refreshBefore, o.uid)
}

// decision is what a reconcile does: call upstream now, or wait.
type decision struct {
	// blocker is the reason no refresh can happen until something changes (Suspended,
	// SecretNotFound, SecretConflict, RefreshTokenMissing), "" when none.
	blocker string
	refresh bool
	// next is when the next refresh is planned; zero when none is (blocked).
	next time.Time
}

// decide is the refresh policy. It calls upstream only when there is no valid token, the
// schedule says so, the refresh token changed, or a new refresh was requested; during a
// failure streak it waits out the backoff unless one of the attempt's inputs changed.
func decide(o observation) decision {
	switch {
	case o.suspended:
		return decision{blocker: figmav1alpha1.ReasonSuspended}
	case !o.secretFound:
		return decision{blocker: figmav1alpha1.ReasonSecretNotFound}
	case !o.claim.Allowed:
		return decision{blocker: figmav1alpha1.ReasonSecretConflict}
	case o.credentialHash() == "":
		return decision{blocker: figmav1alpha1.ReasonRefreshTokenMissing}
	}

	if f := o.failure; f.Attempts > 0 {
		inputsChanged := o.generation != f.Generation || o.requestPending() ||
			(f.RefreshTokenHash != "" && f.RefreshTokenHash != o.credentialHash())
		retryAt := f.Last.Add(schedule.Backoff(failureSchedule(f.Reason), f.Attempts, o.uid))
		if inputsChanged || !o.now.Before(retryAt) {
			return decision{refresh: true}
		}
		return decision{next: retryAt}
	}

	tokenChanged := o.owned() && o.record.RefreshTokenHash != o.refreshTokenHash
	if !o.valid() || tokenChanged || o.requestPending() {
		return decision{refresh: true}
	}
	next := o.scheduledRefresh()
	if !o.now.Before(next) {
		return decision{refresh: true}
	}
	return decision{next: next}
}

// failureSchedule picks the backoff schedule of a failure reason.
func failureSchedule(reason string) schedule.Failure {
	if reason == figmav1alpha1.ReasonRefreshRejected {
		return schedule.Rejected
	}
	return schedule.Transient
}
