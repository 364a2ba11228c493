package policy

import (
	"strings"
	"testing"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

var now = time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)

// scheduled is when healthy()'s token is due: 11:00 − 20m (a third of the hour) − the jitter
// of UID uid-1 (53 s of at most 3 min).
var scheduled = time.Date(2026, 11, 25, 10, 39, 7, 0, time.UTC)

// healthy is a FigmaToken whose Secret holds a one-hour token obtained at 10:00.
func healthy() Observation {
	return Observation{
		Now: now, Self: "ft", UID: "uid-1", Generation: 1,
		Namespace: "web", SecretName: "creds", RefreshTokenKey: "refreshToken",
		SecretFound: true, Claim: tokensecret.Verdict{Allowed: true},
		RefreshTokenHash: "hash-1", AccessTokenSet: true, TokenHeld: true,
		Record: tokensecret.Record{
			Owner:            "ft",
			RefreshedAt:      now.Add(-30 * time.Minute),
			ExpiresAt:        now.Add(30 * time.Minute),
			RefreshTokenHash: "hash-1",
		},
	}
}

func with(o Observation, change func(*Observation)) Observation {
	change(&o)
	return o
}

func failing(reason string, attempts int32, ago time.Duration) func(*Observation) {
	return func(o *Observation) {
		o.Failure = Failure{Attempts: attempts, Last: now.Add(-ago), Reason: reason, Message: reason + " message",
			Generation: 1, CredentialHash: "hash-1"}
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name        string
		obs         Observation
		wantRefresh bool
		wantReason  string
		// wantNext is the exact planned refresh; zero when refreshing now or blocked.
		wantNext time.Time
	}{
		{name: "token valid and not yet due: wait", obs: healthy(), wantNext: scheduled},
		{name: "a requested refresh in flight at another instance: wait for its answer",
			obs: with(healthy(), func(o *Observation) {
				o.Request, o.InFlight = "r1", tokensecret.InFlight{Request: "r1", Until: now.Add(20 * time.Second)}
			}), wantNext: now.Add(20 * time.Second)},
		{name: "a requested refresh in flight past its deadline: answer it",
			obs: with(healthy(), func(o *Observation) {
				o.Request, o.InFlight = "r1", tokensecret.InFlight{Request: "r1", Until: now.Add(-time.Second)}
			}), wantRefresh: true},
		{name: "a requested refresh in flight at another instance during a failure streak: wait for it too",
			obs: with(with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 2, time.Minute)), func(o *Observation) {
				o.Request, o.InFlight = "r1", tokensecret.InFlight{Request: "r1", Until: now.Add(20 * time.Second)}
			}), wantReason: figmav1alpha1.ReasonRefreshFailed, wantNext: now.Add(20 * time.Second)},
		{name: "a requested refresh in flight that the kept token answers (this process's call): write it",
			obs: with(healthy(), func(o *Observation) {
				o.Request, o.InFlight = "r1", tokensecret.InFlight{Request: "r1", Until: now.Add(20 * time.Second)}
				o.Kept = Kept{CredentialHash: "hash-1", Request: "r1", RefreshedAt: now, ExpiresAt: now.Add(time.Hour)}
			}), wantRefresh: true},
		{name: "another request in flight: answer this one",
			obs: with(healthy(), func(o *Observation) {
				o.Request, o.InFlight = "r2", tokensecret.InFlight{Request: "r1", Until: now.Add(20 * time.Second)}
			}), wantRefresh: true},
		{name: "due by the schedule", obs: with(healthy(), func(o *Observation) { o.Now = scheduled }), wantRefresh: true},
		{name: "a second before the schedule", obs: with(healthy(), func(o *Observation) { o.Now = scheduled.Add(-time.Second) }), wantNext: scheduled},
		{name: "refreshBefore from the spec", obs: with(healthy(), func(o *Observation) { o.RefreshBefore = 5 * time.Minute }),
			wantNext: time.Date(2026, 11, 25, 10, 54, 7, 0, time.UTC)},
		{name: "expired token", obs: with(healthy(), func(o *Observation) { o.Now = now.Add(time.Hour) }), wantRefresh: true},
		{name: "no token written yet", obs: with(healthy(), func(o *Observation) { o.Record = tokensecret.Record{}; o.AccessTokenSet, o.TokenHeld = false, false }), wantRefresh: true},
		{name: "access token emptied by someone", obs: with(healthy(), func(o *Observation) { o.AccessTokenSet, o.TokenHeld = false, false }), wantRefresh: true},
		{name: "record written by a FigmaToken that moved on", obs: with(healthy(), func(o *Observation) { o.Record.Owner = "gone" }), wantRefresh: true},
		{name: "refresh token rotated", obs: with(healthy(), func(o *Observation) { o.RefreshTokenHash = "hash-2" }), wantRefresh: true},
		{name: "new refresh request", obs: with(healthy(), func(o *Observation) { o.Request = "2026-11-25T10:29:00Z" }), wantRefresh: true},
		{name: "request already handled in the Secret", obs: with(healthy(), func(o *Observation) {
			o.Request = "r1"
			o.Record.HandledRefreshRequest = "r1"
		}), wantNext: scheduled},
		{name: "request already handled by a failed attempt", obs: with(healthy(), func(o *Observation) {
			o.Request = "r1"
			failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)(o)
			o.Failure.Request = "r1"
		}), wantReason: figmav1alpha1.ReasonRefreshFailed, wantNext: now.Add(-time.Second + 4856135950)},
		{name: "suspended wins over everything", obs: with(healthy(), func(o *Observation) { o.Suspended = true; o.SecretFound = false }),
			wantReason: figmav1alpha1.ReasonSuspended},
		{name: "Secret missing", obs: with(healthy(), func(o *Observation) { o.SecretFound = false }), wantReason: figmav1alpha1.ReasonSecretNotFound},
		{name: "Secret owned by someone else", obs: with(healthy(), func(o *Observation) { o.Claim = tokensecret.Verdict{Why: "taken"} }),
			wantReason: figmav1alpha1.ReasonSecretConflict},
		{name: "refresh token missing", obs: with(healthy(), func(o *Observation) { o.RefreshTokenHash = "" }), wantReason: figmav1alpha1.ReasonRefreshTokenMissing},
		{name: "transient failure within backoff: wait 5 s less jitter", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)),
			wantReason: figmav1alpha1.ReasonRefreshFailed, wantNext: now.Add(-time.Second + 4856135950)},
		{name: "transient failure after backoff: retry", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 1, 6*time.Second)),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonRefreshFailed},
		{name: "access denied retries on the transient schedule", obs: with(healthy(), failing(figmav1alpha1.ReasonAWSAccessDenied, 2, 11*time.Second)),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonAWSAccessDenied},
		{name: "a failed write retries on the transient schedule", obs: with(healthy(), failing(figmav1alpha1.ReasonSecretWriteFailed, 2, time.Second)),
			wantReason: figmav1alpha1.ReasonSecretWriteFailed, wantNext: now.Add(-time.Second + 9960237775)},
		{name: "rejection waits a minute less jitter", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, 30*time.Second)),
			wantReason: figmav1alpha1.ReasonRefreshRejected, wantNext: now.Add(-30*time.Second + 58273631389)},
		{name: "rejection retries after its slow backoff", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, 61*time.Second)),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonRefreshRejected},
		{name: "rejection retries at once for a new refresh token", obs: with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *Observation) { o.RefreshTokenHash = "hash-2" }), wantRefresh: true, wantReason: figmav1alpha1.ReasonRefreshRejected},
		{name: "rejection retries at once for a new spec", obs: with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *Observation) { o.Generation = 2 }), wantRefresh: true, wantReason: figmav1alpha1.ReasonRefreshRejected},
		{name: "rejection retries at once for a new request", obs: with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)),
			func(o *Observation) { o.Request = "r2" }), wantRefresh: true, wantReason: figmav1alpha1.ReasonRefreshRejected},
		{name: "an authorization code instead of a refresh token: exchange it", obs: with(healthy(), func(o *Observation) {
			o.RefreshTokenHash, o.CodeHash = "", "code-1"
			o.Record, o.AccessTokenSet, o.TokenHeld = tokensecret.Record{}, false, false
		}), wantRefresh: true},
		{name: "a refused code waits", obs: with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)), func(o *Observation) {
			o.RefreshTokenHash, o.CodeHash, o.Failure.CredentialHash = "", "code-1", "code-1"
		}), wantReason: figmav1alpha1.ReasonRefreshRejected, wantNext: now.Add(-time.Second + 58273631389)},
		{name: "a new code is tried at once", obs: with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)), func(o *Observation) {
			o.RefreshTokenHash, o.CodeHash, o.Failure.CredentialHash = "", "code-2", "code-1"
		}), wantRefresh: true, wantReason: figmav1alpha1.ReasonRefreshRejected},
		{name: "rejection whose credential is unknown (a status from before failedCredentialHash) waits",
			obs:        with(with(healthy(), failing(figmav1alpha1.ReasonRefreshRejected, 3, time.Second)), func(o *Observation) { o.Failure.CredentialHash = "" }),
			wantReason: figmav1alpha1.ReasonRefreshRejected, wantNext: now.Add(-time.Second + 228921733240)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.obs)
			if got.Refresh != tt.wantRefresh || got.Reason != tt.wantReason || !got.Next.Equal(tt.wantNext) {
				t.Fatalf("Decide = refresh %v, reason %q, next %v; want %v, %q, %v", got.Refresh, got.Reason, got.Next, tt.wantRefresh, tt.wantReason, tt.wantNext)
			}
		})
	}
}

