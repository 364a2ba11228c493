// Package amplify calls the AWS Amplify UI Builder RefreshToken operation through the AWS
// SDK, and sorts its failures into the kinds the reconciler acts on.
package amplify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/amplifyuibuilder"
	"github.com/aws/aws-sdk-go-v2/service/amplifyuibuilder/types"
	"github.com/aws/smithy-go"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// The operations called, as named in errors.
const (
	opRefresh  = "RefreshToken"
	opExchange = "ExchangeCodeForToken"
)

// DefaultCallTimeout bounds every call, SDK retries included.
const DefaultCallTimeout = 30 * time.Second

// DefaultConnectTimeout bounds the TCP connect and the TLS handshake of each attempt: an
// endpoint that cannot be reached costs an attempt, which the SDK retries on a new
// connection, not the call. Once a request is sent its answer is waited for up to the
// call's deadline: cutting it sooner would throw away a slow but healthy answer (and the
// token upstream may have issued for it) and send the request again.
const DefaultConnectTimeout = 10 * time.Second

// The SDK's own retries stay modest: the reconciler owns the long backoff.
const (
	maxAttempts            = 3
	defaultMaxRetryBackoff = 2 * time.Second
)

// Options configure the client. Zero values take the SDK's default chain.
type Options struct {
	// Endpoint overrides the SDK's endpoint resolution (AWS_ENDPOINT_URL_AMPLIFYUIBUILDER,
	// AWS_ENDPOINT_URL, then the regional default).
	Endpoint string
	// Region overrides AWS_REGION and the shared config.
	Region string
	// CallTimeout bounds each call; DefaultCallTimeout when zero.
	CallTimeout time.Duration
	// ConnectTimeout bounds each attempt's TCP connect and TLS handshake;
	// DefaultConnectTimeout when zero. It applies to the SDK's own HTTP client only: one
	// the configuration brings (ExtraConfig) is kept as it is.
	ConnectTimeout time.Duration
	// Concurrency is how many calls may be in flight at once (the reconciler's workers). As
	// many connections per host are kept open between calls, so a burst of refreshes reuses
	// them rather than opening (and, against AWS, TLS-handshaking) new ones; the SDK keeps
	// 10 per host and 100 in all (awshttp.DefaultHTTPTransportMaxIdleConns*), which stay
	// the floor.
	Concurrency int
	// MaxRetryBackoff caps the pause between the SDK's retries; 2 s when zero.
	MaxRetryBackoff time.Duration
	// ExtraConfig is passed to config.LoadDefaultConfig after the options above.
	ExtraConfig []func(*config.LoadOptions) error
}

// Client is the upstream.Refresher backed by the AWS SDK (SigV4 signing, retries).
type Client struct {
	api         *amplifyuibuilder.Client
	credentials aws.CredentialsProvider
	roles       *roles
	timeout     time.Duration
	region      string
	endpoint    string
}

// Region is the AWS region the client calls.
func (c *Client) Region() string { return c.region }

// Endpoint is the endpoint override, "" for the SDK's regional default.
func (c *Client) Endpoint() string { return c.endpoint }

// New loads the AWS configuration from the SDK's default chain and builds a Client.
func New(ctx context.Context, opts Options) (*Client, error) {
	maxBackoff := opts.MaxRetryBackoff
	if maxBackoff <= 0 {
		maxBackoff = defaultMaxRetryBackoff
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = maxBackoff
				// The shared retry quota would let one failing token starve all others.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	loadOpts = append(loadOpts, opts.ExtraConfig...)
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, err
	}
	// Settings that can never work stop the start, rather than fail every refresh as if
	// the failure were transient.
	if cfg.Region == "" {
		return nil, ErrNoRegion
	}
	for _, endpoint := range []string{opts.Endpoint, aws.ToString(cfg.BaseEndpoint)} {
		if err := checkEndpoint(endpoint); err != nil {
			return nil, err
		}
	}
	api := amplifyuibuilder.NewFromConfig(cfg, func(o *amplifyuibuilder.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.APIOptions = append(o.APIOptions, addKeepRawExpiresIn)
		if hc := ownTransport(cfg.HTTPClient, cmp.Or(opts.ConnectTimeout, DefaultConnectTimeout), opts.Concurrency); hc != nil {
			o.HTTPClient = hc
		}
	})
	timeout := opts.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	endpoint := opts.Endpoint
	if endpoint == "" {
		endpoint = aws.ToString(cfg.BaseEndpoint)
	}
	return &Client{api: api, credentials: cfg.Credentials, roles: newRoles(cfg, timeout), timeout: timeout, region: cfg.Region, endpoint: endpoint}, nil
}

