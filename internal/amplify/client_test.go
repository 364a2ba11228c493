package amplify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/upstream"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

var testCreds = aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret-test"}

func newClient(t testing.TB, endpoint string, creds aws.Credentials, timeout time.Duration) *amplify.Client {
	t.Helper()
	return clientFor(t, creds, amplify.Options{Endpoint: endpoint, CallTimeout: timeout})
}

// newConnectClient is a client whose attempts must connect within connect, in a call of up
// to call.
func newConnectClient(t testing.TB, endpoint string, connect, call time.Duration) *amplify.Client {
	t.Helper()
	return clientFor(t, testCreds, amplify.Options{Endpoint: endpoint, CallTimeout: call, ConnectTimeout: connect})
}

func clientFor(t testing.TB, creds aws.Credentials, opts amplify.Options) *amplify.Client {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	opts.Region = "us-east-1"
	// Keep the SDK's retry pauses short so the tests stay quick.
	opts.MaxRetryBackoff = 50 * time.Millisecond
	opts.ExtraConfig = []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: creds}),
	}
	c, err := amplify.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startFake(t testing.TB) (*fakeamplify.Server, string) {
	t.Helper()
	fake := fakeamplify.New(fakeamplify.Options{Credentials: testCreds, Region: "us-east-1", Lifetime: time.Hour})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

func TestRefreshSucceeds(t *testing.T) {
	fake, url := startFake(t)
	c := newClient(t, url, testCreds, 5*time.Second)
	got, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "client"}, RefreshToken: "refresh-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.ExpiresIn != 3600 || got.AccessToken != fake.Issued()[0] {
		t.Fatalf("Refresh = %+v, issued %v", got, fake.Issued())
	}
	if fake.Calls("refresh-1") != 1 {
		t.Fatalf("calls = %d, want 1", fake.Calls("refresh-1"))
	}
}

// The fake keeps when each call came and when each token went out, for the benchmark and
// the soak; an injected fault is a call without a token.
func TestTheFakeRecordsCallsAndIssues(t *testing.T) {
	var faults atomic.Int32
	faults.Store(1)
	fake := fakeamplify.New(fakeamplify.Options{Credentials: testCreds, Region: "us-east-1", Lifetime: time.Hour,
		Inject: func(string) (fakeamplify.Behavior, *fakeamplify.Failure) {
			if faults.Add(-1) >= 0 {
				return fakeamplify.Behavior{}, &fakeamplify.Failure{Status: 503, Code: "ServiceUnavailableException"}
			}
			return fakeamplify.Behavior{}, nil
		}})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	before := time.Now()
	c := newClient(t, srv.URL, testCreds, 5*time.Second)
	if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "client"}, RefreshToken: "refresh-1"}); err != nil {
		t.Fatal(err) // the SDK retried the injected 503
	}
	calls, issues := fake.CallTimes("refresh-1"), fake.IssueTimes("refresh-1")
	if len(calls) != 2 || len(issues) != 1 || fake.TotalIssued() != 1 || calls[0].Before(before) || issues[0].Before(calls[1]) {
		t.Fatalf("calls at %v, issues at %v, %d issued", calls, issues, fake.TotalIssued())
	}
}

// A slow but healthy upstream succeeds: an answer that comes within the call's deadline is
// waited for, however long after the connect timeout, with one request and no token issued
// in vain (it was cut at each 10 s attempt, three requests in all, and the call failed).
func TestASlowAnswerWithinTheDeadlineSucceedsWithOneRequest(t *testing.T) {
	fake, url := startFake(t)
	fake.SetBehavior("refresh-1", fakeamplify.Behavior{Delay: 500 * time.Millisecond})
	c := newConnectClient(t, url, 100*time.Millisecond, time.Minute)
	got, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "client"}, RefreshToken: "refresh-1"})
	if err != nil {
		t.Fatalf("a slow answer within the deadline failed: %v", err)
	}
	if fake.Calls("refresh-1") != 1 || fake.TotalIssued() != 1 || got.AccessToken != fake.Issued()[0] {
		t.Fatalf("Refresh = %+v after %d calls; issued %v", got, fake.Calls("refresh-1"), fake.Issued())
	}
}

// An answer that never comes is one request, given up at the call's deadline as transient.
func TestAnUnansweredRequestIsOneRequestUntilTheDeadline(t *testing.T) {
	fake, url := startFake(t)
	fake.SetBehavior("refresh-1", fakeamplify.Behavior{Delay: time.Minute})
	c := newConnectClient(t, url, 100*time.Millisecond, 500*time.Millisecond)
	_, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "client"}, RefreshToken: "refresh-1"})
	var ae *upstream.Error
	if !errors.As(err, &ae) || ae.Kind != upstream.Transient {
		t.Fatalf("err = %v, want a transient *upstream.Error", err)
	}
	if fake.Calls("refresh-1") != 1 {
		t.Fatalf("calls = %d, want 1", fake.Calls("refresh-1"))
	}
}

