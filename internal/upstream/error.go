package upstream

import (
	"fmt"
	"strings"
	"time"
)

// Kind sorts failed calls by what fixes them.
type Kind int

const (
	// Transient failures pass by themselves: 5xx, throttling (429), timeouts (408 too),
	// network errors, unusable answers. Retried quickly.
	Transient Kind = iota
	// AccessDenied means AWS refused the operator's credentials or permissions; an
	// administrator fixes IAM outside the cluster, so it is retried on the transient schedule.
	AccessDenied
	// Rejected means the request itself is bad, most often the refresh token.
	Rejected
	// ClientRejected means the OAuth client ID or secret is wrong (OAuth invalid_client,
	// HTTP 401): the platform team fixes the client or its Secret.
	ClientRejected
)

func (k Kind) String() string {
	switch k {
	case AccessDenied:
		return "AccessDenied"
	case Rejected:
		return "Rejected"
	case ClientRejected:
		return "ClientRejected"
	default:
		return "Transient"
	}
}

// Error is a failed call, stripped to what is safe to show: the server's message text is
// dropped on purpose because servers may echo the token in it.
type Error struct {
	// Op is the operation that failed, e.g. RefreshToken or ExchangeCodeForToken (Amplify),
	// or "refresh" / "code exchange" (Figma).
	Op   string
	Kind Kind
	// Code is the AWS error code (e.g. InvalidParameterException) or the OAuth error code
	// (e.g. invalid_grant); "" when none was sent or it had no safe shape.
	Code string
	// HTTPStatus is 0 when no answer arrived.
	HTTPStatus int
	RequestID  string
	// Detail is a fixed phrase for failures without an error code (e.g. "timeout").
	Detail string
	// RetryAfter is when the server allows the next request (its Retry-After header,
	// rounded up to the second); zero when it said nothing.
	RetryAfter time.Time
}

func (e *Error) Error() string {
	var parts []string
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	if e.HTTPStatus != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", e.HTTPStatus))
	}
	if e.RequestID != "" {
		parts = append(parts, "request ID "+e.RequestID)
	}
	if len(parts) == 0 {
		parts = append(parts, "unknown error")
	}
	return e.Op + " failed: " + strings.Join(parts, ", ")
}
