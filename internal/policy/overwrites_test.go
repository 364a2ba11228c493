package policy

import (
	"strings"
	"testing"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// The fight's timing, as CONTRACT.md ("Other writers") gives it.
func TestAFightStartsAtTheThirdOverwriteWithinTenMinutes(t *testing.T) {
	var w Overwrites
	var started bool
	for i, at := range []time.Duration{0, 4 * time.Minute, 11 * time.Minute} {
		if w, started = w.Seen(now.Add(at), `field manager "argocd-controller"`); started {
			t.Fatalf("overwrite %d at +%s started a fight; the first and third are more than 10 min apart", i+1, at)
		}
	}
	if w, started = w.Seen(now.Add(12*time.Minute), `field manager "argocd-controller"`); !started {
		t.Fatal("the third overwrite within 10 min (at +4, +11, +12 min) did not start a fight")
	}
	if !w.InFight(now.Add(12*time.Minute), true) {
		t.Fatal("no fight right after it started")
	}
	if w.Writer != `field manager "argocd-controller"` {
		t.Fatalf("writer %q", w.Writer)
	}
}

func TestRewritesBackOffFromOneMinuteDoublingToAnHour(t *testing.T) {
	start := now
	w := Overwrites{}
	for _, at := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		w, _ = w.Seen(start.Add(at), "m")
	}
	third := start.Add(2 * time.Minute)
	if got := w.NextRewrite(); !got.Equal(third.Add(time.Minute)) {
		t.Fatalf("first rewrite at %s, want 1 min after the third overwrite (%s)", got, third.Add(time.Minute))
	}
	// Overwrites while it waits neither reset nor advance the timer.
	w, _ = w.Seen(third.Add(30*time.Second), "m")
	if got := w.NextRewrite(); !got.Equal(third.Add(time.Minute)) {
		t.Fatalf("an overwrite while waiting moved the first rewrite to %s", got)
	}
	at := third.Add(time.Minute)
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, delay := range want {
		w = w.Rewrote(at)
		// The other writer keeps answering, so the fight goes on.
		w, _ = w.Seen(at.Add(time.Second), "m")
		if got := w.NextRewrite(); !got.Equal(at.Add(delay)) {
			t.Fatalf("rewrite %d: next at %s after the previous, want %s", i+2, got.Sub(at), delay)
		}
		at = at.Add(delay)
	}
}

func TestAFightEndsAfterTenQuietMinutes(t *testing.T) {
	w := Overwrites{}
	for _, at := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		w, _ = w.Seen(now.Add(at), "m")
	}
	// While the last overwrite waits for its rewrite, the fight is on however long.
	if !w.InFight(now.Add(time.Hour), true) {
		t.Fatal("the fight ended while the Secret was still overwritten")
	}
	rewrite := w.NextRewrite()
	w = w.Rewrote(rewrite)
	if !w.InFight(rewrite.Add(FightWindow-time.Second), false) {
		t.Fatal("the fight ended before 10 quiet minutes after the rewrite")
	}
	if w.InFight(rewrite.Add(FightWindow), false) {
		t.Fatal("the fight goes on after 10 quiet minutes")
	}
	// A new overwrite after the end starts counting afresh.
	if w, started := w.Seen(rewrite.Add(FightWindow), "m"); started || len(w.Recent) != 1 {
		t.Fatalf("after the end: started %v, %d overwrites counted, want a fresh count of 1", started, len(w.Recent))
	}
}

// overwritten is healthy() after another writer emptied the token it wrote, with the token
// kept in memory.
func overwritten() Observation {
	o := healthy()
	o.TokenHeld, o.WroteBefore = false, true
	o.Kept = Kept{CredentialHash: "hash-1", RefreshedAt: o.Record.RefreshedAt, ExpiresAt: o.Record.ExpiresAt, Written: true}
	return o
}

func inFight(o *Observation) {
	for _, at := range []time.Duration{-2 * time.Minute, -time.Minute, -10 * time.Second} {
		o.Overwrites, _ = o.Overwrites.Seen(now.Add(at), `field manager "kubectl-patch"`)
	}
}