// An endpoint that takes the connection but never completes the TLS handshake costs one
// attempt each time, retried on a new connection: the SDK's bounded attempts, not the call.
func TestAnEndpointThatNeverHandshakesIsRetriedPerAttempt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			t.Cleanup(func() { _ = conn.Close() }) // held open, silent
		}
	}()
	c := newConnectClient(t, "https://"+ln.Addr().String(), 100*time.Millisecond, time.Minute)
	_, err = c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "client"}, RefreshToken: "refresh-1"})
	var ae *upstream.Error
	if !errors.As(err, &ae) || ae.Kind != upstream.Transient {
		t.Fatalf("err = %v, want a transient *upstream.Error", err)
	}
	if got := accepted.Load(); got != 3 {
		t.Fatalf("%d connections, want one per attempt: 3", got)
	}
}

// An exchange makes one attempt (a code works once): a slow answer is waited for up to the
// call's deadline.
func TestASlowExchangeIsWaitedFor(t *testing.T) {
	fake, url := startFake(t)
	fake.SetBehavior("code-1", fakeamplify.Behavior{Delay: 500 * time.Millisecond})
	c := newConnectClient(t, url, 100*time.Millisecond, time.Minute)
	req := upstream.ExchangeRequest{Client: upstream.Client{ID: "client"}, Code: "code-1", RedirectURI: "https://example.com/cb"}
	if _, err := c.Exchange(context.Background(), req); err != nil {
		t.Fatalf("a slow exchange failed: %v", err)
	}
	if fake.Calls("code-1") != 1 {
		t.Fatalf("calls = %d, want 1", fake.Calls("code-1"))
	}
}

func TestRefreshErrors(t *testing.T) {
	const token = "refresh-secret-value"
	tests := []struct {
		name     string
		program  func(*fakeamplify.Server)
		creds    aws.Credentials
		wantKind upstream.Kind
		wantCode string
		wantText string
		// wantCalls is how many calls the SDK makes, its modest retries included.
		wantCalls int
	}{
		{
			name:     "bad refresh token is rejected, and the echoed token is dropped",
			program:  func(f *fakeamplify.Server) { f.SetBehavior(token, fakeamplify.Behavior{Reject: true}) },
			wantKind: upstream.Rejected, wantCode: "InvalidParameterException", wantText: "HTTP 400", wantCalls: 1,
		},
		{
			name:     "5xx is transient after the SDK's retries",
			program:  func(f *fakeamplify.Server) { f.FailNext(token, 5, 500, "InternalServerException") },
			wantKind: upstream.Transient, wantCode: "InternalServerException", wantText: "HTTP 500", wantCalls: 3,
		},
		{
			name:     "throttling on HTTP 400 is transient",
			program:  func(f *fakeamplify.Server) { f.FailNext(token, 5, 400, "ThrottlingException") },
			wantKind: upstream.Transient, wantCode: "ThrottlingException", wantCalls: 3,
		},
		{
			name:     "a throttled token is transient",
			program:  func(f *fakeamplify.Server) { f.SetBehavior(token, fakeamplify.Behavior{Throttle: true}) },
			wantKind: upstream.Transient, wantCode: "ThrottlingException", wantText: "HTTP 400", wantCalls: 3,
		},
		{
			name:     "an unavailable service is transient",
			program:  func(f *fakeamplify.Server) { f.SetBehavior(token, fakeamplify.Behavior{Unavailable: true}) },
			wantKind: upstream.Transient, wantCode: "ServiceUnavailableException", wantText: "HTTP 503", wantCalls: 3,
		},
		{
			name:     "429 is transient",
			program:  func(f *fakeamplify.Server) { f.FailNext(token, 5, 429, "TooManyRequestsException") },
			wantKind: upstream.Transient, wantText: "HTTP 429", wantCalls: 3,
		},
		{
			name:     "wrong credentials are access denied",
			program:  func(*fakeamplify.Server) {},
			creds:    aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "wrong"},
			wantKind: upstream.AccessDenied, wantCode: "InvalidSignatureException", wantCalls: 0,
		},
		{
			name: "malformed JSON is transient",
			program: func(f *fakeamplify.Server) {
				f.SetBehavior(token, fakeamplify.Behavior{Body: `{"accessToken": "figat-partial`})
			},
			wantKind: upstream.Transient, wantText: "unreadable answer", wantCalls: 1,
		},
		{
			name:     "missing accessToken is transient",
			program:  func(f *fakeamplify.Server) { f.SetBehavior(token, fakeamplify.Behavior{Body: `{"expiresIn": 3600}`}) },
			wantKind: upstream.Transient, wantText: "no accessToken", wantCalls: 1,
		},
		{
			name: "missing expiresIn is transient",
			program: func(f *fakeamplify.Server) {
				f.SetBehavior(token, fakeamplify.Behavior{Body: `{"accessToken": "figat-x"}`})
			},
			wantKind: upstream.Transient, wantText: "no expiresIn", wantCalls: 1,
		},
		{
			name:     "a hung endpoint is cut by the deadline",
			program:  func(f *fakeamplify.Server) { f.SetBehavior(token, fakeamplify.Behavior{Delay: time.Minute}) },
			wantKind: upstream.Transient, wantText: "timeout", wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, url := startFake(t)
			tt.program(fake)
			creds := tt.creds
			if creds.AccessKeyID == "" {
				creds = testCreds
			}
			c := newClient(t, url, creds, time.Second)
			_, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: token})
			var aerr *upstream.Error
			if !errors.As(err, &aerr) {
				t.Fatalf("error %v is not an *upstream.Error", err)
			}
			if aerr.Kind != tt.wantKind || aerr.Code != tt.wantCode && tt.wantCode != "" {
				t.Fatalf("got %+v, want kind %v code %q", aerr, tt.wantKind, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("message %q lacks %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "figat-") {
				t.Fatalf("message %q leaks a token", err)
			}
			if got := fake.Calls(token); got != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestRefreshConnectionRefusedIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	_ = l.Close()
	c := newClient(t, url, testCreds, 5*time.Second)
	_, err = c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: "refresh"})
	var aerr *upstream.Error
	if !errors.As(err, &aerr) || aerr.Kind != upstream.Transient || aerr.Detail != "network error" {
		t.Fatalf("connection refused gave %#v", err)
	}
}

