package secretwrite

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenops/figma-token-operator/internal/policy"
)

// ledger is what a Writer holds for one FigmaToken (of one UID), booked by its writes and
// forgotten in one call (Forget): the token kept, the Secrets it wrote, and what other
// writers did to its token.
type ledger struct {
	uid types.UID
	// noted are the Secrets with an own-write note; wrote those where its token landed.
	noted, wrote []types.NamespacedName
	kept         *Token
	overwrites   policy.Overwrites
	// overwriteKey is the resourceVersion (or "absent") of the last overwrite counted, so
	// one overwrite seen by several reconciles counts once; "" after an own write.
	overwriteKey string
	// overwritesOf is the generation the overwrites were seen at: a spec change (e.g. to
	// spec.target, the fix the fight's message gives) ends a fight.
	overwritesOf int64
}

// Token is a token obtained from upstream for one FigmaToken and the inputs it answers.
// A Writer keeps the last one while the caller says it is usable (comfortably unexpired,
// for the same credential and refresh request): not only until its first write, so that a
// Secret another writer overwrote, replaced or deleted gets it back without a call.
type Token struct {
	AccessToken string
	// RefreshToken is set after an authorization-code exchange: the code is spent, so the
	// refresh token is kept until it is stored.
	RefreshToken string
	// Spent are the keys, besides the code, that the exchange used up and that go with the
	// code when the refresh token is stored (Figma's redirectUri and codeVerifier).
	Spent []string
	// SentAt is when the request was sent; ExpiresAt when the access token lapses.
	SentAt, ExpiresAt time.Time
	// CredentialHash and Request are the fingerprint of the refresh token (or code) sent
	// and the refresh-requested-at value answered.
	CredentialHash, Request string
	// Written: the token reached the Secret once.
	Written bool
}

// RefreshedAt is the refreshed-at a token is recorded with: when its request was sent, to
// the second.
func (t Token) RefreshedAt() time.Time { return t.SentAt.UTC().Truncate(time.Second) }

// Keep holds t for owner, replacing what was kept.
func (w *Writer) Keep(owner client.Object, t Token) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entry(owner).kept = &t
}

// Kept returns the token kept for owner, if any.
func (w *Writer) Kept(owner client.Object) (Token, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.entry(owner).kept
	if k == nil {
		return Token{}, false
	}
	return *k, true
}

// KeptInfo is what policy may know of the token kept for owner: everything but the token.
func (w *Writer) KeptInfo(owner client.Object) policy.Kept {
	k, ok := w.Kept(owner)
	if !ok {
		return policy.Kept{}
	}
	return policy.Kept{CredentialHash: k.CredentialHash, Request: k.Request, RefreshedAt: k.RefreshedAt(),
		ExpiresAt: k.ExpiresAt, Written: k.Written}
}

// Overwrites returns what other writers did to owner's token lately, at its generation.
func (w *Writer) Overwrites(owner client.Object, generation int64) policy.Overwrites {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(owner)
	if e.overwritesOf != generation {
		return policy.Overwrites{}
	}
	return e.overwrites
}

// SeeOverwrite counts an overwrite of owner's token, identified by key (the Secret's
// resourceVersion, or "absent"), once: it reports whether it was counted now and whether it
// started a fight.
func (w *Writer) SeeOverwrite(owner client.Object, generation int64, key, writer string) (o policy.Overwrites, counted, started bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(owner)
	if e.overwriteKey == key {
		return e.overwrites, false, false
	}
	e.overwriteKey = key
	if e.overwritesOf != generation {
		e.overwrites, e.overwritesOf = policy.Overwrites{}, generation
	}
	e.overwrites, started = e.overwrites.Seen(w.now(), writer)
	return e.overwrites, true, started
}

// booked notes that t reached the Secret key for owner: kept on for restoring (under the
// refresh token now stored, credential, when it came with one), the next overwrite a new
// one, and, during a fight, one of its rewrites. w.mu must be held.
func (e *ledger) booked(t Token, credential string, at time.Time) {
	if t.RefreshToken != "" {
		t.RefreshToken, t.CredentialHash = "", credential
	}
	t.Written = true
	e.kept = &t
	e.overwriteKey = ""
	e.overwrites = e.overwrites.Rewrote(at)
}

// Unwrote forgets that owner wrote secret: the Secret was handed over to another FigmaToken,
// so a Secret without owner's token is no longer one another writer overwrote.
func (w *Writer) Unwrote(owner client.Object, secret types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(owner)
	e.wrote = slices.DeleteFunc(e.wrote, func(s types.NamespacedName) bool { return s == secret })
}

// Wrote reports whether a write of secret for owner (of its UID) landed in this process.
func (w *Writer) Wrote(owner client.Object, secret types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.entry(owner).wrote, secret)
}

// Forget drops everything held for a FigmaToken that is gone.
func (w *Writer) Forget(owner types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.owners[owner]; e != nil {
		w.dropNotes(e)
	}
	delete(w.owners, owner)
}

// entry returns owner's ledger, a fresh one for a new UID; w.mu must be held.
func (w *Writer) entry(owner client.Object) *ledger {
	key := client.ObjectKeyFromObject(owner)
	e := w.owners[key]
	if e == nil || e.uid != owner.GetUID() {
		if e != nil {
			w.dropNotes(e)
		}
		if w.owners == nil {
			w.owners = map[types.NamespacedName]*ledger{}
		}
		e = &ledger{uid: owner.GetUID()}
		w.owners[key] = e
	}
	return e
}

// Size is how many FigmaTokens and Secrets the Writer holds notes for, for tests.
func (w *Writer) Size() (owners, secrets int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.owners), len(w.own)
}
