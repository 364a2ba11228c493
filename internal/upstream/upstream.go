// Package upstream is the seam between the reconciler and the services that turn a refresh
// token (or, once, an OAuth authorization code) into an access token: the AWS Amplify UI
// Builder operations (internal/amplify) and Figma's own OAuth endpoints (internal/figma).
// Which one a FigmaToken uses follows from its OAuth client (spec.clientRef).
package upstream

import "context"

// Refresher obtains access tokens. Every error it returns is an *Error, which carries no
// token, no client secret and no text from the server.
type Refresher interface {
	Refresh(ctx context.Context, req RefreshRequest) (Result, error)
	// Exchange trades an authorization code for tokens, sending it exactly once: a code
	// works once. A caller must keep the refresh token it returns.
	Exchange(ctx context.Context, req ExchangeRequest) (Result, error)
}

// Client is the OAuth client a request is made for.
type Client struct {
	// ID is the OAuth client ID (Amplify: sent as clientId when set; Figma: required).
	ID string
	// Secret is the client secret (Figma only, sent as HTTP Basic credentials). Never
	// logged or formatted.
	Secret string
	// Role is the AWS role an Amplify call is signed as; zero for the operator's own identity.
	Role Role
}

// Role is an AWS IAM role the operator assumes (STS AssumeRole) to sign a client's calls.
type Role struct {
	// ARN of the role, e.g. arn:aws:iam::111122223333:role/figma-web.
	ARN string
	// ExternalID is sent with AssumeRole: figma.tokenops.dev/<namespace> for a namespaced
	// client, so that a role's trust policy admits one namespace; "" for none.
	ExternalID string
	// SessionName names the session in CloudTrail (the client's namespace, or "cluster").
	SessionName string
}

// RefreshRequest is one refresh of an access token.
type RefreshRequest struct {
	Client       Client
	RefreshToken string
}

// ExchangeRequest is one exchange of an authorization code.
type ExchangeRequest struct {
	Client      Client
	Code        string
	RedirectURI string
	// CodeVerifier is the PKCE verifier (RFC 7636) sent with the code; "" for none.
	CodeVerifier string
}

// Result is an upstream's answer. ExpiresIn is as the server sent it; the schedule package
// decides what it means.
type Result struct {
	AccessToken string
	ExpiresIn   int64
	// RefreshToken is the refresh token an exchange issued, or a new one a refresh rotated
	// to; "" when the refresh token sent stays valid.
	RefreshToken string
}
