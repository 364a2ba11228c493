package policy

import (
	"strings"
	"testing"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

func TestFoldExtendsTheStreakWithTheAttemptsInputs(t *testing.T) {
	o := with(healthy(), func(o *Observation) {
		o.Request, o.Route.Version = "req-1", "client-v1"
		o.Failure = Failure{Attempts: 2, Reason: figmav1alpha1.ReasonRefreshFailed, Request: "req-0"}
	})
	f := UpstreamFailure(UpstreamError{Kind: UpstreamTransient, Shown: "InternalServerException, HTTP 500"}, o)
	got, ev := Fold(o, Outcome{Failure: &f})
	want := Failure{Attempts: 3, Last: now, Reason: figmav1alpha1.ReasonRefreshFailed, Message: f.Message,
		Generation: 1, CredentialHash: "hash-1", Request: "req-1", Client: "client-v1"}
	if got.Failure.Attempts != want.Attempts || !got.Failure.Last.Equal(want.Last) || got.Failure.Generation != want.Generation ||
		got.Failure.CredentialHash != want.CredentialHash || got.Failure.Request != want.Request || got.Failure.Client != want.Client {
		t.Fatalf("Failure = %+v, want %+v", got.Failure, want)
	}
	if ev.Type != "Warning" || ev.Reason != Reasons[figmav1alpha1.ReasonRefreshFailed].EventReason || ev.Message != f.Message {
		t.Fatalf("Event = %+v, want the failure's Warning", ev)
	}
	// Without a request, the streak keeps the one it answered.
	o.Request = ""
	if got, _ := Fold(o, Outcome{Failure: &f}); got.Failure.Request != "req-0" {
		t.Fatalf("Failure.Request = %q, want the streak's req-0", got.Failure.Request)
	}
}

func TestFoldAnnouncesOnlyAChangeOfState(t *testing.T) {
	rec := tokensecret.Record{Owner: "ft", RefreshedAt: now, ExpiresAt: now.Add(time.Hour), RefreshTokenHash: "hash-1"}
	ready := with(healthy(), func(o *Observation) { o.ReadyBefore = true })
	for _, tc := range []struct {
		name     string
		o        Observation
		out      Outcome
		announce string // the Event's message prefix, "" for none
	}{
		{"a routine refresh", ready, Outcome{Wrote: &rec}, ""},
		{"the first token", healthy(), Outcome{Wrote: &rec}, "Refreshed the access token in Secret creds"},
		{"a recovery", with(ready, failing(figmav1alpha1.ReasonRefreshFailed, 1, time.Minute)), Outcome{Wrote: &rec}, "Refreshed"},
		{"a requested refresh", with(ready, func(o *Observation) { o.Request = "req-1" }), Outcome{Wrote: &rec}, "Refreshed"},
		{"an exchanged code", with(ready, func(o *Observation) { o.RefreshTokenHash, o.CodeHash = "", "code-1" }),
			Outcome{Wrote: &rec, Exchanged: true}, "Exchanged the authorization code"},
		{"the kept token put back", healthy(), Outcome{Wrote: &rec, Restored: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ev := Fold(tc.o, tc.out)
			if tc.announce == "" && ev.Reason != "" || tc.announce != "" && !strings.HasPrefix(ev.Message, tc.announce) {
				t.Fatalf("Event = %+v, want %q", ev, tc.announce)
			}
			if !got.Valid() || got.Failure.Attempts != 0 || !got.WroteBefore || got.Record != rec {
				t.Fatalf("after the write: %+v", got)
			}
		})
	}
}

// After a code exchange the Secret holds the refresh token it brought: the reconcile's last
// decision plans the next refresh (status.nextRefreshTime) rather than wanting another call.
func TestFoldAnExchangePlansTheNextRefresh(t *testing.T) {
	o := with(healthy(), func(o *Observation) {
		o.RefreshTokenHash, o.CodeHash, o.AccessTokenSet, o.TokenHeld, o.Record = "", "code-1", false, false, tokensecret.Record{}
	})
	rec := tokensecret.Record{Owner: "ft", RefreshedAt: now, ExpiresAt: now.Add(time.Hour), RefreshTokenHash: "hash-2"}
	got, _ := Fold(o, Outcome{Wrote: &rec, Exchanged: true})
	if got.CredentialHash() != "hash-2" {
		t.Fatalf("CredentialHash = %q, want the exchanged refresh token's hash-2", got.CredentialHash())
	}
	d := Decide(got)
	if d.Refresh || !d.Next.Equal(got.ScheduledRefresh()) || d.Next.IsZero() {
		t.Fatalf("after the exchange: Refresh %v, Next %v, want no refresh and the next planned at %v", d.Refresh, d.Next, got.ScheduledRefresh())
	}
}

func TestFoldTakesInWhatAnActDid(t *testing.T) {
	o := with(healthy(), func(o *Observation) { o.OutOfShape, o.Adopt, o.TokenHeld = true, true, false })
	rec := tokensecret.Record{Owner: "ft", RefreshedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
	got, ev := Fold(o, Outcome{Adopted: &rec, SecretVersion: "8"})
	if got.Adopt || !got.TokenHeld || !got.RestartedFor.Equal(rec.RefreshedAt) || got.SecretVersion != "8" || ev.Reason != "" {
		t.Fatalf("after adoption: %+v, %+v", got, ev)
	}
	got, _ = Fold(got, Outcome{Reshaped: true, SecretVersion: "9"})
	if got.OutOfShape || got.SecretVersion != "9" {
		t.Fatalf("after a reshape: %+v", got)
	}
	restarted := now.Add(-time.Minute)
	if got, _ = Fold(got, Outcome{RestartedFor: restarted, Suspended: true}); !got.RestartedFor.Equal(restarted) || !got.Suspended {
		t.Fatalf("after a restart and a suspend: %+v", got)
	}
}

func TestEachActIsTakenOnceAndOneWriteOfTheToken(t *testing.T) {
	d := Decision{ReleaseSource: true, Adopt: true, Refresh: true, SyncTarget: true, PruneTargets: true, RestartWorkloads: true}
	var done Act
	var order []Act
	for act := d.NextAct(done); act != 0; act = d.NextAct(done) {
		order = append(order, act)
		done |= act
	}
	want := []Act{ActReleaseSource, ActAdopt, ActRefresh, ActPruneTargets, ActRestartWorkloads}
	if len(order) != len(want) {
		t.Fatalf("acts %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("acts %v, want %v", order, want)
		}
	}
}