func TestDecideMessagesSayWhatToDo(t *testing.T) {
	tests := []struct {
		name        string
		obs         Observation
		wantMessage string
	}{
		{name: "suspended", obs: with(healthy(), func(o *Observation) { o.Suspended = true }),
			wantMessage: "spec.suspend is true: no refreshes until it is false."},
		{name: "Secret missing", obs: with(healthy(), func(o *Observation) { o.SecretFound = false }),
			wantMessage: "Secret creds not found in namespace web: create it with the Figma refresh token under key refreshToken."},
		{name: "Secret owned by another FigmaToken", obs: with(healthy(), func(o *Observation) {
			o.Claim = tokensecret.Verdict{Why: "the Secret is owned by FigmaToken other"}
		}), wantMessage: "Not writing Secret creds: the Secret is owned by FigmaToken other. To hand it over to this FigmaToken: kubectl annotate secret creds figma.tokenops.dev/owner=ft --overwrite"},
		{name: "target owned by someone else", obs: with(healthy(), func(o *Observation) {
			o.TargetName = "access"
			o.Claim = tokensecret.Verdict{Why: "the target Secret is immutable"}
		}), wantMessage: "Not writing target Secret access: the target Secret is immutable. Delete it so that this FigmaToken creates its own, or set another spec.target.name."},
		{name: "refresh token missing", obs: with(healthy(), func(o *Observation) { o.RefreshTokenHash = "" }),
			wantMessage: "Secret creds has no usable refresh token under key refreshToken (missing, empty or not text): put the Figma refresh token there, or an OAuth authorization code under key code with its redirect URI under key redirectUri."},
		{name: "a failure streak carries its own message", obs: with(healthy(), failing(figmav1alpha1.ReasonRefreshFailed, 2, time.Second)),
			wantMessage: "RefreshFailed message"},
		{name: "healthy", obs: healthy(), wantMessage: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.obs).Message; got != tt.wantMessage {
				t.Fatalf("message %q, want %q", got, tt.wantMessage)
			}
		})
	}
}

