package secretwrite

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

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

// Written notes that the kept token is in the Secret: it is kept on, for restoring.
func (w *Writer) Written(owner client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k := w.entry(owner).kept; k != nil {
		k.Written = true
	}
}