// ownTransport is the SDK's HTTP client with connect and TLS handshake bounded by connect,
// no bound on the whole request but the call's context, and idle connections kept for
// concurrency calls at once. nil when the configuration brings an HTTP client of its own,
// which is kept as it is.
func ownTransport(configured aws.HTTPClient, connect time.Duration, concurrency int) amplifyuibuilder.HTTPClient {
	var c *awshttp.BuildableClient
	switch configured := configured.(type) {
	case nil:
		c = awshttp.NewBuildableClient()
	case *awshttp.BuildableClient:
		c = configured
	default:
		return nil
	}
	return c.WithDialerOptions(func(d *net.Dialer) { d.Timeout = connect }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = connect
			t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, concurrency)
			if t.MaxIdleConns != 0 { // 0: no limit over all hosts
				t.MaxIdleConns = max(t.MaxIdleConns, concurrency)
			}
		})
}

// ErrNoRegion means neither the options nor the SDK's configuration chain name an AWS region.
var ErrNoRegion = errors.New("no AWS region configured")

// checkEndpoint refuses an endpoint URL the SDK could never call; "" is no override.
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an http(s) URL with a host", endpoint)
	}
	return nil
}

// Refresh calls RefreshToken once (with the SDK's modest retries) under a deadline.
// Every error it returns is an *upstream.Error and never contains a token.
func (c *Client) Refresh(ctx context.Context, req upstream.RefreshRequest) (upstream.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	signAs, err := c.signer(ctx, opRefresh, req.Client.Role)
	if err != nil {
		return upstream.Result{}, err
	}
	out, err := c.api.RefreshToken(ctx, &amplifyuibuilder.RefreshTokenInput{
		Provider:         types.TokenProvidersFigma,
		RefreshTokenBody: &types.RefreshTokenRequestBody{Token: aws.String(req.RefreshToken), ClientId: optional(req.Client.ID)},
	}, signAs)
	if err != nil {
		return upstream.Result{}, sanitize(err, opRefresh, req.RefreshToken)
	}
	return accessToken(opRefresh, out.AccessToken, rawExpiresIn(out.ResultMetadata))
}

// Exchange calls ExchangeCodeForToken exactly once: a code works once, so the SDK must not
// resend it (if AWS spent it and the answer was lost, a resend is refused and hides what
// happened). A caller must keep the refresh token it returns.
func (c *Client) Exchange(ctx context.Context, req upstream.ExchangeRequest) (upstream.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	signAs, err := c.signer(ctx, opExchange, req.Client.Role)
	if err != nil {
		return upstream.Result{}, err
	}
	out, err := c.api.ExchangeCodeForToken(ctx, &amplifyuibuilder.ExchangeCodeForTokenInput{
		Provider: types.TokenProvidersFigma,
		Request: &types.ExchangeCodeForTokenRequestBody{
			Code: aws.String(req.Code), RedirectUri: aws.String(req.RedirectURI), ClientId: optional(req.Client.ID),
		},
	}, signAs, func(o *amplifyuibuilder.Options) { o.Retryer = aws.NopRetryer{} })
	if err != nil {
		return upstream.Result{}, sanitize(err, opExchange, req.Code)
	}
	if out.RefreshToken == nil || *out.RefreshToken == "" {
		return upstream.Result{}, &upstream.Error{Op: opExchange, Kind: upstream.Transient, HTTPStatus: 200, Detail: "answer has no refreshToken"}
	}
	result, err := accessToken(opExchange, out.AccessToken, rawExpiresIn(out.ResultMetadata))
	result.RefreshToken = *out.RefreshToken
	return result, err
}

