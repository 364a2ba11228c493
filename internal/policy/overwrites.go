package policy

import "time"

// The rules for other writers (CONTRACT.md, "Other writers"): an overwrite is answered at
// once by writing the kept token back, until FightAfter overwrites within FightWindow make
// a fight; then rewrites come on a backoff, FirstRewrite after the overwrite that started
// it, each further one twice as long after the previous rewrite, up to MaxRewriteDelay. A
// fight ends after FightWindow without an overwrite.
const (
	FightAfter      = 3
	FightWindow     = 10 * time.Minute
	FirstRewrite    = time.Minute
	MaxRewriteDelay = time.Hour
)

// Overwrites is what one FigmaToken has seen of other writers overwriting its token. The
// zero value is none. It lives in the reconciler's memory: a restart forgets a fight, and
// the first overwrite it meets costs at most the one upstream call a restart may.
type Overwrites struct {
	// Recent are the times of the last overwrites, at most FightAfter, oldest first.
	Recent []time.Time
	// FightStart is when the overwrite that started the fight was seen; zero when none.
	FightStart time.Time
	// Rewrites counts the rewrites since FightStart; LastRewrite is the latest.
	Rewrites    int
	LastRewrite time.Time
	// Writer says who made the last overwrite, from the Secret's managedFields (e.g.
	// `field manager "argocd-controller"`); "" when unknown.
	Writer string
}

// Seen adds an overwrite seen at t, by writer. It reports whether it starts a fight.
func (w Overwrites) Seen(t time.Time, writer string) (Overwrites, bool) {
	if !w.FightStart.IsZero() && !w.InFight(t, w.unanswered()) {
		w = Overwrites{} // a fight that had ended
	}
	w.Recent = append(w.Recent, t)
	if len(w.Recent) > FightAfter {
		w.Recent = w.Recent[len(w.Recent)-FightAfter:]
	}
	w.Writer = writer
	if w.FightStart.IsZero() && len(w.Recent) == FightAfter && t.Sub(w.Recent[0]) <= FightWindow {
		w.FightStart = t
		return w, true
	}
	return w, false
}

// Last is when the latest overwrite was seen; zero when none.
func (w Overwrites) Last() time.Time {
	if len(w.Recent) == 0 {
		return time.Time{}
	}
	return w.Recent[len(w.Recent)-1]
}

// InFight reports whether a fight is on at now: started, and the Secret is overwritten now
// or was within the last FightWindow.
func (w Overwrites) InFight(now time.Time, overwritten bool) bool {
	return !w.FightStart.IsZero() && (overwritten || now.Before(w.FightEnds()))
}

// FightEnds is when the fight ends if the token stays in the Secret from now on: FightWindow
// after the last overwrite or, when it was answered later, the last rewrite.
func (w Overwrites) FightEnds() time.Time {
	quietFrom := w.Last()
	if w.LastRewrite.After(quietFrom) {
		quietFrom = w.LastRewrite
	}
	return quietFrom.Add(FightWindow)
}

// unanswered reports whether the last overwrite came after the last rewrite.
func (w Overwrites) unanswered() bool { return w.Last().After(w.LastRewrite) }

// NextRewrite is when a fight allows the next rewrite. Overwrites seen meanwhile neither
// reset nor advance it.
func (w Overwrites) NextRewrite() time.Time {
	if w.Rewrites == 0 {
		return w.FightStart.Add(FirstRewrite)
	}
	delay := FirstRewrite
	for i := 0; i < w.Rewrites && delay < MaxRewriteDelay; i++ {
		delay *= 2
	}
	return w.LastRewrite.Add(min(delay, MaxRewriteDelay))
}

// Rewrote notes a rewrite at t during a fight; outside one it changes nothing.
func (w Overwrites) Rewrote(t time.Time) Overwrites {
	if w.InFight(t, w.unanswered()) {
		w.Rewrites++
		w.LastRewrite = t
	}
	return w
}