func TestDecideActions(t *testing.T) {
	tests := []struct {
		name                             string
		obs                              Observation
		wantSync, wantPrune, wantRestart bool
		wantWake                         time.Time
	}{
		{name: "healthy with a target and workloads", obs: with(healthy(), func(o *Observation) { o.TargetName, o.RestartTargets = "access", 2 }),
			wantSync: true, wantPrune: true, wantRestart: true, wantWake: scheduled},
		{name: "no target, no workloads", obs: healthy(), wantPrune: true, wantWake: scheduled},
		{name: "suspended: nothing is written", obs: with(healthy(), func(o *Observation) { o.Suspended, o.TargetName, o.RestartTargets = true, "access", 2 }),
			wantWake: now.Add(30 * time.Minute)},
		{name: "no valid token: nothing to sync or restart for, and an old target is kept until the new one holds it",
			obs: with(healthy(), func(o *Observation) {
				o.TargetName, o.RestartTargets, o.AccessTokenSet, o.TokenHeld = "access", 2, false, false
			})},
		{name: "blocked with a valid token: wake at its expiry", obs: with(healthy(), func(o *Observation) { o.RefreshTokenHash = "" }),
			wantPrune: true, wantWake: now.Add(30 * time.Minute)},
		{name: "blocked without a token: wait for a watch event", obs: with(healthy(), func(o *Observation) { o.SecretFound, o.AccessTokenSet, o.TokenHeld = false, false, false })},
		{name: "refused a Secret another FigmaToken owns: look at the owner again within 30 s, it may be gone in another shard",
			obs: with(healthy(), func(o *Observation) {
				o.Record.Owner, o.AccessTokenSet, o.TokenHeld = "other", true, false
				o.Claim = tokensecret.Verdict{Why: "the Secret is owned by FigmaToken other", Owner: "other"}
			}), wantWake: now.Add(OwnerRecheck)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.obs)
			if got.SyncTarget != tt.wantSync || got.PruneTargets != tt.wantPrune || got.RestartWorkloads != tt.wantRestart || !got.Wake.Equal(tt.wantWake) {
				t.Fatalf("Decide = sync %v, prune %v, restart %v, wake %v; want %v, %v, %v, %v",
					got.SyncTarget, got.PruneTargets, got.RestartWorkloads, got.Wake, tt.wantSync, tt.wantPrune, tt.wantRestart, tt.wantWake)
			}
		})
	}
}

