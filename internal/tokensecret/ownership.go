// Package tokensecret holds the rules for the Secrets the operator writes: who may write
// the access token, and the annotations that record a refresh in the same update.
package tokensecret

// Claim is what a Secret says about who owns its access token.
type Claim struct {
	// Owner is the figma.tokenops.dev/owner annotation, "" when absent.
	Owner string
	// AccessTokenSet is true when the access token key holds a non-empty value.
	AccessTokenSet bool
	// Immutable Secrets cannot be updated at all.
	Immutable bool
	// OwnerStillClaims is true when the FigmaToken named by Owner exists and still
	// references this Secret.
	OwnerStillClaims bool
	// WroteBefore is true when this FigmaToken has written its token to this Secret
	// before: a value or a missing owner annotation found since is another writer's
	// overwrite, not a foreign Secret.
	WroteBefore bool
	// OtherWrote names another existing FigmaToken naming this Secret whose status shows it
	// wrote its token there, and later than this one did: a Secret emptied since (a
	// wholesale replace) is still that one's, to restore; "" when none.
	OtherWrote string
}

// Verdict says whether a FigmaToken may write and, if not, why.
type Verdict struct {
	Allowed bool
	// Why explains a refusal, for a condition message.
	Why string
	// Immutable: refused because the Secret cannot be updated at all; no hand-over helps.
	Immutable bool
	// Owner is the other FigmaToken the Secret was refused for, "" when none: it may go away.
	Owner string
}

// MayWrite applies the ownership rule for the FigmaToken named self: it writes when the
// Secret is unclaimed and its access token key is free (unless another FigmaToken wrote its
// token there before), when it owns the Secret, or when the owner has gone or moved on, or
// when it wrote the Secret before and the owner annotation was removed since (an
// overwrite). Everything else belongs to someone else.
func MayWrite(c Claim, self string) Verdict {
	switch {
	case c.Immutable:
		return Verdict{Why: "the Secret is immutable", Immutable: true}
	case c.Owner == self:
		return Verdict{Allowed: true}
	case c.Owner == "" && c.OtherWrote != "":
		return Verdict{Why: "FigmaToken " + c.OtherWrote + " wrote its token into the Secret, and another writer removed it: that FigmaToken restores it", Owner: c.OtherWrote}
	case c.Owner == "" && c.WroteBefore:
		return Verdict{Allowed: true}
	case c.Owner == "" && c.AccessTokenSet:
		return Verdict{Why: "the access token key already holds a value not written by a FigmaToken"}
	case c.Owner == "":
		return Verdict{Allowed: true}
	case c.OwnerStillClaims:
		return Verdict{Why: "the Secret is owned by FigmaToken " + c.Owner, Owner: c.Owner}
	default:
		return Verdict{Allowed: true}
	}
}
