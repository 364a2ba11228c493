package policy

import (
	"strings"
	"testing"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// The OAuth client and the upstream's Retry-After, as the decision sees them.

func TestAClientThatMayNotBeUsedStallsBeforeAnyCallAndKeepsReady(t *testing.T) {
	for _, blocked := range []string{figmav1alpha1.ReasonOAuthClientNotReady, figmav1alpha1.ReasonAWSAccessDenied} {
		o := with(healthy(), func(o *Observation) {
			o.Now = scheduled.Add(time.Minute) // due
			o.Route = Route{Client: "FigmaOAuthClient app", Blocked: blocked, Message: "what is wrong"}
		})
		d := Decide(o)
		if d.Refresh || !d.Blocked || d.Reason != blocked || d.Message != "what is wrong" || !d.Stalled {
			t.Fatalf("%s: decision %+v, want Stalled with no refresh", blocked, d)
		}
		if !d.Ready {
			t.Fatalf("%s: Ready False while the Secret holds a valid token", blocked)
		}
		if !d.Next.IsZero() {
			t.Fatalf("%s: a refresh is planned at %v while blocked", blocked, d.Next)
		}
	}
}

func TestABlockedClientComesAfterTheSecretsOwnProblems(t *testing.T) {
	o := with(healthy(), func(o *Observation) {
		o.RefreshTokenHash, o.CodeHash = "", ""
		o.Route = Route{Blocked: figmav1alpha1.ReasonOAuthClientNotReady, Message: "m"}
	})
	if d := Decide(o); d.Reason != figmav1alpha1.ReasonRefreshTokenMissing {
		t.Fatalf("reason %s, want RefreshTokenMissing first", d.Reason)
	}
}

func TestRetryAfterHoldsEveryCallBackUntilThen(t *testing.T) {
	until := now.Add(2 * time.Minute)
	o := with(healthy(), func(o *Observation) {
		failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Minute)(o)
		o.Failure.RetryAfter = until
		o.Request = "a new request" // a changed input is handled then, not now
		o.RefreshTokenHash = "hash-2"
	})
	d := Decide(o)
	if d.Refresh || !d.Next.Equal(until) || !d.Wake.Equal(until) {
		t.Fatalf("decision %+v, want no call before %v", d, until)
	}
	o.Now = until
	if d := Decide(o); !d.Refresh {
		t.Fatal("no call once Retry-After has passed")
	}
}

func TestRetryAfterLaterThanTheBackoffIsWhatCounts(t *testing.T) {
	until := now.Add(10 * time.Minute)
	o := with(healthy(), func(o *Observation) {
		failing(figmav1alpha1.ReasonRefreshFailed, 1, 0)(o)
		o.Failure.RetryAfter = until
	})
	if d := Decide(o); !d.Next.Equal(until) {
		t.Fatalf("next %v, want the Retry-After %v", d.Next, until)
	}
}

func TestAChangedClientRetriesAClientRejectionAtOnce(t *testing.T) {
	o := with(healthy(), func(o *Observation) {
		failing(figmav1alpha1.ReasonOAuthClientRejected, 3, time.Second)(o)
		o.Failure.Client, o.Route.Version = "v1", "v1"
	})
	if d := Decide(o); d.Refresh || d.Reason != figmav1alpha1.ReasonOAuthClientRejected || !d.Stalled {
		t.Fatalf("decision %+v, want Stalled OAuthClientRejected waiting for the backoff", d)
	}
	o.Route.Version = "v2"
	if d := Decide(o); !d.Refresh {
		t.Fatal("a changed client (or its Secret) is not tried at once")
	}
	// A refresh token the upstream refused is not retried because the client changed.
	o = with(o, failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second))
	o.Failure.Client = "v1"
	if d := Decide(o); d.Refresh {
		t.Fatal("a RefreshRejected is retried on a client change")
	}
}

func TestAClientRejectionCountsAsRejected(t *testing.T) {
	if got := Result(&UpstreamError{Kind: UpstreamClientRejected}); got != ResultRejected {
		t.Fatalf("result %q, want rejected", got)
	}
	f := UpstreamFailure(UpstreamError{Kind: UpstreamClientRejected, Shown: "Figma OAuth refresh failed: invalid_client, HTTP 401"},
		with(healthy(), func(o *Observation) { o.Route.Client = "FigmaOAuthClient design-app" }))
	if f.Reason != figmav1alpha1.ReasonOAuthClientRejected || !strings.Contains(f.Message, "FigmaOAuthClient design-app") {
		t.Fatalf("failure %+v", f)
	}
}

func TestARetryAfterMessageSaysUntilWhenAndWhetherTheTokenLapsesFirst(t *testing.T) {
	o := healthy() // expires at 11:00
	f := UpstreamFailure(UpstreamError{Shown: "HTTP 429", RetryAfter: now.Add(time.Hour)}, o)
	if !strings.Contains(f.Message, "no request before 2026-11-25T11:30:00Z") || !strings.Contains(f.Message, "expires before then, at 2026-11-25T11:00:00Z") {
		t.Fatalf("message %q", f.Message)
	}
	if !f.RetryAfter.Equal(now.Add(time.Hour)) {
		t.Fatalf("RetryAfter %v", f.RetryAfter)
	}
}
