package figma_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tokenops/figma-token-operator/internal/figma"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// FuzzErrorsNeverCarryATokenOrTheClientSecret answers Figma's refresh with arbitrary
// statuses, content types, Retry-After values and bodies that echo the refresh token and the
// client secret; the error the client returns must carry neither, nor any text of the
// answer beyond an error code of the OAuth shape.
func FuzzErrorsNeverCarryATokenOrTheClientSecret(f *testing.F) {
	const token, clientSecret = "refresh-token-SECRET-1234", "client-secret-SECRET-5678"
	f.Add(400, "application/json", "", `{"error":"invalid_grant","error_description":"bad refresh-token-SECRET-1234"}`)
	f.Add(401, "application/json", "", `{"error":"invalid_client","error_description":"client-secret-SECRET-5678"}`)
	f.Add(400, "application/json", "", `{"error":"refresh_token_secret_1234"}`)
	f.Add(400, "application/x-www-form-urlencoded", "", `error=client-secret-SECRET-5678&error_description=x`)
	f.Add(429, "text/plain", "refresh-token-SECRET-1234", `refresh-token-SECRET-1234`)
	f.Add(200, "application/json", "", `{"access_token":"refresh-token-SECRET-1234","expires_in":"soon"}`)
	f.Add(200, "application/json", "", `{"error":"invalid_grant refresh-token-SECRET-1234"}`)
	f.Add(307, "", "", ``)

	var mu sync.Mutex
	var status int
	var contentType, retryAfter, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := figma.New(figma.Options{Endpoint: srv.URL})
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, s int, ct, ra, b string) {
		if s < 200 || s > 599 || strings.ContainsAny(ct+ra, "\r\n\x00") {
			return
		}
		mu.Lock()
		status, contentType, retryAfter, body = s, ct, ra, b
		mu.Unlock()
		_, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "app", Secret: clientSecret}, RefreshToken: token})
		if err == nil {
			return
		}
		for _, credential := range []string{token, clientSecret} {
			for i := 0; i+8 <= len(credential); i++ {
				if strings.Contains(err.Error(), credential[i:i+8]) {
					t.Fatalf("error %q carries a piece of a credential", err)
				}
			}
		}
		// Only an error code of the OAuth shape (lower case) may bring text from the answer.
		if strings.Contains(err.Error(), "SECRET") {
			t.Fatalf("error %q carries text from the answer", err)
		}
	})
}
