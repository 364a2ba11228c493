package amplify

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// The temporary credentials of an assumed role are renewed this long before they expire, by a
// fifth of it more or less (jitter), so that many clients' roles are not renewed at once and
// no call is signed with credentials about to lapse. The SDK's cache renews only at expiry
// unless told.
const (
	roleExpiryWindow = 5 * time.Minute
	roleJitter       = 0.2
)

// roleSessionDuration is how long each AssumeRole session lasts (STS's default, an hour).
const roleSessionDuration = time.Hour

// roleIdle is how long a role's credentials stay cached without a call: a role no client
// names any more (a changed roleArn, a deleted client) is dropped after it, so tenants cannot
// grow the cache without bound.
const roleIdle = 2 * roleSessionDuration

// roles keeps one credentials cache per role and external ID: the SDK's AssumeRole provider
// behind aws.CredentialsCache, which renews before expiry and lets concurrent callers share
// one STS call.
type roles struct {
	sts   stscreds.AssumeRoleAPIClient
	mu    sync.Mutex
	cache map[upstream.Role]*cachedRole
}

type cachedRole struct {
	creds    *aws.CredentialsCache
	lastUsed time.Time
}

func newRoles(cfg aws.Config, timeout time.Duration) *roles {
	return &roles{sts: boundedSTS{api: sts.NewFromConfig(cfg), timeout: timeout}, cache: map[upstream.Role]*cachedRole{}}
}

// credentials are the role's temporary credentials, assumed from the operator's own identity.
func (r *roles) credentials(role upstream.Role) *aws.CredentialsCache {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for key, c := range r.cache {
		if now.Sub(c.lastUsed) > roleIdle {
			delete(r.cache, key)
		}
	}
	if c, ok := r.cache[role]; ok {
		c.lastUsed = now
		return c.creds
	}
	provider := stscreds.NewAssumeRoleProvider(r.sts, role.ARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = role.SessionName
		o.Duration = roleSessionDuration
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
	})
	creds := aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = roleExpiryWindow
		o.ExpiryWindowJitterFrac = roleJitter
	})
	r.cache[role] = &cachedRole{creds: creds, lastUsed: now}
	return creds
}

// boundedSTS gives each AssumeRole the call's deadline: the credentials cache runs the
// provider without its caller's context, so an STS that never answers would otherwise hold
// every later call for the role.
type boundedSTS struct {
	api     *sts.Client
	timeout time.Duration
}

func (b boundedSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return b.api.AssumeRole(ctx, in, optFns...)
}

// assumeRoleError is a failed AssumeRole as the reconciler sees it, classified like the
// Amplify call's errors: throttling, STS's 5xx and no answer pass by themselves; anything
// else (the trust policy refuses the operator or the external ID, the role does not exist) is
// AccessDenied, as an administrator fixes it in IAM. The message names the role, never
// credentials.
func assumeRoleError(err error, op string, role upstream.Role) *upstream.Error {
	e := sanitize(err, op, "")
	e.Detail = "AssumeRole of " + role.ARN + " refused"
	if e.Kind == upstream.Transient {
		e.Detail = "AssumeRole of " + role.ARN + " failed"
		if e.Code == "" {
			e.Detail += " (" + describe(err) + ")"
		}
		return e
	}
	e.Kind = upstream.AccessDenied
	return e
}
