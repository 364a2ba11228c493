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
	// RefreshInterval is spec.refreshInterval, 0 when unset: refresh at least this often.
	RefreshInterval time.Duration
	// Request is the refresh-requested-at annotation, "" when absent.
	Request string
	// Namespace, SecretName and RefreshTokenKey locate spec.secretRef; TargetName is
	// spec.target.name, "" without a target. They name things in messages.
	Namespace, SecretName, RefreshTokenKey, TargetName string
	// AccessTokenKey is spec.secretRef.accessTokenKey, for messages.
	AccessTokenKey string
	// RestartTargets is how many workloads spec.rolloutRestartTargets lists.
	RestartTargets int

	SecretFound bool
	// SourceIsTarget: the source Secret carries this FigmaToken's target-of mark. It was
	// created as a target and holds the refresh token now: the mark and the ownerReference
	// must go, or the garbage collector deletes it with the FigmaToken.
	SourceIsTarget bool
	// InFlight is the source Secret's note of a requested refresh being answered, by this
	// instance or another (a shard the FigmaToken moved from); zero when none.
	InFlight tokensecret.InFlight
	// Claim says whether this FigmaToken may write the Secret that receives the token.
	Claim tokensecret.Verdict
	// RefreshTokenHash is the Fingerprint of the refresh token in the Secret, "" when missing.
	RefreshTokenHash string
	// CodeHash is the Fingerprint of the authorization code the Secret holds instead of a
	// refresh token (with a redirect URI), "" when none.
	CodeHash string
	// AccessTokenSet: the access token key holds a value, whoever wrote it.
	AccessTokenSet bool
	// TokenHeld: the Secret that receives the token holds the token its record was
	// written with (the access-token-hash matches), or one adopted from an earlier version.
	TokenHeld bool
	// OutOfShape: the source Secret holds the token, but not as the spec's keys ask (a new
	// accessTokenKey, an expiresAtKey set): a sync moves it, no upstream call.
	OutOfShape bool
	// Adopt: the token held was written by an earlier version of the operator, without
	// an access-token-hash (or with one for another refreshed-at): add the hash, no call.
	Adopt bool
	// WroteBefore: this FigmaToken wrote its token to that Secret (its status or the Secret
	// writer says so), so a Secret without it was overwritten by another writer.
	WroteBefore bool
	// Record is what the Secret that receives the token says about the last refresh.
	Record tokensecret.Record
	// SecretVersion is the resourceVersion at which the Secret is known to hold exactly what
	// Record says (this FigmaToken wrote it); "" when unknown. Status keeps it.
	SecretVersion string
	// RestartedFor is the refreshed-at of the token the rollout restart targets were last
	// restarted for (status); zero when none.
	RestartedFor time.Time

	// Route is the upstream and OAuth client a refresh would go through.
	Route Route

	Failure Failure
	// Kept is the token this process obtained and keeps; zero when none.
	Kept Kept
	// Overwrites is what other writers did to the token lately.
	Overwrites Overwrites
	// ReadyBefore: status showed Ready True when the reconcile began.
	ReadyBefore bool
}

// Kept is an obtained token as the reconciler keeps it (never the token itself): the inputs
// it was obtained for and its times.
type Kept struct {
	// CredentialHash and Request are the refresh token (or code) sent and the
	// refresh-requested-at value answered.
	CredentialHash, Request string
	RefreshedAt, ExpiresAt  time.Time
	// Written: the token reached the Secret once; writing it again restores, it is not new.
	Written bool
}

// Route is the upstream and OAuth client a FigmaToken refreshes through, as policy sees it
// (never the client secret).
type Route struct {
	// Client names the OAuth client for messages, e.g. "FigmaOAuthClient design-app"; ""
	// for the Amplify upstream with spec.clientId.
	Client string
	// Blocked is why no call can go through it, found before any call:
	// OAuthClientNotReady, or AWSAccessDenied when the Amplify upstream is off; "" when
	// usable. Message says what is wrong and what to do.
	Blocked, Message string
	// Version fingerprints the client object and its Secret's version: a change retries a
	// refresh the client's credentials failed, at once. "" without a client.
	Version string
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
	// Client is the Route.Version the attempt was made with.
	Client string
	// RetryAfter is when the upstream allows the next request (its Retry-After); zero for
	// none. Nothing, not even a changed input, calls before it.
	RetryAfter time.Time
}

