package policy

import (
	"fmt"
	"slices"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/schedule"
)

// OwnerRecheck is how often a FigmaToken refused a Secret that another FigmaToken owns looks
// at that owner again: the owner's deletion in another shard sends this instance no event.
const OwnerRecheck = 30 * time.Second

// InFlightFor is how long a note of a requested refresh in flight holds off other
// instances: the upstream call's 30 s deadline and a margin for the write that follows.
const InFlightFor = 40 * time.Second

// Decision is what a reconcile does and reports.
type Decision struct {
	// Reason and Message are the problem: a blocker, else the failure streak; "" when none.
	Reason, Message string
	// Blocked: Reason is a blocker, found before any call (reported once, when it starts).
	Blocked bool
	// Refresh: call upstream now.
	Refresh bool
	// SyncTarget: bring an owned target Secret back to spec.target (no upstream call).
	// SyncSource: bring the source Secret to the spec's keys with the token it holds.
	// PruneTargets: delete the target Secrets spec.target no longer names.
	// RestartWorkloads: stamp spec.rolloutRestartTargets for the current token.
	SyncTarget, SyncSource, PruneTargets, RestartWorkloads bool
	// Adopt: add the access-token-hash to a token an earlier version wrote (no upstream call).
	Adopt bool
	// ReleaseSource: take the target-of mark and the ownerReference off the source Secret,
	// a former target; also while suspended, as it protects the refresh token.
	ReleaseSource bool
	// Next is when the next refresh is planned (status.nextRefreshTime); zero when blocked.
	Next time.Time
	// Wake is when to reconcile again without a watch event: Next or, sooner, the expiry
	// that turns Ready False; zero to wait for a watch event.
	Wake time.Time
	// Ready, ReadyReason and ReadyMessage are the Ready condition; Stalled and Reconciling
	// hold with Reason and Message.
	Ready                     bool
	ReadyReason, ReadyMessage string
	Stalled, Reconciling      bool
}

// Decide is the refresh policy. It calls upstream only when there is no valid token, the
// schedule says so, the refresh token changed, or a new refresh was requested; during a
// failure streak it waits out the backoff unless one of the attempt's inputs changed.
// Nothing is written while suspended.
func Decide(o Observation) Decision {
	d := Decision{
		SyncTarget: !o.Suspended && o.TargetName != "" && o.Claim.Allowed && o.Valid(),
		SyncSource: !o.Suspended && o.TargetName == "" && o.Claim.Allowed && o.Valid() && o.OutOfShape,
		// An old target is deleted only once the new destination holds the token: a failed
		// refresh must never leave no Secret holding it.
		PruneTargets:     !o.Suspended && o.Valid(),
		RestartWorkloads: !o.Suspended && o.RestartTargets > 0 && o.Valid() && o.Record.RefreshedAt.After(o.RestartedFor),
		ReleaseSource:    o.SourceIsTarget,
	}
	var rewriteAt time.Time
	if d.Reason = blocker(o); d.Reason != "" {
		d.Blocked, d.Message = true, blockerMessage(o, d.Reason)
	} else {
		d.Refresh, d.Next = when(o)
		if d.Refresh && waitsForRewrite(o) {
			// A fight: the kept token goes back on the fight's backoff, not at once.
			rewriteAt = o.Overwrites.NextRewrite()
			d.Refresh = false
			d.Next = o.nextRefresh(o.Kept.RefreshedAt, o.Kept.ExpiresAt)
		}
		switch {
		case o.Failure.Attempts > 0:
			d.Reason, d.Message = o.Failure.Reason, o.Failure.Message
		case o.Overwrites.InFight(o.Now, o.Overwritten()):
			d.Reason, d.Message = figmav1alpha1.ReasonSecretOverwritten, FightMessage(o)
		}
		d.Adopt = o.Adopt && !d.Refresh
	}
	d.Wake = earliest(d.Next, rewriteAt)
	if d.Reason == figmav1alpha1.ReasonSecretConflict && o.Claim.Owner != "" {
		// The owner may be deleted or move on in another shard, whose events this instance
		// never sees: look again.
		d.Wake = earliest(d.Wake, o.Now.Add(OwnerRecheck))
	}
	if o.Valid() {
		d.Wake = earliest(d.Wake, o.Record.ExpiresAt)
	}
	// While the token is in place, the fight ends FightWindow after the last overwrite or
	// rewrite: wake then to clear Stalled. While it is not, the rewrite is the wake-up.
	if !o.Overwritten() && o.Overwrites.InFight(o.Now, false) {
		d.Wake = earliest(d.Wake, o.Overwrites.FightEnds())
	}
	d.setConditions(o)
	return d
}

