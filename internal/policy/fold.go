package policy

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// Outcome is what one act of a reconcile did, as a value: Fold takes it into the
// observation. The zero value is an act that changed nothing.
type Outcome struct {
	// Conflict: a Secret changed since it was read; the reconcile looks again, and Failure
	// (the write's) counts only when it has looked often enough.
	Conflict bool
	// Failure is a failed upstream call or Secret write (Reason, Message, Last, RetryAfter);
	// Fold extends the streak with the attempt's inputs.
	Failure *Failure
	// Wrote is the record a refresh's token was written with. Restored: that token was the
	// kept one, put back after another writer's overwrite (no news). Exchanged: the upstream
	// returned a refresh token with it (an authorization code exchanged, or a rotation).
	Wrote               *tokensecret.Record
	Restored, Exchanged bool
	// Adopted is the record of a token an earlier version wrote, now with its
	// access-token-hash.
	Adopted *tokensecret.Record
	// Reshaped: the source Secret holds the token as the spec's keys ask.
	Reshaped bool
	// SecretVersion is the resourceVersion at which the Secret holds exactly its record
	// after this act; "" when unknown.
	SecretVersion string
	// InFlight is the note of the requested refresh written before the call.
	InFlight *tokensecret.InFlight
	// Suspended: spec.suspend was set during the upstream call; the token is kept, not written.
	Suspended bool
	// RestartedFor is the token every rollout restart target has the stamp of now.
	RestartedFor time.Time
	// Kept and Overwrites are the Secret writer's ledger after the act.
	Kept       *Kept
	Overwrites *Overwrites
}

// Event is a Kubernetes Event to record on the FigmaToken; the zero value is none.
type Event struct {
	Type, Reason, Action, Message string
}

// Fold takes what an act did into the observation; it is the only change to an observation
// after Observe made it. It returns the Event the change is worth: every failed attempt,
// and a refresh only when it changes the state (the first token, a recovery, a requested
// refresh, an exchanged code): routine refreshes go without one, at a quarter of the API
// requests a refresh costs.
func Fold(o Observation, out Outcome) (Observation, Event) {
	var ev Event
	if out.Overwrites != nil {
		o.Overwrites = *out.Overwrites
	}
	if out.Kept != nil {
		o.Kept = *out.Kept
	}
	if out.InFlight != nil {
		o.InFlight = *out.InFlight
	}
	if out.Suspended {
		o.Suspended = true
	}
	if f := out.Failure; f != nil {
		o.Failure = o.extend(*f)
		rule := Reasons[f.Reason]
		ev = Event{Type: rule.EventType, Reason: rule.EventReason, Action: "Refresh", Message: f.Message}
	}
	if rec := out.Wrote; rec != nil {
		announce := !o.ReadyBefore || o.Failure.Attempts > 0 || o.RequestPending() || o.RefreshTokenHash == ""
		if announce && !out.Restored {
			how := "Refreshed"
			if out.Exchanged && o.CodeHash != "" { // not a rotation: the Secret held a code
				how = "Exchanged the authorization code for a refresh token and"
			}
			ev = Event{Type: corev1.EventTypeNormal, Reason: figmav1alpha1.ReasonRefreshed, Action: "Refresh",
				Message: fmt.Sprintf("%s the access token in Secret %s; it expires at %s.", how, o.DestinationName(), formatTime(rec.ExpiresAt))}
		}
		o.Record, o.AccessTokenSet, o.TokenHeld, o.Adopt, o.Failure = *rec, true, true, false, Failure{}
		o.WroteBefore = true
		if out.Exchanged {
			// The same write stored the refresh token the answer brought and removed the code:
			// the next decision plans a refresh with it instead of taking it for a new one.
			o.RefreshTokenHash, o.CodeHash = rec.RefreshTokenHash, ""
		}
	}
	if rec := out.Adopted; rec != nil {
		o.Record, o.Adopt, o.TokenHeld = *rec, false, true
		o.RestartedFor = rec.RefreshedAt
	}
	if out.Reshaped {
		o.OutOfShape, o.AccessTokenSet = false, true
	}
	if out.SecretVersion != "" {
		o.SecretVersion = out.SecretVersion
	}
	if !out.RestartedFor.IsZero() {
		o.RestartedFor = out.RestartedFor
	}
	return o, ev
}

// extend makes f the next failure of the streak: its count, and the inputs of the attempt
// (a change of any of them is worth an immediate retry).
func (o Observation) extend(f Failure) Failure {
	f.Attempts = o.Failure.Attempts + 1
	if f.Last.IsZero() {
		f.Last = o.Now
	}
	f.Generation = o.Generation
	f.CredentialHash = o.CredentialHash()
	f.Request = o.Request
	f.Client = o.Route.Version
	if f.Request == "" {
		f.Request = o.Failure.Request
	}
	return f
}
