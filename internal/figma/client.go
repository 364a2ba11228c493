// Package figma refreshes Figma access tokens at Figma's own OAuth endpoints, with the
// client ID and secret of the user's Figma OAuth app, through golang.org/x/oauth2.
package figma

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"k8s.io/utils/clock"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// DefaultEndpoint is Figma's API, the default of --figma-endpoint.
const DefaultEndpoint = "https://api.figma.com"

// The paths of Figma's token endpoints (https://www.figma.com/developers/api#oauth2).
const (
	refreshPath  = "/v1/oauth/refresh"
	exchangePath = "/v1/oauth/token"
)

// The operations called, as named in errors.
const (
	opRefresh  = "Figma OAuth refresh"
	opExchange = "Figma OAuth code exchange"
)

// DefaultCallTimeout bounds every call, as the Amplify upstream's.
const DefaultCallTimeout = 30 * time.Second

// DefaultConnectTimeout bounds each TCP connect and TLS handshake.
const DefaultConnectTimeout = 10 * time.Second

// Options configure the client.
type Options struct {
	// Endpoint is the base URL of Figma's API (--figma-endpoint); DefaultEndpoint when "".
	Endpoint string
	// CallTimeout bounds each call; DefaultCallTimeout when zero.
	CallTimeout time.Duration
	// Concurrency is how many calls may be in flight at once: as many idle connections
	// are kept for reuse.
	Concurrency int
	// Clock tells when an answer arrived, for Retry-After; the real clock when nil.
	Clock clock.PassiveClock
}

// Client is the upstream.Refresher for Figma's OAuth endpoints. It makes exactly one request
// per call: the reconciler owns retries and backoff.
type Client struct {
	endpoint string
	http     *http.Client
	timeout  time.Duration
	clock    clock.PassiveClock
}

// New builds a Client; it refuses an endpoint that is not an http(s) URL with a host.
func New(opts Options) (*Client, error) {
	endpoint := strings.TrimRight(cmp.Or(opts.Endpoint, DefaultEndpoint), "/")
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("figma endpoint %q is not an http(s) URL with a host", endpoint)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = DefaultConnectTimeout
	transport.MaxIdleConnsPerHost = max(transport.MaxIdleConnsPerHost, opts.Concurrency)
	return &Client{
		endpoint: endpoint,
		http: &http.Client{
			Transport: transport,
			// A redirect would resend the refresh token and the client secret to another
			// address: the answer is taken as it is (and fails as an unusable answer).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: cmp.Or(opts.CallTimeout, DefaultCallTimeout),
		clock:   cmp.Or[clock.PassiveClock](opts.Clock, clock.RealClock{}),
	}, nil
}

// Endpoint is the base URL called.
func (c *Client) Endpoint() string { return c.endpoint }

// config is the OAuth configuration for one token URL. The credentials go in the
// Authorization header only (oauth2's auto-detection would, after any failure, send the
// request again with the secret in the body: two calls per attempt, and a code sent twice),
// and as they are: oauth2 form-encodes them first (RFC 6749 2.3.1), while Figma documents
// base64(client_id:client_secret), so a secret with '+', '/' or '=' would be refused. The
// header is set by basicAuth, on the request oauth2 builds.
func (c *Client) config(path string) *oauth2.Config {
	return &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: c.endpoint + path, AuthStyle: oauth2.AuthStyleInHeader}}
}

// withClient is ctx with the HTTP client oauth2 sends through, authenticating as client.
func (c *Client) withClient(ctx context.Context, client upstream.Client) context.Context {
	hc := *c.http
	hc.Transport = basicAuth{next: c.http.Transport, id: client.ID, secret: client.Secret}
	return context.WithValue(ctx, oauth2.HTTPClient, &hc)
}

// basicAuth sets HTTP Basic authentication with the client ID and secret as they are.
type basicAuth struct {
	next       http.RoundTripper
	id, secret string
}

func (b basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(b.id, b.secret)
	return b.next.RoundTrip(req)
}