// RequeueAfter is how long from now until Wake, for the reconcile's result: exactly that
// while Wake is ahead, so a refresh due in 300 ms is not put off to the next second; a second
// when Wake has passed without this decision acting on it, so no rule can make a hot loop;
// zero (wait for a watch event) when there is no wake-up.
func (d Decision) RequeueAfter(now time.Time) time.Duration {
	if d.Wake.IsZero() {
		return 0
	}
	if after := d.Wake.Sub(now); after > 0 {
		return after
	}
	return time.Second
}

// waitsForRewrite reports whether a fight holds back writing the kept token. Only what the
// kept token does not answer may write before the fight's next rewrite: a changed refresh
// token, a new refresh request or a due refresh (KeptUsable says so; the Secret's own record
// does not count, as the other writer may have stripped it); and they call upstream anyway.
func waitsForRewrite(o Observation) bool {
	return o.Failure.Attempts == 0 && o.Overwrites.InFight(o.Now, o.Overwritten()) && o.KeptUsable() &&
		o.Now.Before(o.Overwrites.NextRewrite())
}

// latest is the later of two times.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// earliest is the earlier of two times, a zero one counting as none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// blocker is the first reason no refresh can happen until something changes, "" when none.
func blocker(o Observation) string {
	switch {
	case o.Suspended:
		return figmav1alpha1.ReasonSuspended
	case !o.SecretFound:
		return figmav1alpha1.ReasonSecretNotFound
	case !o.Claim.Allowed:
		return figmav1alpha1.ReasonSecretConflict
	case o.CredentialHash() == "":
		return figmav1alpha1.ReasonRefreshTokenMissing
	case o.Route.Blocked != "":
		return o.Route.Blocked
	}
	return ""
}

// when says whether to refresh now and, if not, when.
func when(o Observation) (bool, time.Time) {
	if o.RequestInFlight() && !o.KeptUsable() {
		// Another instance's call answers this request (and brings a token): one value,
		// one call, also during a failure streak. A kept token that answers it (this
		// process's own call, whose write found the Secret changed) is written, no call.
		return false, o.InFlight.Until
	}
	if f := o.Failure; f.Attempts > 0 {
		if o.Now.Before(f.RetryAfter) {
			// The upstream asked to wait: whatever changed meanwhile is handled then, with one call.
			return false, f.RetryAfter
		}
		inputsChanged := o.Generation != f.Generation || o.RequestPending() ||
			(f.CredentialHash != "" && f.CredentialHash != o.CredentialHash()) ||
			(f.Reason == figmav1alpha1.ReasonOAuthClientRejected && f.Client != o.Route.Version)
		retryAt := latest(f.Last.Add(schedule.Backoff(Reasons[f.Reason].Backoff, f.Attempts, o.UID)), f.RetryAfter)
		if inputsChanged || !o.Now.Before(retryAt) {
			return true, time.Time{}
		}
		return false, retryAt
	}
	tokenChanged := o.Owned() && o.Record.RefreshTokenHash != o.RefreshTokenHash
	if !o.Valid() || tokenChanged || o.RequestPending() {
		return true, time.Time{}
	}
	next := o.ScheduledRefresh()
	if !o.Now.Before(next) {
		return true, time.Time{}
	}
	return false, next
}

// blockerMessage says what a blocker means and what to do about it.
func blockerMessage(o Observation, reason string) string {
	switch reason {
	case o.Route.Blocked:
		return o.Route.Message
	case figmav1alpha1.ReasonSuspended:
		return "spec.suspend is true: no refreshes until it is false."
	case figmav1alpha1.ReasonSecretNotFound:
		return fmt.Sprintf("Secret %s not found in namespace %s: create it with the Figma refresh token under key %s.",
			o.SecretName, o.Namespace, o.RefreshTokenKey)
	case figmav1alpha1.ReasonSecretConflict:
		if o.Claim.Immutable && o.TargetName != "" {
			return fmt.Sprintf("Not writing target Secret %s: it is immutable, and the access token is written by an update. Delete it: this FigmaToken creates it again, mutable.", o.TargetName)
		}
		if o.Claim.Immutable {
			return fmt.Sprintf("Not writing Secret %s: it is immutable, and the access token is written by an update. Re-create it without immutable: true, or set spec.target so that this FigmaToken writes the token to a Secret of its own.",
				o.DestinationName())
		}
		if o.TargetName != "" {
			return fmt.Sprintf("Not writing target Secret %s: %s. Delete it so that this FigmaToken creates its own, or set another spec.target.name.",
				o.TargetName, o.Claim.Why)
		}
		return fmt.Sprintf("Not writing Secret %s: %s. To hand it over to this FigmaToken: kubectl annotate secret %s %s=%s --overwrite",
			o.SecretName, o.Claim.Why, o.SecretName, figmav1alpha1.AnnotationOwner, o.Self)
	default: // RefreshTokenMissing
		return fmt.Sprintf("Secret %s has no usable refresh token under key %s (missing, empty or not text): put the Figma refresh token there, or an OAuth authorization code under key %s with its redirect URI under key %s.",
			o.SecretName, o.RefreshTokenKey, figmav1alpha1.SecretKeyCode, figmav1alpha1.SecretKeyRedirectURI)
	}
}

