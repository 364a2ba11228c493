package amplify

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// transientCodes are AWS error codes that pass by themselves beyond the SDK's throttle and
// retryable lists: ServiceQuotaExceededException (HTTP 402 in Amplify UI Builder's model) is
// an account quota, not a bad refresh token.
var transientCodes = map[string]bool{
	"ServiceQuotaExceededException": true,
}

// accessDeniedCodes are the AWS error codes for credential and permission problems.
var accessDeniedCodes = map[string]bool{
	"AccessDeniedException":       true,
	"AccessDenied":                true,
	"UnrecognizedClientException": true,
	"InvalidSignatureException":   true,
	"SignatureDoesNotMatch":       true,
	"ExpiredTokenException":       true,
	"ExpiredToken":                true,
	"InvalidClientTokenId":        true,
	"IncompleteSignature":         true,
	"MissingAuthenticationToken":  true,
}

// Classify sorts an upstream error by its AWS error code first and its HTTP status
// second; status 0 means no answer arrived (timeout, network, unreadable body).
func Classify(code string, status int) upstream.Kind {
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return upstream.Transient
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok || transientCodes[code] {
		return upstream.Transient
	}
	if accessDeniedCodes[code] {
		return upstream.AccessDenied
	}
	switch {
	case status == 0, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return upstream.Transient
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return upstream.AccessDenied
	case status >= 400:
		return upstream.Rejected
	default:
		return upstream.Transient
	}
}