// optional leaves an empty string out of the request.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// signer is the option that signs a call as role (assumed with STS AssumeRole from the
// operator's identity, its credentials cached and renewed before they expire), or with the
// operator's own identity for the zero role. Credentials that cannot be had are an error
// before any request is sent.
func (c *Client) signer(ctx context.Context, op string, role upstream.Role) (func(*amplifyuibuilder.Options), error) {
	if role.ARN == "" {
		return func(*amplifyuibuilder.Options) {}, c.checkCredentials(ctx, op)
	}
	if err := c.checkCredentials(ctx, op); err != nil {
		return nil, err // AssumeRole is signed with the operator's own identity
	}
	creds := c.roles.credentials(role)
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, assumeRoleError(err, op, role)
	}
	return func(o *amplifyuibuilder.Options) { o.Credentials = creds }, nil
}

// checkCredentials turns missing or unloadable AWS credentials into AccessDenied before
// any request is sent.
func (c *Client) checkCredentials(ctx context.Context, op string) error {
	if c.credentials == nil {
		return &upstream.Error{Op: op, Kind: upstream.AccessDenied, Detail: "no AWS credentials configured"}
	}
	if _, err := c.credentials.Retrieve(ctx); err != nil {
		return &upstream.Error{Op: op, Kind: upstream.AccessDenied, Detail: "AWS credentials could not be loaded"}
	}
	return nil
}

// accessToken checks the access token part of an answer. expiresIn is the raw JSON number:
// the SDK's int32 field would wrap larger values.
func accessToken(op string, token *string, expiresIn string) (upstream.Result, error) {
	if token == nil || *token == "" {
		return upstream.Result{}, &upstream.Error{Op: op, Kind: upstream.Transient, HTTPStatus: 200, Detail: "answer has no accessToken"}
	}
	if expiresIn == "" {
		return upstream.Result{}, &upstream.Error{Op: op, Kind: upstream.Transient, HTTPStatus: 200, Detail: "answer has no expiresIn"}
	}
	seconds, err := strconv.ParseInt(expiresIn, 10, 64)
	if err != nil {
		return upstream.Result{}, &upstream.Error{Op: op, Kind: upstream.Transient, HTTPStatus: 200, Detail: "answer has an unusable expiresIn"}
	}
	return upstream.Result{AccessToken: *token, ExpiresIn: seconds}, nil
}

// sanitize keeps the error code, HTTP status and request ID, each only when it is safe to
// show, and drops every message text. credential is what the request sent (refresh token
// or code): a server may echo it anywhere.
func sanitize(err error, op, credential string) *upstream.Error {
	e := &upstream.Error{Op: op}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		e.HTTPStatus = respErr.HTTPStatusCode()
		e.RequestID = safe(respErr.ServiceRequestID(), requestIDPattern, credential, "")
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code = safe(apiErr.ErrorCode(), errorCodePattern, credential, "UnrecognizedErrorCode")
	}
	e.Kind = Classify(e.Code, e.HTTPStatus)
	if e.Code == "" {
		e.Detail = describe(err)
	}
	return e
}

// The shapes AWS uses: request IDs are UUIDs or base-32/64-like strings, error codes are
// type names such as ThrottlingException.
var (
	requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	errorCodePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._]{0,99}$`)
)

// safe keeps a value from an answer's headers only when it has the expected shape and
// shares no run of the credential sent; else it returns instead. So a server cannot put
// free text, or the token it was sent, into condition messages, Events and logs.
func safe(value string, shape *regexp.Regexp, credential, instead string) string {
	if value == "" {
		return ""
	}
	if !shape.MatchString(value) || upstream.Echoes(value, credential) {
		return instead
	}
	return value
}

// describe names a failure without an AWS error code in a fixed phrase.
func describe(err error) string {
	var netErr net.Error
	var deserErr *smithy.DeserializationError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &deserErr):
		return "unreadable answer"
	case errors.As(err, &netErr):
		return "network error"
	default:
		return "request failed"
	}
}
