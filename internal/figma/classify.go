package figma

import (
	"net/http"
	"regexp"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// Classify sorts a failed call by its HTTP status and OAuth error code (RFC 6749 5.2), as
// CONTRACT.md "Figma's errors" says: 429, 408, 5xx and no answer (status 0) pass by
// themselves whatever the body says; among other 4xx the error code decides when there is
// one, else the status.
func Classify(code string, status int) upstream.Kind {
	switch {
	case status == 0, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return upstream.Transient
	case status < 400:
		// A 2xx carrying an error, or a redirect not followed: an unusable answer.
		return upstream.Transient
	case code == "invalid_client", code == "" && status == http.StatusUnauthorized:
		return upstream.ClientRejected
	default:
		return upstream.Rejected
	}
}

// errorCodePattern is the shape of an OAuth error code: RFC 6749 allows printable ASCII,
// every registered code is lower case with underscores.
var errorCodePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// safeCode keeps an error code only when it has the shape of one and shares no run of a
// credential sent, so a server cannot put free text or a token into conditions and logs.
func safeCode(code string, credentials []string) string {
	if !errorCodePattern.MatchString(code) || upstream.Echoes(code, credentials...) {
		return ""
	}
	return code
}