// FightMessage says who overwrites the token, what the operator does meanwhile and how to
// end the fight.
func FightMessage(o Observation) string {
	return fmt.Sprintf("%s overwrote the access token in Secret %s %d times within %s: the operator writes its token back on a backoff (next at %s), without calling upstream. "+
		"To end this, move the token to spec.target, or stop the other writer from managing key %s and the %s annotations (Argo CD: ignoreDifferences with RespectIgnoreDifferences=true; Flux: kustomize.toolkit.fluxcd.io/ssa: IfNotPresent); see docs/gitops.md.",
		writer(o.Overwrites.Writer), o.DestinationName(), FightAfter, FightWindow, formatTime(o.Overwrites.NextRewrite()),
		o.AccessTokenKey, figmav1alpha1.AnnotationPrefix)
}

// writer names another writer as Overwrites.Writer describes it.
func writer(who string) string {
	if who == "" {
		return "Another writer"
	}
	return "Another writer (" + who + ")"
}

// setConditions fills in Ready, Stalled and Reconciling. Ready is True while the Secret holds
// a valid token, whatever else is wrong; otherwise it takes the problem's reason or, without
// one (or for a failed write), the token's own state.
func (d *Decision) setConditions(o Observation) {
	rule := Reasons[d.Reason]
	d.Stalled, d.Reconciling = rule.Stalled, rule.Reconciling
	overwrittenFirst := o.Overwritten() && readyBefore(figmav1alpha1.ReasonSecretOverwritten, d.Reason)
	switch {
	case o.Valid():
		d.Ready, d.ReadyReason = true, figmav1alpha1.ReasonRefreshed
		d.ReadyMessage = fmt.Sprintf("The Secret holds an access token valid until %s.", formatTime(o.Record.ExpiresAt))
	case d.Reason != "" && !rule.KeepsReady && !overwrittenFirst:
		d.ReadyReason, d.ReadyMessage = d.Reason, d.Message
	case o.Overwritten():
		d.ReadyReason = figmav1alpha1.ReasonSecretOverwritten
		d.ReadyMessage = fmt.Sprintf("%s replaced the access token in Secret %s; the operator writes its token back.",
			writer(o.Overwrites.Writer), o.DestinationName())
	case o.Owned() && o.TokenHeld && !o.Record.ExpiresAt.IsZero():
		d.ReadyReason = figmav1alpha1.ReasonExpired
		d.ReadyMessage = fmt.Sprintf("The access token expired at %s and has not been refreshed yet.", formatTime(o.Record.ExpiresAt))
	default:
		d.ReadyReason, d.ReadyMessage = figmav1alpha1.ReasonPending, "Waiting for the first refresh."
	}
}

// readyOrder is the order in which Ready takes a reason when several apply (the contract's
// "first reason that applies").
var readyOrder = []string{
	figmav1alpha1.ReasonSuspended, figmav1alpha1.ReasonSecretNotFound, figmav1alpha1.ReasonSecretConflict,
	figmav1alpha1.ReasonSecretOverwritten, figmav1alpha1.ReasonRefreshTokenMissing, figmav1alpha1.ReasonOAuthClientNotReady,
	figmav1alpha1.ReasonAWSAccessDenied, figmav1alpha1.ReasonOAuthClientRejected, figmav1alpha1.ReasonRefreshRejected, figmav1alpha1.ReasonRefreshFailed, figmav1alpha1.ReasonExpired, figmav1alpha1.ReasonPending,
}

// readyBefore reports whether Ready names reason a before reason b; a reason not in
// readyOrder comes last.
func readyBefore(a, b string) bool {
	rank := func(r string) int {
		if i := slices.Index(readyOrder, r); i >= 0 {
			return i
		}
		return len(readyOrder)
	}
	return rank(a) < rank(b)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
