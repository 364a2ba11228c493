package upstream

import "testing"

func TestErrorMessageCarriesCodeStatusAndRequestID(t *testing.T) {
	err := &Error{Op: "RefreshToken", Kind: Rejected, Code: "InvalidParameterException", HTTPStatus: 400, RequestID: "req-1"}
	want := "RefreshToken failed: InvalidParameterException, HTTP 400, request ID req-1"
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}
