package policy

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// Inputs is what a reconcile gathered before it observes: the FigmaToken, its OAuth
// client, what this process keeps about it, and what its Secrets say, each read once.
type Inputs struct {
	FigmaToken *figmav1alpha1.FigmaToken
	Now        time.Time
	Route      Route
	// Failure is the streak this process remembers (nil when none); status has the other.
	Failure *Failure
	// RestartedFor is the token this process last restarted the workloads for; status has
	// the other.
	RestartedFor time.Time
	// Kept and Overwrites are the Secret writer's ledger of the FigmaToken.
	Kept       Kept
	Overwrites Overwrites
	// Wrote: a write of the FigmaToken's token into the Secret that receives it landed in
	// this process.
	Wrote bool
	// Source and Target are the Secrets spec.secretRef and spec.target name; nil when they
	// do not exist.
	Source, Target *tokensecret.Sight
	// OwnerStillClaims: the FigmaToken the source's owner annotation names exists and still
	// names that Secret (read only for another owner).
	OwnerStillClaims bool
	// Siblings are the other FigmaTokens that name the source (read only for an unclaimed,
	// empty Secret: the one that wrote there last keeps it).
	Siblings []figmav1alpha1.FigmaToken
}

// Observe is the one way an observation is made: what the spec asks, what the Secrets say
// (their meaning: who may write, whether the token is held, adopted or an older snapshot),
// and the failure streak.
func Observe(in Inputs) Observation {
	ft := in.FigmaToken
	refreshBefore, _ := time.ParseDuration(ft.Spec.RefreshBefore) // validated by the API server
	refreshInterval, _ := time.ParseDuration(ft.Spec.RefreshInterval)
	o := Observation{
		Now:             in.Now,
		Self:            ft.Name,
		UID:             string(ft.UID),
		Generation:      ft.Generation,
		Suspended:       ft.Spec.Suspend,
		RefreshBefore:   refreshBefore,
		RefreshInterval: refreshInterval,
		Request:         ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt],
		Namespace:       ft.Namespace,
		SecretName:      string(ft.Spec.SecretRef.Name),
		RefreshTokenKey: string(ft.Spec.SecretRef.RefreshTokenKey),
		AccessTokenKey:  string(ft.Spec.SecretRef.AccessTokenKey),
		RestartTargets:  len(ft.Spec.RolloutRestartTargets),
		SecretVersion:   ft.Status.SecretResourceVersion,
		Failure:         latestFailure(in.Failure, ft),
		Overwrites:      in.Overwrites,
		Route:           in.Route,
		Kept:            in.Kept,
		ReadyBefore:     meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady),
		RestartedFor:    in.RestartedFor,
	}
	if st := ft.Status.RolloutRestartedFor; st != nil && st.After(o.RestartedFor) {
		o.RestartedFor = st.Time
	}
	if ft.Spec.Target != nil {
		o.TargetName = string(ft.Spec.Target.Name)
	}
	o.WroteBefore = in.Wrote || WroteBefore(ft)
	if in.Source != nil {
		o.seeSource(*in.Source)
	}
	switch {
	case ft.Spec.Target != nil:
		o.seeTarget(in.Target, lastWritten(ft, o))
	case in.Source != nil:
		o.seeDestination(*in.Source, in, lastWritten(ft, o))
	}
	// A streak that ended with a refresh written since then is over, whatever a stale
	// cache still says.
	if o.Owned() && !o.Failure.Last.After(o.Record.RefreshedAt) {
		o.Failure = Failure{}
	}
	return o
}

// seeSource takes in what the source Secret says about the refresh token or, without one,
// the authorization code to start from.
func (o *Observation) seeSource(s tokensecret.Sight) {
	o.SecretFound = true
	o.SourceIsTarget = s.MadeAsTarget
	o.InFlight = s.InFlight
	o.RefreshTokenHash, o.CodeHash = s.RefreshTokenHash, s.CodeHash
}

// seeDestination takes in what the source, receiving the access token in place, says: its
// record and who may write it.
func (o *Observation) seeDestination(s tokensecret.Sight, in Inputs, last time.Time) {
	o.Record, o.AccessTokenSet = s.Record, s.AccessTokenSet
	o.seeHeld(s, last)
	o.OutOfShape = o.TokenHeld && s.Reshapable
	claim := tokensecret.Claim{
		Owner:            o.Record.Owner,
		AccessTokenSet:   o.AccessTokenSet,
		Immutable:        s.Immutable,
		OwnerStillClaims: o.Record.Owner == o.Self || (o.Record.Owner != "" && in.OwnerStillClaims),
		WroteBefore:      o.WroteBefore,
	}
	if claim.Owner == "" && !claim.AccessTokenSet {
		// An unclaimed, empty Secret may still be a sibling's, emptied by another writer:
		// the one that wrote there last keeps it (a sibling's write counts unless this one
		// wrote there later).
		var since time.Time
		if o.WroteBefore {
			since = last
		}
		claim.OtherWrote = wroteThere(in.Siblings, since)
	}
	o.Claim = tokensecret.MayWrite(claim, o.Self)
	if o.Claim.Owner != "" {
		// Handed over to another FigmaToken: what this one wrote there before is history,
		// not a token another writer took away (status then drops it too).
		o.WroteBefore = false
	}
}