// Ready names the first reason that applies, in the contract's order: an overwrite comes
// before a failing refresh (the token was emptied by another writer, then the refresh met a
// 503), and before a refresh token the other writer removed too.
func TestReadyNamesTheFirstReasonThatApplies(t *testing.T) {
	tests := []struct {
		name string
		obs  Observation
		want string
	}{
		{name: "overwritten, then the refresh failed", obs: with(overwritten(), failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)),
			want: figmav1alpha1.ReasonSecretOverwritten},
		{name: "overwritten, then the refresh was rejected", obs: with(overwritten(), failing(figmav1alpha1.ReasonRefreshRejected, 1, time.Second)),
			want: figmav1alpha1.ReasonSecretOverwritten},
		{name: "overwritten with the refresh token removed", obs: with(overwritten(), func(o *Observation) { o.RefreshTokenHash = "" }),
			want: figmav1alpha1.ReasonSecretOverwritten},
		{name: "overwritten, suspended", obs: with(overwritten(), func(o *Observation) { o.Suspended = true }),
			want: figmav1alpha1.ReasonSuspended},
		{name: "a failing refresh alone", obs: with(with(healthy(), func(o *Observation) { o.TokenHeld = false }), failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Second)),
			want: figmav1alpha1.ReasonRefreshFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := Decide(tt.obs); d.Ready || d.ReadyReason != tt.want {
				t.Fatalf("Ready = %v/%s, want False/%s", d.Ready, d.ReadyReason, tt.want)
			}
		})
	}
}

func TestEveryReasonHasItsMeaning(t *testing.T) {
	for _, reason := range []string{figmav1alpha1.ReasonSuspended, figmav1alpha1.ReasonSecretNotFound, figmav1alpha1.ReasonSecretConflict,
		figmav1alpha1.ReasonRefreshTokenMissing, figmav1alpha1.ReasonAWSAccessDenied, figmav1alpha1.ReasonRefreshRejected,
		figmav1alpha1.ReasonRefreshFailed, figmav1alpha1.ReasonSecretWriteFailed} {
		rule, ok := Reasons[reason]
		if !ok {
			t.Fatalf("%s is not in the table", reason)
		}
		if rule.Stalled && rule.Reconciling {
			t.Errorf("%s is both Stalled and Reconciling", reason)
		}
		if !rule.Blocker && (rule.EventType == "" || !strings.HasPrefix(rule.EventReason, "Re") && rule.EventReason != figmav1alpha1.ReasonAWSAccessDenied) {
			t.Errorf("failure %s is not reported with an Event of a refresh reason: %+v", reason, rule)
		}
	}
}

// spec.refreshInterval: a 90-day token is refreshed every interval, far from its expiry, so
// that a revoked grant shows within the interval.
func TestRefreshIntervalRefreshesFarFromExpiry(t *testing.T) {
	ninetyDays := func(o *Observation) {
		o.Record.ExpiresAt = o.Record.RefreshedAt.Add(90 * 24 * time.Hour)
		o.RefreshInterval = 24 * time.Hour
	}
	o := with(healthy(), ninetyDays)
	due := o.Record.RefreshedAt.Add(24 * time.Hour)
	if d := Decide(o); d.Refresh || !d.Next.Equal(due) {
		t.Fatalf("Decide = refresh %v, next %s; want a refresh planned at refreshedAt + 24h (%s)", d.Refresh, d.Next, due)
	}
	o.Now = due
	if !Decide(o).Refresh {
		t.Fatal("no refresh once the interval has passed")
	}
	// An interval longer than the expiry schedule changes nothing.
	o = with(healthy(), func(o *Observation) { o.RefreshInterval = 24 * time.Hour })
	if d := Decide(o); !d.Next.Equal(scheduled) {
		t.Fatalf("next %s, want the expiry schedule %s", d.Next, scheduled)
	}
}

// A wake-up ahead is kept to the instant, however close; one that has passed is retried a
// second later, never at once and never in a loop; none waits for a watch event.
func TestRequeueAfter(t *testing.T) {
	for _, tc := range []struct {
		name string
		wake time.Time
		want time.Duration
	}{
		{"due in 300 ms", now.Add(300 * time.Millisecond), 300 * time.Millisecond},
		{"due in 40 s", now.Add(40 * time.Second), 40 * time.Second},
		{"due now", now, time.Second},
		{"passed", now.Add(-time.Minute), time.Second},
		{"none", time.Time{}, 0},
	} {
		if got := (Decision{Wake: tc.wake}).RequeueAfter(now); got != tc.want {
			t.Errorf("%s: RequeueAfter = %s, want %s", tc.name, got, tc.want)
		}
	}
}
