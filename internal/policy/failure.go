package policy

import (
	"fmt"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// UpstreamKind sorts failed upstream calls by what fixes them.
type UpstreamKind int

const (
	// UpstreamTransient is a 5xx, throttling, a timeout, the network or an unusable answer; retries pass it.
	UpstreamTransient UpstreamKind = iota
	// UpstreamRejected means the refresh token (or code) was refused; a person must act.
	UpstreamRejected
	// UpstreamAccessDenied means AWS refused the operator's own credentials or permissions.
	UpstreamAccessDenied
	// UpstreamClientRejected means Figma refused the OAuth client's ID or secret.
	UpstreamClientRejected
)

// UpstreamError is a failed upstream call as policy sees it: its kind, and what may be
// shown of it (AWS error code, HTTP status, request ID; never the message text or a token).
type UpstreamError struct {
	Kind  UpstreamKind
	Shown string
	// RetryAfter is when the upstream allows the next request (Retry-After); zero for none.
	RetryAfter time.Time
}

// UpstreamFailure turns a failed upstream call into a failure with a message that says what
// to do next. The message carries the AWS error code, HTTP status and request ID only.
func UpstreamFailure(e UpstreamError, o Observation) Failure {
	exchange := o.RefreshTokenHash == ""
	reason := upstreamReason(e.Kind)
	var message string
	switch {
	case exchange && reason == figmav1alpha1.ReasonRefreshRejected:
		message = fmt.Sprintf("%s. The authorization code in Secret %s (key %s) was refused: a code works once and expires within minutes. Put a new code there, or a refresh token under key %s.",
			e.Shown, o.SecretName, figmav1alpha1.SecretKeyCode, o.RefreshTokenKey)
	case exchange && reason == figmav1alpha1.ReasonAWSAccessDenied:
		message = fmt.Sprintf("%s. AWS refused the operator's credentials: grant its identity amplifyuibuilder:ExchangeCodeForToken and amplifyuibuilder:RefreshToken; retrying.", e.Shown)
	case reason == figmav1alpha1.ReasonRefreshRejected:
		message = fmt.Sprintf("%s. The refresh token was refused (expired, or the grant was revoked in Figma): have the user authorize the app again, then put the new refresh token in Secret %s under key %s, or an OAuth authorization code under key %s with its redirect URI under key %s.",
			e.Shown, o.SecretName, o.RefreshTokenKey, figmav1alpha1.SecretKeyCode, figmav1alpha1.SecretKeyRedirectURI)
	case reason == figmav1alpha1.ReasonAWSAccessDenied:
		message = fmt.Sprintf("%s. AWS refused the operator's credentials: grant its identity amplifyuibuilder:RefreshToken; retrying.", e.Shown)
	case reason == figmav1alpha1.ReasonOAuthClientRejected:
		message = fmt.Sprintf("%s. Figma refused the client ID or secret of %s: correct its clientId, or the client secret in its Secret; retried at once when either changes, else with backoff.",
			e.Shown, o.Route.Client)
	case !e.RetryAfter.IsZero():
		message = fmt.Sprintf("%s. The upstream asked to wait (Retry-After): no request before %s.", e.Shown, formatTime(e.RetryAfter))
		if o.Valid() && o.Record.ExpiresAt.Before(e.RetryAfter) {
			message += fmt.Sprintf(" The access token expires before then, at %s.", formatTime(o.Record.ExpiresAt))
		}
	default:
		message = fmt.Sprintf("%s. Retrying with backoff.", e.Shown)
	}
	return Failure{Reason: reason, Message: message, RetryAfter: e.RetryAfter}
}

// WriteFailure is a failed write of a Secret; reason names the API error (its status reason
// and code, never its message).
func WriteFailure(secret, reason string) Failure {
	return Failure{
		Reason:  figmav1alpha1.ReasonSecretWriteFailed,
		Message: fmt.Sprintf("Writing Secret %s failed (%s); retrying.", secret, reason),
	}
}

// Result is how an upstream call counts in figmatoken_refresh_total; nil is a success.
func Result(err *UpstreamError) string {
	if err == nil {
		return ResultSuccess
	}
	return Reasons[upstreamReason(err.Kind)].Metric
}

// upstreamReason is the failure reason of an upstream error, by its kind.
func upstreamReason(kind UpstreamKind) string {
	switch kind {
	case UpstreamRejected:
		return figmav1alpha1.ReasonRefreshRejected
	case UpstreamAccessDenied:
		return figmav1alpha1.ReasonAWSAccessDenied
	case UpstreamClientRejected:
		return figmav1alpha1.ReasonOAuthClientRejected
	default:
		return figmav1alpha1.ReasonRefreshFailed
	}
}