// DestinationName is the Secret that receives the access token: the target, else the source.
func (o Observation) DestinationName() string {
	if o.TargetName != "" {
		return o.TargetName
	}
	return o.SecretName
}

// Owned reports whether the Secret's record was written by this FigmaToken.
func (o Observation) Owned() bool { return o.Record.Owner == o.Self }

// Valid reports whether the Secret holds an unexpired access token written by this FigmaToken.
func (o Observation) Valid() bool {
	return o.Owned() && o.TokenHeld && o.Record.ExpiresAt.After(o.Now)
}

// Overwritten reports whether another writer took away the token this FigmaToken wrote:
// its value changed, emptied or removed, its record removed, or a target deleted.
func (o Observation) Overwritten() bool {
	return o.WroteBefore && !o.TokenHeld && (o.SecretFound || o.TargetName != "")
}

// Adoptable reports whether a token the Secret holds without a matching access-token-hash
// was written by an earlier version of the operator: the record is this FigmaToken's, for
// the current refresh token, unexpired, and its hash is absent (with a record no older than
// the one this FigmaToken last wrote, lastWritten) or was computed for an earlier
// refreshed-at (an earlier version refreshed after this one wrote, keeping the hash it did
// not know: access-token-hash-for says so, else lastWritten). Adopting it costs no upstream call and restarts nothing.
func (o Observation) Adoptable(lastWritten time.Time) bool {
	r := o.Record
	if !o.Owned() || !o.AccessTokenSet || r.RefreshTokenHash == "" || r.RefreshTokenHash != o.RefreshTokenHash || !r.ExpiresAt.After(o.Now) {
		return false
	}
	if r.AccessTokenHash == "" {
		return lastWritten.IsZero() || !r.RefreshedAt.Before(lastWritten)
	}
	// The Secret says which refreshed-at its hash was computed for: an earlier version
	// refreshed after it. Status cannot say so, as an earlier version writes it too.
	if !r.AccessTokenHashFor.IsZero() {
		return r.RefreshedAt.After(r.AccessTokenHashFor)
	}
	return !lastWritten.IsZero() && r.RefreshedAt.After(lastWritten)
}

// KeptUsable reports whether the kept token answers what a refresh now would ask (the same
// credential and refresh request) and is comfortably unexpired (not yet due for refresh):
// writing it needs no upstream call.
func (o Observation) KeptUsable() bool {
	k := o.Kept
	return !k.ExpiresAt.IsZero() && k.CredentialHash == o.CredentialHash() && k.Request == o.Request &&
		o.Now.Before(o.nextRefresh(k.RefreshedAt, k.ExpiresAt))
}

// RequestPending reports whether refresh-requested-at holds a value not yet acted on.
func (o Observation) RequestPending() bool {
	return o.Request != "" && o.Request != o.Record.HandledRefreshRequest && o.Request != o.Failure.Request
}

// RequestInFlight reports whether the pending refresh request is being answered by a call
// noted in the source Secret that has not yet reached its deadline.
func (o Observation) RequestInFlight() bool {
	return o.RequestPending() && o.InFlight.Request == o.Request && o.Now.Before(o.InFlight.Until)
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
	return o.nextRefresh(o.Record.RefreshedAt, o.Record.ExpiresAt)
}

// nextRefresh is when a token obtained at refreshedAt and expiring at expiresAt is due: by
// its expiry and refreshBefore, or by refreshInterval if that comes first.
func (o Observation) nextRefresh(refreshedAt, expiresAt time.Time) time.Time {
	return schedule.WithInterval(schedule.NextRefresh(refreshedAt, expiresAt, o.RefreshBefore, o.UID), refreshedAt, o.RefreshInterval)
}
