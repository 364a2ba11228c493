package policy

import (
	"errors"
	"fmt"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/amplify"
)

// UpstreamFailure turns a failed upstream call into a failure with a message that says what
// to do next. The message carries the AWS error code, HTTP status and request ID only.
func UpstreamFailure(err error, o Observation) Failure {
	aerr := asAmplifyError(err)
	exchange := o.RefreshTokenHash == ""
	reason := upstreamReason(aerr)
	var message string
	switch {
	case exchange && reason == figmav1alpha1.ReasonRefreshRejected:
		message = fmt.Sprintf("%s. The authorization code in Secret %s (key %s) was refused: a code works once and expires within minutes. Put a new code there, or a refresh token under key %s.",
			aerr, o.SecretName, figmav1alpha1.SecretKeyCode, o.RefreshTokenKey)
	case exchange && reason == figmav1alpha1.ReasonAWSAccessDenied:
		message = fmt.Sprintf("%s. AWS refused the operator's credentials: grant its identity amplifyuibuilder:ExchangeCodeForToken and amplifyuibuilder:RefreshToken; retrying.", aerr)
	case reason == figmav1alpha1.ReasonRefreshRejected:
		message = fmt.Sprintf("%s. The refresh token was refused: put a valid Figma refresh token in Secret %s under key %s.", aerr, o.SecretName, o.RefreshTokenKey)
	case reason == figmav1alpha1.ReasonAWSAccessDenied:
		message = fmt.Sprintf("%s. AWS refused the operator's credentials: grant its identity amplifyuibuilder:RefreshToken; retrying.", aerr)
	default:
		message = fmt.Sprintf("%s. Retrying with backoff.", aerr)
	}
	return Failure{Reason: reason, Message: message}
}

// WriteFailure is a failed write of a Secret; reason names the API error (its status reason
// and code, never its message).
func WriteFailure(secret, reason string) Failure {
	return Failure{
		Reason:  figmav1alpha1.ReasonSecretWriteFailed,
		Message: fmt.Sprintf("Writing Secret %s failed (%s); retrying.", secret, reason),
	}
}

// Result is how an upstream call counts in figmatoken_refresh_total.
func Result(err error) string {
	if err == nil {
		return ResultSuccess
	}
	return Reasons[upstreamReason(asAmplifyError(err))].Metric
}

// upstreamReason is the failure reason of an upstream error, by its kind.
func upstreamReason(aerr *amplify.Error) string {
	switch aerr.Kind {
	case amplify.Rejected:
		return figmav1alpha1.ReasonRefreshRejected
	case amplify.AccessDenied:
		return figmav1alpha1.ReasonAWSAccessDenied
	default:
		return figmav1alpha1.ReasonRefreshFailed
	}
}

func asAmplifyError(err error) *amplify.Error {
	var aerr *amplify.Error
	if !errors.As(err, &aerr) {
		aerr = &amplify.Error{Kind: amplify.Transient, Detail: "request failed"}
	}
	return aerr
}
