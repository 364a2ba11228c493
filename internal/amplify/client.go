// Package amplify calls the AWS Amplify UI Builder RefreshToken operation through the AWS
// SDK, and sorts its failures into the kinds the reconciler acts on.
package amplify

import (
	"context"
	"errors"
	"net"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/amplifyuibuilder"
	"github.com/aws/aws-sdk-go-v2/service/amplifyuibuilder/types"
	"github.com/aws/smithy-go"
)

// Refresher obtains access tokens: from a refresh token (RefreshToken) or, once, from an
// OAuth authorization code (ExchangeCodeForToken).
type Refresher interface {
	Refresh(ctx context.Context, req RefreshRequest) (RefreshResult, error)
	Exchange(ctx context.Context, req ExchangeRequest) (ExchangeResult, error)
}

// ExchangeRequest is one ExchangeCodeForToken call.
type ExchangeRequest struct {
	ClientID    string
	Code        string
	RedirectURI string
}

// ExchangeResult is ExchangeCodeForToken's answer: an access token and the refresh token
// that keeps it fresh from then on.
type ExchangeResult struct {
	RefreshResult
	RefreshToken string
}

// RefreshRequest is one RefreshToken call.
type RefreshRequest struct {
	ClientID     string
	RefreshToken string
}

// RefreshResult is RefreshToken's answer. ExpiresIn is as the server sent it; the
// schedule package decides what it means.
type RefreshResult struct {
	AccessToken string
	ExpiresIn   int64
}

// DefaultCallTimeout bounds every call, SDK retries included.
const DefaultCallTimeout = 30 * time.Second

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
	// MaxRetryBackoff caps the pause between the SDK's retries; 2 s when zero.
	MaxRetryBackoff time.Duration
	// ExtraConfig is passed to config.LoadDefaultConfig after the options above.
	ExtraConfig []func(*config.LoadOptions) error
}

// Client is the Refresher backed by the AWS SDK (SigV4 signing, retries).
type Client struct {
	api         *amplifyuibuilder.Client
	credentials aws.CredentialsProvider
	timeout     time.Duration
}

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
	api := amplifyuibuilder.NewFromConfig(cfg, func(o *amplifyuibuilder.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	timeout := opts.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	return &Client{api: api, credentials: cfg.Credentials, timeout: timeout}, nil
}

// Refresh calls RefreshToken once (with the SDK's modest retries) under a deadline.
// Every error it returns is an *Error and never contains a token.
func (c *Client) Refresh(ctx context.Context, req RefreshRequest) (RefreshResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.checkCredentials(ctx); err != nil {
		return RefreshResult{}, err
	}
	out, err := c.api.RefreshToken(ctx, &amplifyuibuilder.RefreshTokenInput{
		Provider:         types.TokenProvidersFigma,
		RefreshTokenBody: &types.RefreshTokenRequestBody{Token: aws.String(req.RefreshToken), ClientId: optional(req.ClientID)},
	})
	if err != nil {
		return RefreshResult{}, sanitize(err)
	}
	return accessToken(out.AccessToken, out.ExpiresIn)
}

// Exchange calls ExchangeCodeForToken once, like Refresh. A code can be used only once, so
// a caller must keep the refresh token it returns.
func (c *Client) Exchange(ctx context.Context, req ExchangeRequest) (ExchangeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.checkCredentials(ctx); err != nil {
		return ExchangeResult{}, err
	}
	out, err := c.api.ExchangeCodeForToken(ctx, &amplifyuibuilder.ExchangeCodeForTokenInput{
		Provider: types.TokenProvidersFigma,
		Request: &types.ExchangeCodeForTokenRequestBody{
			Code: aws.String(req.Code), RedirectUri: aws.String(req.RedirectURI), ClientId: optional(req.ClientID),
		},
	})
	if err != nil {
		return ExchangeResult{}, sanitize(err)
	}
	if out.RefreshToken == nil || *out.RefreshToken == "" {
		return ExchangeResult{}, &Error{Kind: Transient, HTTPStatus: 200, Detail: "answer has no refreshToken"}
	}
	result, err := accessToken(out.AccessToken, out.ExpiresIn)
	return ExchangeResult{RefreshResult: result, RefreshToken: *out.RefreshToken}, err
}

// optional leaves an empty string out of the request.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// checkCredentials turns missing or unloadable AWS credentials into AccessDenied before
// any request is sent.
func (c *Client) checkCredentials(ctx context.Context) error {
	if c.credentials == nil {
		return &Error{Kind: AccessDenied, Detail: "no AWS credentials configured"}
	}
	if _, err := c.credentials.Retrieve(ctx); err != nil {
		return &Error{Kind: AccessDenied, Detail: "AWS credentials could not be loaded"}
	}
	return nil
}

// accessToken checks the access token part of an answer.
func accessToken(token *string, expiresIn *int32) (RefreshResult, error) {
	if token == nil || *token == "" {
		return RefreshResult{}, &Error{Kind: Transient, HTTPStatus: 200, Detail: "answer has no accessToken"}
	}
	if expiresIn == nil {
		return RefreshResult{}, &Error{Kind: Transient, HTTPStatus: 200, Detail: "answer has no expiresIn"}
	}
	return RefreshResult{AccessToken: *token, ExpiresIn: int64(*expiresIn)}, nil
}

// sanitize keeps the error code, HTTP status and request ID and drops every message text.
func sanitize(err error) *Error {
	e := &Error{}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		e.HTTPStatus = respErr.HTTPStatusCode()
		e.RequestID = respErr.ServiceRequestID()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code = safeCode(apiErr.ErrorCode())
	}
	e.Kind = Classify(e.Code, e.HTTPStatus)
	if e.Code == "" {
		e.Detail = describe(err)
	}
	return e
}

// errorCodePattern is the shape of AWS error codes (type names such as ThrottlingException).
var errorCodePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._]{0,99}$`)

// safeCode keeps an error code only when it looks like one, so a server cannot put free text
// into condition messages through it.
func safeCode(code string) string {
	if code == "" || errorCodePattern.MatchString(code) {
		return code
	}
	return "UnrecognizedErrorCode"
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
