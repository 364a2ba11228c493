package figma_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tokenops/figma-token-operator/internal/figma"
	"github.com/tokenops/figma-token-operator/internal/upstream"
	"github.com/tokenops/figma-token-operator/pkg/fakefigma"
)

// A secret with the characters form-encoding changes: Basic credentials are form-encoded
// first (RFC 6749 2.3.1), and the fake decodes them.
const secret = "s3cr+t/with=padding%"

var app = upstream.Client{ID: "app id", Secret: secret}

func start(t *testing.T, opts figma.Options) (*fakefigma.Server, *figma.Client) {
	t.Helper()
	fake := fakefigma.New(fakefigma.Options{Clients: map[string]string{app.ID: secret}, Lifetime: 90 * 24 * time.Hour})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	opts.Endpoint = srv.URL
	c, err := figma.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func upstreamError(t *testing.T, err error) *upstream.Error {
	t.Helper()
	var uerr *upstream.Error
	if !errors.As(err, &uerr) {
		t.Fatalf("error %v is not an *upstream.Error", err)
	}
	return uerr
}

func TestRefreshSendsOneRequestWithBasicAuthAndReadsExpiresIn(t *testing.T) {
	fake, c := start(t, figma.Options{})
	got, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: app, RefreshToken: "rt-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == "" || got.ExpiresIn != 90*24*3600 || got.RefreshToken != "" {
		t.Fatalf("got %+v, want an access token for 7776000 s and no new refresh token", got)
	}
	if fake.Calls("rt-1") != 1 || fake.ClientRejections() != 0 {
		t.Fatalf("%v, want one authenticated call", fake)
	}
}

func TestARotatedRefreshTokenIsReturned(t *testing.T) {
	fake, c := start(t, figma.Options{})
	fake.SetBehavior("rt-1", fakefigma.Behavior{Rotate: true})
	got, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: app, RefreshToken: "rt-1"})
	if err != nil || got.RefreshToken == "" || got.RefreshToken == "rt-1" {
		t.Fatalf("got %+v, %v; want the rotated refresh token", got, err)
	}
}

func TestExchangeSendsTheCodeOnceWithItsVerifier(t *testing.T) {
	fake, c := start(t, figma.Options{})
	req := upstream.ExchangeRequest{Client: app, Code: "code-1", RedirectURI: "http://127.0.0.1:8765/callback", CodeVerifier: "verifier-1"}
	got, err := c.Exchange(context.Background(), req)
	if err != nil || got.RefreshToken == "" || got.AccessToken == "" {
		t.Fatalf("got %+v, %v; want tokens", got, err)
	}
	if fake.VerifierFor("code-1") != "verifier-1" {
		t.Fatal("the PKCE verifier was not sent")
	}
	fake.FailNext("code-2", 1, fakefigma.Failure{Status: http.StatusServiceUnavailable})
	_, err = c.Exchange(context.Background(), upstream.ExchangeRequest{Client: app, Code: "code-2", RedirectURI: req.RedirectURI})
	if upstreamError(t, err).Kind != upstream.Transient || fake.Calls("code-2") != 1 {
		t.Fatalf("%v after %d calls; want one transient failure", err, fake.Calls("code-2"))
	}
}