// Refresh sends POST /v1/oauth/refresh with the refresh token. Figma does not rotate refresh
// tokens; a different refresh_token in the answer is returned as Result.RefreshToken.
func (c *Client) Refresh(ctx context.Context, req upstream.RefreshRequest) (upstream.Result, error) {
	ctx, cancel := context.WithTimeout(c.withClient(ctx, req.Client), c.timeout)
	defer cancel()
	token, err := c.config(refreshPath).TokenSource(ctx, &oauth2.Token{RefreshToken: req.RefreshToken}).Token()
	if err != nil {
		return upstream.Result{}, c.sanitize(err, opRefresh, req.RefreshToken, req.Client.Secret)
	}
	result, err := answer(opRefresh, token)
	// oauth2 fills in the refresh token sent when the answer has none.
	if token.RefreshToken != req.RefreshToken {
		result.RefreshToken = token.RefreshToken
	}
	return result, err
}

// Exchange sends POST /v1/oauth/token with the authorization code, once.
func (c *Client) Exchange(ctx context.Context, req upstream.ExchangeRequest) (upstream.Result, error) {
	ctx, cancel := context.WithTimeout(c.withClient(ctx, req.Client), c.timeout)
	defer cancel()
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("redirect_uri", req.RedirectURI)}
	if req.CodeVerifier != "" {
		opts = append(opts, oauth2.VerifierOption(req.CodeVerifier))
	}
	token, err := c.config(exchangePath).Exchange(ctx, req.Code, opts...)
	if err != nil {
		return upstream.Result{}, c.sanitize(err, opExchange, req.Code, req.Client.Secret)
	}
	result, err := answer(opExchange, token)
	if err == nil && token.RefreshToken == "" {
		return upstream.Result{}, &upstream.Error{Op: opExchange, Kind: upstream.Transient, HTTPStatus: http.StatusOK, Detail: "answer has no refresh_token"}
	}
	result.RefreshToken = token.RefreshToken
	return result, err
}

// answer checks the access token part of an answer. expires_in is read from the raw JSON:
// oauth2's Expiry counts from the local clock at arrival and its ExpiresIn caps at int32.
func answer(op string, token *oauth2.Token) (upstream.Result, error) {
	unusable := func(detail string) error {
		return &upstream.Error{Op: op, Kind: upstream.Transient, HTTPStatus: http.StatusOK, Detail: detail}
	}
	seconds, ok := expiresIn(token.Extra("expires_in"))
	if !ok {
		return upstream.Result{}, unusable("answer has no usable expires_in")
	}
	return upstream.Result{AccessToken: token.AccessToken, ExpiresIn: seconds}, nil
}

// expiresIn reads expires_in as a whole number of seconds: a JSON number, a string of digits
// as some servers send it, or the integer oauth2 parses from a form-encoded answer.
func expiresIn(raw any) (int64, bool) {
	switch v := raw.(type) {
	case int64:
		return v, true
	case float64:
		if v != float64(int64(v)) {
			return 0, false
		}
		return int64(v), true
	case string:
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || fmt.Sprint(n) != v {
			return 0, false
		}
		return n, true
	default:
		return 0, false
	}
}

// sanitize keeps the OAuth error code (when it has the shape of one and echoes no
// credential), the HTTP status and Retry-After, and drops everything else: the error's
// text and Body may echo the refresh token, and its request carries the client secret.
func (c *Client) sanitize(err error, op string, credentials ...string) *upstream.Error {
	e := &upstream.Error{Op: op}
	var rerr *oauth2.RetrieveError
	switch {
	case errors.As(err, &rerr) && rerr.Response != nil:
		e.HTTPStatus = rerr.Response.StatusCode
		e.Code = safeCode(rerr.ErrorCode, credentials)
		e.Kind = Classify(e.Code, e.HTTPStatus)
		if e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus == http.StatusServiceUnavailable {
			e.RetryAfter = RetryAfter(rerr.Response.Header.Get("Retry-After"), c.clock.Now())
		}
		if e.Code == "" && rerr.ErrorCode != "" {
			e.Detail = "unrecognized OAuth error code"
		}
	default:
		e.Kind, e.Detail = upstream.Transient, describe(err)
	}
	return e
}

// describe names a failure without an answer in a fixed phrase.
func describe(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &netErr):
		return "network error"
	default:
		// oauth2's own complaints about a 2xx answer: no access_token, unreadable JSON.
		return "unusable answer"
	}
}
