package amplify

import (
	"fmt"
	"strings"
)

// The operations called, as named in errors.
const (
	opRefresh  = "RefreshToken"
	opExchange = "ExchangeCodeForToken"
)

// Error is a failed refresh, stripped to what is safe to show: the upstream message text is
// dropped on purpose because servers may echo the token in it.
type Error struct {
	// Op is the operation that failed: RefreshToken (when "") or ExchangeCodeForToken.
	Op   string
	Kind Kind
	// Code is the AWS error code, e.g. InvalidParameterException; "" when none was sent.
	Code string
	// HTTPStatus is 0 when no answer arrived.
	HTTPStatus int
	RequestID  string
	// Detail is a fixed phrase for failures without an AWS error code (e.g. "timeout").
	Detail string
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
	op := e.Op
	if op == "" {
		op = opRefresh
	}
	return op + " failed: " + strings.Join(parts, ", ")
}