func TestErrorsAreClassifiedAndShowNoSecretOrToken(t *testing.T) {
	const token = "rt-secret-refresh-token"
	tests := []struct {
		name     string
		client   upstream.Client
		failure  *fakefigma.Failure
		behavior fakefigma.Behavior
		want     upstream.Kind
		wantText string
	}{
		{name: "wrong secret", client: upstream.Client{ID: app.ID, Secret: "wrong"}, want: upstream.ClientRejected, wantText: "invalid_client, HTTP 401"},
		{name: "unknown client", client: upstream.Client{ID: "other", Secret: secret}, want: upstream.ClientRejected},
		{name: "401 without a body", client: app, failure: &fakefigma.Failure{Status: 401}, want: upstream.ClientRejected, wantText: "HTTP 401"},
		{name: "invalid_grant echoing the token", client: app, behavior: fakefigma.Behavior{Reject: true}, want: upstream.Rejected, wantText: "invalid_grant, HTTP 400"},
		{name: "invalid_request", client: app, failure: &fakefigma.Failure{Status: 400, Code: "invalid_request"}, want: upstream.Rejected},
		{name: "invalid_client on 400", client: app, failure: &fakefigma.Failure{Status: 400, Code: "invalid_client"}, want: upstream.ClientRejected},
		{name: "403 without a code", client: app, failure: &fakefigma.Failure{Status: 403}, want: upstream.Rejected},
		{name: "429 whatever it says", client: app, failure: &fakefigma.Failure{Status: 429, Code: "invalid_grant"}, want: upstream.Transient},
		{name: "408", client: app, failure: &fakefigma.Failure{Status: 408}, want: upstream.Transient},
		{name: "500", client: app, failure: &fakefigma.Failure{Status: 500, Code: "server_error"}, want: upstream.Transient},
		{name: "a code with no OAuth shape", client: app, failure: &fakefigma.Failure{Status: 400, Code: "Bad Thing " + token}, want: upstream.Rejected},
		{name: "no access_token", client: app, behavior: fakefigma.Behavior{Body: `{"expires_in": 60}`}, want: upstream.Transient, wantText: "unusable answer"},
		{name: "no expires_in", client: app, behavior: fakefigma.Behavior{Body: `{"access_token": "at"}`}, want: upstream.Transient, wantText: "expires_in"},
		{name: "unreadable", client: app, behavior: fakefigma.Behavior{Body: `{"access_token": ` + token}, want: upstream.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := start(t, figma.Options{})
			fake.SetBehavior(token, tt.behavior)
			if tt.failure != nil {
				fake.FailNext(token, 1, *tt.failure)
			}
			_, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: tt.client, RefreshToken: token})
			uerr := upstreamError(t, err)
			if uerr.Kind != tt.want || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v (%v), want kind %v and %q", err, uerr.Kind, tt.want, tt.wantText)
			}
			for _, leak := range []string{token, "secret-refresh", secret, "s3cr"} {
				if strings.Contains(err.Error(), leak) {
					t.Fatalf("error %q shows a credential", err)
				}
			}
			if n := fake.Calls(token) + fake.ClientRejections(); n != 1 {
				t.Fatalf("%d requests, want exactly 1 (no second try with the secret in the body)", n)
			}
		})
	}
}

func TestRetryAfterIsReadOn429And503(t *testing.T) {
	arrived := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakePassiveClock(arrived)
	fake, c := start(t, figma.Options{Clock: clk})
	fake.FailNext("rt", 1, fakefigma.Failure{Status: 429, RetryAfter: "120"})
	fake.FailNext("rt", 1, fakefigma.Failure{Status: 503, RetryAfter: arrived.Add(90 * time.Second).Format(http.TimeFormat)})
	fake.FailNext("rt", 1, fakefigma.Failure{Status: 500, RetryAfter: "120"})
	for _, want := range []time.Time{arrived.Add(2 * time.Minute), arrived.Add(90 * time.Second), {}} {
		_, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: app, RefreshToken: "rt"})
		if got := upstreamError(t, err).RetryAfter; !got.Equal(want) {
			t.Fatalf("RetryAfter = %v, want %v", got, want)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	followed := false
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/v1/oauth/refresh", http.StatusTemporaryRedirect))
	defer redirect.Close()
	c, err := figma.New(figma.Options{Endpoint: redirect.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Refresh(context.Background(), upstream.RefreshRequest{Client: app, RefreshToken: "rt"})
	if upstreamError(t, err).Kind != upstream.Transient || followed {
		t.Fatalf("%v, followed %v: want a transient failure and the refresh token sent nowhere else", err, followed)
	}
}

func TestNewRefusesAnEndpointThatIsNotAURL(t *testing.T) {
	for _, endpoint := range []string{"api.figma.com", "ftp://api.figma.com", "https://"} {
		if _, err := figma.New(figma.Options{Endpoint: endpoint}); err == nil {
			t.Errorf("New(%q) succeeded", endpoint)
		}
	}
}

// The Authorization header is base64(client_id:client_secret) of the values as they are, as
// Figma documents it (not form-encoded first), and the secret goes nowhere else.
func TestBasicCredentialsAreSentAsTheyAre(t *testing.T) {
	var header, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at","token_type":"bearer","expires_in":60}`)
	}))
	defer srv.Close()
	c, err := figma.New(figma.Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: app, RefreshToken: "rt"}); err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(app.ID+":"+secret))
	if header != want {
		t.Fatalf("Authorization %q, want %q", header, want)
	}
	if strings.Contains(body, "client") || !strings.Contains(body, "refresh_token=rt") {
		t.Fatalf("body %q: want the refresh token and no client credentials", body)
	}
}

// A form-encoded answer's expires_in is read too.
func TestAFormEncodedAnswerIsRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = io.WriteString(w, "access_token=at&token_type=bearer&expires_in=7776000")
	}))
	defer srv.Close()
	c, err := figma.New(figma.Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: app, RefreshToken: "rt"})
	if err != nil || got.ExpiresIn != 7776000 {
		t.Fatalf("got %+v, %v; want expires_in 7776000", got, err)
	}
}
