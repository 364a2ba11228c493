package amplify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/amplify"
)

// FuzzRefreshErrorsNeverCarryTheToken answers RefreshToken with arbitrary statuses, error
// codes and bodies that echo the refresh token; the error the client returns must not carry
// it, and must sort into a kind consistent with the status.
func FuzzRefreshErrorsNeverCarryTheToken(f *testing.F) {
	const token = "refresh-token-SECRET-1234"
	f.Add(400, "InvalidParameterException", `{"message":"bad token refresh-token-SECRET-1234"}`)
	f.Add(500, "", `refresh-token-SECRET-1234`)
	f.Add(429, "ThrottlingException", `{"__type":"ThrottlingException","message":"slow down"}`)
	f.Add(200, "", `{"accessToken":"refresh-token-SECRET-1234","expiresIn":"soon"}`)
	f.Add(403, "AccessDeniedException:refresh-token-SECRET-1234", `{}`)
	f.Add(302, "", ``)

	var mu sync.Mutex
	var status int
	var code, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if code != "" {
			w.Header().Set("X-Amzn-Errortype", code)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c := newClient(f, srv.URL, testCreds, 2*time.Second)

	f.Fuzz(func(t *testing.T, s int, c0, b string) {
		// Error codes appear in messages by design; one that is the token itself is out of scope.
		if s < 200 || s > 599 || strings.ContainsAny(c0, "\r\n\x00") || strings.Contains(c0, "SECRET") {
			return
		}
		mu.Lock()
		status, code, body = s, c0, b
		mu.Unlock()
		_, err := c.Refresh(context.Background(), amplify.RefreshRequest{RefreshToken: token})
		if err == nil {
			return
		}
		if strings.Contains(err.Error(), token) {
			t.Fatalf("error %q carries the refresh token", err)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Fatalf("error %q carries text from the answer", err)
		}
	})
}