func TestRefreshWithoutCredentialsIsAccessDenied(t *testing.T) {
	_, url := startFake(t)
	c := newClient(t, url, aws.Credentials{}, 5*time.Second)
	_, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: "refresh"})
	var aerr *upstream.Error
	if !errors.As(err, &aerr) || aerr.Kind != upstream.AccessDenied {
		t.Fatalf("no credentials gave %#v", err)
	}
}

func TestExchangeWorksOnceThenTheRefreshTokenRefreshes(t *testing.T) {
	fake, url := startFake(t)
	c := newClient(t, url, testCreds, 5*time.Second)
	req := upstream.ExchangeRequest{Client: upstream.Client{ID: "client"}, Code: "code-1", RedirectURI: "https://example.com/cb"}
	got, err := c.Exchange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken == "" || got.AccessToken == "" || got.ExpiresIn != 3600 {
		t.Fatalf("Exchange = %+v", got)
	}
	if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: got.RefreshToken}); err != nil {
		t.Fatalf("the exchanged refresh token does not refresh: %v", err)
	}

	_, err = c.Exchange(context.Background(), req)
	var aerr *upstream.Error
	if !errors.As(err, &aerr) || aerr.Kind != upstream.Rejected || aerr.Code != "InvalidParameterException" {
		t.Fatalf("a used code gave %v, want Rejected InvalidParameterException", err)
	}
	if strings.Contains(err.Error(), "code-1") {
		t.Fatal("the error repeats the code")
	}
	if fake.Calls("code-1") != 2 {
		t.Fatalf("calls = %d, want 2 (a rejection is not retried by the SDK)", fake.Calls("code-1"))
	}
}

// A burst of calls as large as the workers reuses the connections of the burst before: the
// SDK alone keeps 10 per host, and 16 workers would open (and, against AWS, handshake) 6 new
// connections on every burst.
func TestABurstOfCallsReusesItsConnections(t *testing.T) {
	const workers = 16
	fake := fakeamplify.New(fakeamplify.Options{Credentials: testCreds, Region: "us-east-1", Lifetime: time.Hour})
	srv := httptest.NewUnstartedServer(fake)
	var opened atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := clientFor(t, testCreds, amplify.Options{Endpoint: srv.URL, CallTimeout: 5 * time.Second, Concurrency: workers})
	burst := func() {
		// Held answers keep every call of the burst in flight at once.
		for i := range workers {
			fake.SetBehavior(fmt.Sprintf("refresh-%d", i), fakeamplify.Behavior{Delay: 200 * time.Millisecond})
		}
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{ID: "client"}, RefreshToken: fmt.Sprintf("refresh-%d", i)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	burst()
	first := opened.Load()
	burst()
	if again := opened.Load() - first; again != 0 {
		t.Fatalf("the second burst of %d calls opened %d new connections (the first opened %d)", workers, again, first)
	}
}
