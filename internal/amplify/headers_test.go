package amplify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// answerWith serves every call with status and the given headers.
func answerWith(t *testing.T, status int, headers map[string]string, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRequestIDAndErrorCodeAreShownOnlyWhenSafe(t *testing.T) {
	const token = "figr-7Hq2mZp4Xw9KcLd"
	tests := []struct {
		name      string
		requestID string
		code      string
		wantID    string
		wantCode  string
	}{
		{name: "an AWS request ID is kept", requestID: "5b9a7c1e-8d6f-4a2b-9c3d-0e1f2a3b4c5d", code: "InvalidParameterException",
			wantID: "5b9a7c1e-8d6f-4a2b-9c3d-0e1f2a3b4c5d", wantCode: "InvalidParameterException"},
		{name: "a request ID that is the token is dropped", requestID: token, code: "InvalidParameterException", wantCode: "InvalidParameterException"},
		{name: "a request ID carrying a piece of the token is dropped", requestID: "req-7Hq2mZp4Xw9K", code: "InvalidParameterException", wantCode: "InvalidParameterException"},
		{name: "a request ID of another shape is dropped", requestID: `{"token":"x"}`, code: "InvalidParameterException", wantCode: "InvalidParameterException"},
		{name: "a request ID longer than 64 is dropped", requestID: strings.Repeat("a", 65), code: "InvalidParameterException", wantCode: "InvalidParameterException"},
		{name: "an error code that carries the token is replaced", requestID: "req-1", code: "Bad_" + strings.ReplaceAll(token, "-", "_"),
			wantID: "req-1", wantCode: "UnrecognizedErrorCode"},
		{name: "an error code of another shape is replaced", requestID: "req-1", code: "not a code", wantID: "req-1", wantCode: "UnrecognizedErrorCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := answerWith(t, 400, map[string]string{"X-Amzn-Requestid": tt.requestID, "X-Amzn-Errortype": tt.code}, `{}`)
			c := newClient(t, url, testCreds, 2*time.Second)
			_, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: token})
			var aerr *upstream.Error
			if !errors.As(err, &aerr) {
				t.Fatalf("error %v is not an *upstream.Error", err)
			}
			if aerr.RequestID != tt.wantID || aerr.Code != tt.wantCode {
				t.Fatalf("request ID %q, code %q; want %q, %q", aerr.RequestID, aerr.Code, tt.wantID, tt.wantCode)
			}
			if strings.Contains(err.Error(), "7Hq2mZp4") {
				t.Fatalf("error %q carries the token", err)
			}
		})
	}
}

func TestHTTP408IsTransient(t *testing.T) {
	url := answerWith(t, http.StatusRequestTimeout, nil, ``)
	c := newClient(t, url, testCreds, 2*time.Second)
	_, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: "refresh"})
	var aerr *upstream.Error
	if !errors.As(err, &aerr) || aerr.Kind != upstream.Transient || aerr.HTTPStatus != 408 {
		t.Fatalf("HTTP 408 gave %#v, want Transient", err)
	}
}

func TestExchangeIsNeverResentByTheSDK(t *testing.T) {
	fake, url := startFake(t)
	fake.FailNext("code-1", 3, http.StatusBadGateway, "")
	c := newClient(t, url, testCreds, 5*time.Second)
	_, err := c.Exchange(context.Background(), upstream.ExchangeRequest{Code: "code-1", RedirectURI: "https://example.com/cb"})
	var aerr *upstream.Error
	if !errors.As(err, &aerr) || aerr.Kind != upstream.Transient {
		t.Fatalf("a 502 gave %#v, want Transient", err)
	}
	if !strings.HasPrefix(err.Error(), "ExchangeCodeForToken failed") {
		t.Fatalf("error %q does not name the operation", err)
	}
	if got := fake.Calls("code-1"); got != 1 {
		t.Fatalf("the code was sent %d times, want once", got)
	}
}

func TestExpiresInIsReadAsSent(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn string
		want      int64
		wantErr   string
	}{
		{name: "seconds", expiresIn: "3600", want: 3600},
		{name: "beyond int32 is not wrapped", expiresIn: "4294970896", want: 4294970896},
		{name: "an epoch time", expiresIn: "1795000000", want: 1795000000},
		{name: "beyond int64 is unusable", expiresIn: "100000000000000000000", wantErr: "unreadable answer"},
		{name: "a fraction is unusable", expiresIn: "3600.5", wantErr: "unreadable answer"},
		{name: "null is missing", expiresIn: "null", wantErr: "no expiresIn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := answerWith(t, 200, map[string]string{"Content-Type": "application/json"},
				`{"accessToken":"figat-1","expiresIn":`+tt.expiresIn+`}`)
			c := newClient(t, url, testCreds, 2*time.Second)
			got, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: "refresh"})
			if tt.wantErr != "" {
				var aerr *upstream.Error
				if !errors.As(err, &aerr) || aerr.Kind != upstream.Transient || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Refresh = %+v, %v; want a Transient %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.ExpiresIn != tt.want || got.AccessToken != "figat-1" {
				t.Fatalf("Refresh = %+v, %v; want expiresIn %d", got, err, tt.want)
			}
		})
	}
}

func TestSettingsThatCanNeverWorkStopTheStart(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	for _, env := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_AMPLIFYUIBUILDER"} {
		t.Setenv(env, "")
	}
	if _, err := amplify.New(context.Background(), amplify.Options{}); !errors.Is(err, amplify.ErrNoRegion) {
		t.Fatalf("no region: New = %v, want ErrNoRegion", err)
	}
	for _, endpoint := range []string{"localhost:8080", "://x", "ftp://example.com", "http://"} {
		if _, err := amplify.New(context.Background(), amplify.Options{Region: "us-east-1", Endpoint: endpoint}); err == nil {
			t.Errorf("endpoint %q was accepted", endpoint)
		}
	}
	if _, err := amplify.New(context.Background(), amplify.Options{Region: "us-east-1", Endpoint: "https://amplifyuibuilder.example.com"}); err != nil {
		t.Fatalf("a good endpoint was refused: %v", err)
	}
}
