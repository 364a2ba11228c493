package amplify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// FuzzRefreshErrorsNeverCarryTheToken answers RefreshToken with arbitrary statuses, error
// codes, request IDs and bodies that echo the refresh token; the error the client returns
// must not carry it, nor any text of the answer beyond a code and ID of the AWS shape.
func FuzzRefreshErrorsNeverCarryTheToken(f *testing.F) {
	const token = "refresh-token-SECRET-1234"
	f.Add(400, "InvalidParameterException", "req-1", `{"message":"bad token refresh-token-SECRET-1234"}`)
	f.Add(500, "", "refresh-token-SECRET-1234", `refresh-token-SECRET-1234`)
	f.Add(429, "ThrottlingException", `{"token":"refresh-token-SECRET-1234"}`, `{"__type":"ThrottlingException","message":"slow down"}`)
	f.Add(200, "", "", `{"accessToken":"refresh-token-SECRET-1234","expiresIn":"soon"}`)
	f.Add(403, "AccessDeniedException:refresh-token-SECRET-1234", "", `{}`)
	f.Add(400, "refresh_token_SECRET_1234", "token-SECRET-12", `{}`)
	f.Add(302, "", "", ``)

	var mu sync.Mutex
	var status int
	var code, requestID, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if code != "" {
			w.Header().Set("X-Amzn-Errortype", code)
		}
		if requestID != "" {
			w.Header().Set("X-Amzn-Requestid", requestID)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c := newClient(f, srv.URL, testCreds, 2*time.Second)

	f.Fuzz(func(t *testing.T, s int, c0, id, b string) {
		// Header values must be sendable at all.
		if s < 200 || s > 599 || strings.ContainsAny(c0+id, "\r\n\x00") {
			return
		}
		mu.Lock()
		status, code, requestID, body = s, c0, id, b
		mu.Unlock()
		_, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: token})
		if err == nil {
			return
		}
		if strings.Contains(err.Error(), token) {
			t.Fatalf("error %q carries the refresh token", err)
		}
		for i := 0; i+8 <= len(token); i++ {
			if strings.Contains(err.Error(), token[i:i+8]) {
				t.Fatalf("error %q carries a piece of the token", err)
			}
		}
		// Only a code or request ID of the AWS shape may bring text from the answer.
		if strings.Contains(err.Error(), "SECRET") && !strings.Contains(c0+id, "SECRET") {
			t.Fatalf("error %q carries text from the answer", err)
		}
	})
}