func TestDecideOnOverwrites(t *testing.T) {
	rewriteAt := now.Add(-10 * time.Second).Add(FirstRewrite)
	tests := []struct {
		name        string
		obs         Observation
		wantRefresh bool
		wantReady   bool
		wantReason  string // Ready's
		wantStalled bool
		wantWake    time.Time
	}{
		{name: "an overwrite: the kept token goes back at once", obs: overwritten(),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonSecretOverwritten},
		{name: "in a fight: wait for the rewrite", obs: with(overwritten(), inFight),
			wantReason: figmav1alpha1.ReasonSecretOverwritten, wantStalled: true, wantWake: rewriteAt},
		{name: "in a fight, the rewrite due", obs: with(with(overwritten(), inFight), func(o *Observation) { o.Now = rewriteAt }),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonSecretOverwritten, wantStalled: true},
		{name: "in a fight, a changed refresh token is used at once", obs: with(with(overwritten(), inFight), func(o *Observation) { o.RefreshTokenHash = "hash-2" }),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonSecretOverwritten, wantStalled: true},
		{name: "in a fight, a refresh request is answered at once", obs: with(with(overwritten(), inFight), func(o *Observation) { o.Request = "2026-11-25T10:29:00Z" }),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonSecretOverwritten, wantStalled: true},
		{name: "in a fight with the token back: Ready, Stalled until 10 quiet minutes",
			obs:       with(healthy(), func(o *Observation) { o.WroteBefore = true; inFight(o) }),
			wantReady: true, wantReason: figmav1alpha1.ReasonRefreshed, wantStalled: true, wantWake: scheduled},
		{name: "in a fight, a handled request the other writer stripped from the Secret waits too",
			obs:        with(with(overwritten(), inFight), func(o *Observation) { o.Request, o.Kept.Request, o.Record.HandledRefreshRequest = "r1", "r1", "" }),
			wantReason: figmav1alpha1.ReasonSecretOverwritten, wantStalled: true, wantWake: rewriteAt},
		{name: "a long fight, overwritten long ago: wake at the rewrite, not every second",
			obs: with(overwritten(), func(o *Observation) {
				o.Overwrites = Overwrites{Recent: []time.Time{now.Add(-40 * time.Minute), now.Add(-30 * time.Minute), now.Add(-15 * time.Minute)},
					FightStart: now.Add(-3 * time.Hour), Rewrites: 5, LastRewrite: now.Add(-20 * time.Minute), Writer: `field manager "kubectl-patch"`}
				o.Kept.ExpiresAt = now.Add(10 * time.Hour)
			}),
			wantReason: figmav1alpha1.ReasonSecretOverwritten, wantStalled: true, wantWake: now.Add(12 * time.Minute)},
		{name: "a spec change is no overwrite", obs: with(overwritten(), func(o *Observation) { o.WroteBefore = false }),
			wantRefresh: true, wantReason: figmav1alpha1.ReasonPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.obs)
			if d.Refresh != tt.wantRefresh || d.Ready != tt.wantReady || d.ReadyReason != tt.wantReason || d.Stalled != tt.wantStalled {
				t.Fatalf("Decide = refresh %v, ready %v/%s, stalled %v; want %v, %v/%s, %v",
					d.Refresh, d.Ready, d.ReadyReason, d.Stalled, tt.wantRefresh, tt.wantReady, tt.wantReason, tt.wantStalled)
			}
			if !tt.wantWake.IsZero() && !d.Wake.Equal(tt.wantWake) {
				t.Fatalf("wake at %s, want %s", d.Wake, tt.wantWake)
			}
			if d.Stalled && (!strings.Contains(d.Message, `"kubectl-patch"`) || !strings.Contains(d.Message, "spec.target")) {
				t.Fatalf("the fight's message names neither the writer nor the fix: %s", d.Message)
			}
		})
	}
}

func TestAdoptable(t *testing.T) {
	written := healthy().Record.RefreshedAt
	earlier := func(o *Observation) { o.TokenHeld, o.Record.AccessTokenHash = false, "" }
	tests := []struct {
		name        string
		obs         Observation
		lastWritten time.Time
		want        bool
	}{
		{name: "no access-token-hash: an earlier version wrote it", obs: with(healthy(), earlier), want: true},
		{name: "hash for another refreshed-at than this FigmaToken wrote", obs: with(healthy(), func(o *Observation) { o.Record.AccessTokenHash = "0123456789abcdef" }),
			lastWritten: written.Add(-time.Hour), want: true},
		{name: "hash for the refreshed-at this FigmaToken wrote: the value was overwritten", obs: with(healthy(), func(o *Observation) { o.Record.AccessTokenHash = "0123456789abcdef" }),
			lastWritten: written},
		{name: "an older record put back (a snapshot)", obs: with(healthy(), func(o *Observation) { o.Record.AccessTokenHash = "0123456789abcdef" }),
			lastWritten: written.Add(time.Minute)},
		{name: "no hash, but older than this FigmaToken's last write", obs: with(healthy(), earlier), lastWritten: written.Add(time.Minute)},
		{name: "after a rollback and roll-forward: the hash is for an earlier refreshed-at, and status shows the earlier version's refresh",
			obs: with(healthy(), func(o *Observation) {
				o.Record.AccessTokenHash, o.Record.AccessTokenHashFor = "0123456789abcdef", written.Add(-time.Hour)
			}),
			lastWritten: written, want: true},
		{name: "the hash is for the record's refreshed-at: the value was overwritten, whatever status says",
			obs: with(healthy(), func(o *Observation) {
				o.Record.AccessTokenHash, o.Record.AccessTokenHashFor = "0123456789abcdef", written
			}),
			lastWritten: written.Add(-time.Hour)},
		{name: "another refresh token", obs: with(with(healthy(), earlier), func(o *Observation) { o.RefreshTokenHash = "hash-2" })},
		{name: "expired", obs: with(with(healthy(), earlier), func(o *Observation) { o.Now = o.Record.ExpiresAt })},
		{name: "empty value", obs: with(with(healthy(), earlier), func(o *Observation) { o.AccessTokenSet = false })},
		{name: "another owner", obs: with(with(healthy(), earlier), func(o *Observation) { o.Record.Owner = "other" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.obs.Adoptable(tt.lastWritten); got != tt.want {
				t.Fatalf("Adoptable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWorkloadsRestartOnlyForANewerToken(t *testing.T) {
	o := with(healthy(), func(o *Observation) { o.RestartTargets = 1 })
	if !Decide(o).RestartWorkloads {
		t.Fatal("no restart for the first token")
	}
	o.RestartedFor = o.Record.RefreshedAt
	if Decide(o).RestartWorkloads {
		t.Fatal("a second restart for the same token")
	}
	o.RestartedFor = o.Record.RefreshedAt.Add(time.Minute)
	if Decide(o).RestartWorkloads {
		t.Fatal("a restart for an older token put back")
	}
}
