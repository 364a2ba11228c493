package amplify

import (
	"testing"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   upstream.Kind
	}{
		{"InvalidParameterException", 400, upstream.Rejected},
		{"ResourceNotFoundException", 404, upstream.Rejected},
		{"", 400, upstream.Rejected},
		{"ThrottlingException", 400, upstream.Transient},
		{"ThrottlingException", 429, upstream.Transient},
		{"TooManyRequestsException", 429, upstream.Transient},
		{"", 429, upstream.Transient},
		{"InternalServerException", 500, upstream.Transient},
		{"ServiceUnavailableException", 503, upstream.Transient},
		{"", 502, upstream.Transient},
		{"RequestTimeoutException", 408, upstream.Transient},
		{"", 0, upstream.Transient},
		{"", 408, upstream.Transient},
		{"AccessDeniedException", 403, upstream.AccessDenied},
		{"UnrecognizedClientException", 400, upstream.AccessDenied},
		{"InvalidSignatureException", 403, upstream.AccessDenied},
		{"ExpiredTokenException", 400, upstream.AccessDenied},
		{"", 403, upstream.AccessDenied},
		{"", 401, upstream.AccessDenied},
		// An account quota (HTTP 402 in the service's model), not a bad refresh token.
		{"ServiceQuotaExceededException", 402, upstream.Transient},
		{"ServiceQuotaExceededException", 400, upstream.Transient},
	}
	for _, tt := range tests {
		if got := Classify(tt.code, tt.status); got != tt.want {
			t.Errorf("Classify(%q, %d) = %v, want %v", tt.code, tt.status, got, tt.want)
		}
	}
}
