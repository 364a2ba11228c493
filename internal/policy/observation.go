package policy

import (
	"time"

	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// Observation is everything a reconcile knows before it acts: the FigmaToken, what its
// Secrets say, and the failure streak so far.
type Observation struct {
	Now        time.Time
	Self       string // the FigmaToken's name, as written in the owner annotation
	UID        string
	Generation int64

	Suspended     bool
	RefreshBefore time.Duration
	// Request is the refresh-requested-at annotation, "" when absent.
	Request string
	// Namespace, SecretName and RefreshTokenKey locate spec.secretRef; TargetName is
	// spec.target.name, "" without a target. They name things in messages.
	Namespace, SecretName, RefreshTokenKey, TargetName string
	// RestartTargets is how many workloads spec.rolloutRestartTargets lists.
	RestartTargets int

	SecretFound bool
	// Claim says whether this FigmaToken may write the Secret that receives the token.
	Claim tokensecret.Verdict
	// RefreshTokenHash is the Fingerprint of the refresh token in the Secret, "" when missing.
	RefreshTokenHash string
	// CodeHash is the Fingerprint of the authorization code the Secret holds instead of a
	// refresh token (with a redirect URI), "" when none.
	CodeHash       string
	AccessTokenSet bool
	// Record is what the Secret that receives the token says about the last refresh.
	Record tokensecret.Record
	// SecretVersion is the resourceVersion at which the Secret is known to hold exactly what
	// Record says (this FigmaToken wrote it); "" when unknown. Status keeps it.
	SecretVersion string

	Failure Failure
}

// Failure is the current streak of failed refreshes; Attempts is 0 when none.
type Failure struct {
	Attempts int32
	Last     time.Time
	// Reason is one of the failure reasons of the Reasons table.
	Reason  string
	Message string
	// Generation, CredentialHash and Request are the inputs of the failed attempt: a change
	// of any of them is worth an immediate retry. CredentialHash is the Fingerprint of the
	// refresh token or code sent, "" when unknown.
	Generation     int64
	CredentialHash string
	Request        string
}

// Owned reports whether the Secret's record was written by this FigmaToken.
func (o Observation) Owned() bool { return o.Record.Owner == o.Self }

// Valid reports whether the Secret holds an unexpired access token written by this FigmaToken.
func (o Observation) Valid() bool {
	return o.Owned() && o.AccessTokenSet && o.Record.ExpiresAt.After(o.Now)
}

// RequestPending reports whether refresh-requested-at holds a value not yet acted on.
func (o Observation) RequestPending() bool {
	return o.Request != "" && o.Request != o.Record.HandledRefreshRequest && o.Request != o.Failure.Request
}

// CredentialHash is the Fingerprint of what a refresh would send: the refresh token, else
// the authorization code.
func (o Observation) CredentialHash() string {
	if o.RefreshTokenHash != "" {
		return o.RefreshTokenHash
	}
	return o.CodeHash
}

// ScheduledRefresh is when the current token is due, by the timing rules.
func (o Observation) ScheduledRefresh() time.Time {
	return schedule.NextRefresh(o.Record.RefreshedAt, o.Record.ExpiresAt, o.RefreshBefore, o.UID)
}
