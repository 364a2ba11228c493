package amplify_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/upstream"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

const tenantRole = "arn:aws:iam::111122223333:role/figma-web"

// withSTS serves a fake Amplify endpoint and a fake STS that lets the operator's identity
// assume tenantRole with the external ID figma.tokenops.dev/web, and a client of both (STS
// found through AWS_ENDPOINT_URL_STS, as the SDK's configuration finds it).
func withSTS(t *testing.T) (*fakeamplify.Server, *fakeamplify.STS, *amplify.Client) {
	t.Helper()
	return withSTSLifetime(t, time.Hour)
}

// withSTSLifetime is withSTS with temporary credentials that last lifetime.
func withSTSLifetime(t *testing.T, lifetime time.Duration) (*fakeamplify.Server, *fakeamplify.STS, *amplify.Client) {
	t.Helper()
	fake := fakeamplify.New(fakeamplify.Options{Credentials: testCreds, Region: "us-east-1", Lifetime: time.Hour})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sts := fakeamplify.NewSTS(fakeamplify.STSOptions{Credentials: testCreds, Region: "us-east-1", Amplify: fake, Lifetime: lifetime,
		Roles: map[string]string{tenantRole: "figma.tokenops.dev/web"}})
	stsSrv := httptest.NewServer(sts)
	t.Cleanup(stsSrv.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", stsSrv.URL)
	return fake, sts, newClient(t, srv.URL, testCreds, 5*time.Second)
}

var webRole = upstream.Role{ARN: tenantRole, ExternalID: "figma.tokenops.dev/web", SessionName: "figma-token-operator-web"}

func TestACallIsSignedAsTheClientsRoleAssumedOnce(t *testing.T) {
	fake, sts, c := withSTS(t)
	for _, rt := range []string{"rt-1", "rt-2"} {
		if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{Role: webRole}, RefreshToken: rt}); err != nil {
			t.Fatal(err)
		}
		if got := fake.SignedAs(rt); len(got) != 1 || got[0] != tenantRole {
			t.Fatalf("%s signed as %q, want the role", rt, got)
		}
	}
	if got := sts.Sessions(tenantRole); len(got) != 1 || got[0] != "figma-token-operator-web" {
		t.Fatalf("AssumeRole sessions %q, want one (the credentials are cached), named for the namespace", got)
	}
	// Without a role, the operator's own identity.
	if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{RefreshToken: "rt-own"}); err != nil {
		t.Fatal(err)
	}
	if got := fake.SignedAs("rt-own"); len(got) != 1 || got[0] != "" {
		t.Fatalf("signed as %q, want the operator's own identity", got)
	}
}

func TestARefusedAssumeRoleIsAccessDeniedNamingTheRole(t *testing.T) {
	fake, sts, c := withSTS(t)
	for _, role := range []upstream.Role{
		{ARN: tenantRole, ExternalID: "figma.tokenops.dev/other", SessionName: "figma-token-operator-other"}, // another namespace
		{ARN: "arn:aws:iam::111122223333:role/unknown", SessionName: "figma-token-operator-web"},
	} {
		_, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{Role: role}, RefreshToken: "rt"})
		var uerr *upstream.Error
		if !errors.As(err, &uerr) || uerr.Kind != upstream.AccessDenied || !strings.Contains(err.Error(), role.ARN) || uerr.Code != "AccessDenied" {
			t.Fatalf("%v, want AccessDenied naming %s", err, role.ARN)
		}
		if strings.Contains(err.Error(), testCreds.SecretAccessKey) || strings.Contains(err.Error(), testCreds.AccessKeyID) {
			t.Fatalf("%v shows the operator's credentials", err)
		}
	}
	if fake.TotalCalls() != 0 || sts.Refused() == 0 {
		t.Fatalf("%d Amplify calls, %d refusals: want no call without the role", fake.TotalCalls(), sts.Refused())
	}
}

func TestAThrottledAssumeRoleIsTransient(t *testing.T) {
	_, sts, c := withSTS(t)
	sts.ThrottleNext(10) // more than the SDK's attempts
	_, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{Role: webRole}, RefreshToken: "rt"})
	var uerr *upstream.Error
	if !errors.As(err, &uerr) || uerr.Kind != upstream.Transient || uerr.Code != "Throttling" || !strings.Contains(err.Error(), tenantRole) {
		t.Fatalf("%v, want a transient failure", err)
	}
}

// Credentials are reused for many calls, and renewed once they are within the expiry window
// (5 minutes, with jitter) of lapsing: credentials that last 4 minutes are never used as
// they are, each call assumes the role again (at least once).
func TestRoleCredentialsAreReusedUntilShortlyBeforeTheyExpire(t *testing.T) {
	for _, tt := range []struct {
		lifetime  time.Duration
		want, max int
	}{{time.Hour, 1, 1}, {4 * time.Minute, 20, 40}} {
		_, sts, c := withSTSLifetime(t, tt.lifetime)
		for i := range 20 {
			rt := "rt-" + strings.Repeat("x", i)
			if _, err := c.Refresh(context.Background(), upstream.RefreshRequest{Client: upstream.Client{Role: webRole}, RefreshToken: rt}); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(sts.Sessions(tenantRole)); got < tt.want || got > tt.max {
			t.Fatalf("credentials lasting %s: %d AssumeRole calls for 20 refreshes, want %d to %d", tt.lifetime, got, tt.want, tt.max)
		}
	}
}