// seeTarget takes in what the target Secret says; nil when it does not exist yet.
func (o *Observation) seeTarget(s *tokensecret.Sight, last time.Time) {
	switch {
	case s == nil:
		o.Claim = tokensecret.Verdict{Allowed: true}
	case !s.ControlledBy:
		o.Claim = tokensecret.Verdict{Why: "the target Secret exists and is not owned by this FigmaToken"}
	default:
		// Found before any upstream call: a token that could never be written is not fetched.
		o.Claim = tokensecret.MayWrite(tokensecret.Claim{Owner: o.Self, Immutable: s.Immutable}, o.Self)
		o.Record, o.AccessTokenSet = s.Record, s.AccessTokenSet
		o.seeHeld(*s, last)
	}
}

// seeHeld takes in whether the Secret that receives the token holds this FigmaToken's
// token, adopting one an earlier version wrote. last is the refreshed-at of the token this
// FigmaToken last wrote (lastWritten).
func (o *Observation) seeHeld(s tokensecret.Sight, last time.Time) {
	o.TokenHeld = s.Held
	// A copy of an older write put back (a snapshot of the Secret in Git) holds a token of
	// this FigmaToken, but not the one it wrote last: an overwrite too.
	if o.TokenHeld && !last.IsZero() && o.Record.RefreshedAt.Before(last) {
		o.TokenHeld = false
	}
	o.Adopt = false
	if !o.TokenHeld && o.Adoptable(last) {
		o.TokenHeld, o.Adopt = true, true
	}
}

// lastWritten is the refreshed-at of the token this FigmaToken last wrote, as the ledger or
// status says; zero when unknown.
func lastWritten(ft *figmav1alpha1.FigmaToken, o Observation) time.Time {
	if o.Kept.Written {
		return o.Kept.RefreshedAt
	}
	if ft.Status.LastRefreshTime != nil {
		return ft.Status.LastRefreshTime.Time
	}
	return time.Time{}
}

// WroteBefore reports whether status shows a token the FigmaToken wrote to the Secret its
// spec names now (whatever the generation: a spec change does not make the Secret foreign).
func WroteBefore(ft *figmav1alpha1.FigmaToken) bool {
	st := ft.Status
	return st.LastRefreshTime != nil && st.SecretName == destinationName(ft)
}

// destinationName is the Secret that receives the FigmaToken's access token.
func destinationName(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.Target != nil {
		return string(ft.Spec.Target.Name)
	}
	return string(ft.Spec.SecretRef.Name)
}

// wroteThere returns the first of others whose status shows it wrote its token into the
// Secret they share in place after since (zero: ever); "" when none did.
func wroteThere(others []figmav1alpha1.FigmaToken, since time.Time) string {
	for _, other := range others {
		if other.Spec.Target == nil && WroteBefore(&other) && other.Status.LastRefreshTime.After(since) {
			return other.Name
		}
	}
	return ""
}

// latestFailure is the newer of the streak remembered and the one in status.
func latestFailure(remembered *Failure, ft *figmav1alpha1.FigmaToken) Failure {
	fromStatus := failureFromStatus(ft)
	if remembered != nil && !remembered.Last.Before(fromStatus.Last) {
		return *remembered
	}
	return fromStatus
}

// failureFromStatus reads a failure streak back from status, as after a restart. The
// credential of the failed attempt is unknown ("") only in a status written before
// failedCredentialHash existed.
func failureFromStatus(ft *figmav1alpha1.FigmaToken) Failure {
	st := ft.Status
	if st.FailedAttempts == 0 {
		return Failure{}
	}
	f := Failure{
		Attempts:       st.FailedAttempts,
		Reason:         figmav1alpha1.ReasonRefreshFailed,
		Generation:     st.ObservedGeneration,
		Request:        st.LastHandledRefreshRequest,
		CredentialHash: st.FailedCredentialHash,
		Client:         st.FailedClient,
	}
	if st.RetryAfter != nil {
		f.RetryAfter = st.RetryAfter.Time
	}
	if st.LastFailureTime != nil {
		f.Last = st.LastFailureTime.Time
	}
	for _, t := range []string{figmav1alpha1.ConditionStalled, figmav1alpha1.ConditionReconciling} {
		if c := meta.FindStatusCondition(st.Conditions, t); c != nil && IsFailure(c.Reason) {
			f.Reason, f.Message = c.Reason, c.Message
			break
		}
	}
	return f
}
