package amplify

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Kind sorts failed refreshes by what fixes them.
type Kind int

const (
	// Transient failures pass by themselves: 5xx, throttling (429), timeouts (408 too), network errors,
	// unusable answers. Retried quickly.
	Transient Kind = iota
	// AccessDenied means AWS refused the operator's credentials or permissions; an
	// administrator fixes IAM outside the cluster, so it is retried on the transient schedule.
	AccessDenied
	// Rejected means the request itself is bad, most often the refresh token.
	Rejected
)

func (k Kind) String() string {
	switch k {
	case AccessDenied:
		return "AccessDenied"
	case Rejected:
		return "Rejected"
	default:
		return "Transient"
	}
}

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
func Classify(code string, status int) Kind {
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return Transient
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok || transientCodes[code] {
		return Transient
	}
	if accessDeniedCodes[code] {
		return AccessDenied
	}
	switch {
	case status == 0, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return Transient
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return AccessDenied
	case status >= 400:
		return Rejected
	default:
		return Transient
	}
}
