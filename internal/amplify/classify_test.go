package amplify

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		code   string
		status int
		want   Kind
	}{
		{"InvalidParameterException", 400, Rejected},
		{"ResourceNotFoundException", 404, Rejected},
		{"", 400, Rejected},
		{"ThrottlingException", 400, Transient},
		{"ThrottlingException", 429, Transient},
		{"TooManyRequestsException", 429, Transient},
		{"", 429, Transient},
		{"InternalServerException", 500, Transient},
		{"ServiceUnavailableException", 503, Transient},
		{"", 502, Transient},
		{"RequestTimeoutException", 408, Transient},
		{"", 0, Transient},
		{"", 408, Transient},
		{"AccessDeniedException", 403, AccessDenied},
		{"UnrecognizedClientException", 400, AccessDenied},
		{"InvalidSignatureException", 403, AccessDenied},
		{"ExpiredTokenException", 400, AccessDenied},
		{"", 403, AccessDenied},
		{"", 401, AccessDenied},
		// An account quota (HTTP 402 in the service's model), not a bad refresh token.
		{"ServiceQuotaExceededException", 402, Transient},
		{"ServiceQuotaExceededException", 400, Transient},
	}
	for _, tt := range tests {
		if got := Classify(tt.code, tt.status); got != tt.want {
			t.Errorf("Classify(%q, %d) = %v, want %v", tt.code, tt.status, got, tt.want)
		}
	}
}

func TestErrorMessageCarriesCodeStatusAndRequestID(t *testing.T) {
	err := &Error{Kind: Rejected, Code: "InvalidParameterException", HTTPStatus: 400, RequestID: "req-1"}
	want := "RefreshToken failed: InvalidParameterException, HTTP 400, request ID req-1"
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}
