package controllers

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// obtained is a new access token and, after an authorization-code exchange, the refresh
// token that must be stored in the source Secret.
type obtained struct {
	accessToken  string
	refreshToken string
	sentAt       time.Time
	expiresAt    time.Time
}

// obtain gets a new access token: RefreshToken with the refresh token or, when the Secret
// holds an authorization code instead, ExchangeCodeForToken. What it obtains is kept until it
// is written: a write that fails does not cost a second upstream call, as long as the kept
// token is not yet due for refresh itself. A code works only once, so the refresh token of an
// exchange is kept too, and refreshed when its access token is no longer usable.
func (r *FigmaTokenReconciler) obtain(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, obs observation) (obtained, error) {
	key := types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}
	kept, haveKept := r.kept.get(key, obs.credentialHash())
	if haveKept && kept.request == obs.request &&
		r.Clock.Now().Before(schedule.NextRefresh(kept.sentAt, kept.expiresAt, obs.refreshBefore, obs.uid)) {
		return kept.obtained, nil
	}
	// Only a kept exchange matters beyond its access token: its code is spent.
	haveKept = haveKept && kept.refreshToken != ""
	got := obtained{sentAt: r.Clock.Now()}
	var result amplify.RefreshResult
	var err error
	switch {
	case obs.refreshTokenHash != "" || haveKept:
		token := tokensecret.Text(source, ft.Spec.SecretRef.RefreshTokenKey)
		if haveKept {
			token, got.refreshToken = kept.refreshToken, kept.refreshToken
		}
		result, err = r.Upstream.Refresh(ctx, amplify.RefreshRequest{ClientID: ft.Spec.ClientID, RefreshToken: token})
	default:
		var exchanged amplify.ExchangeResult
		exchanged, err = r.Upstream.Exchange(ctx, amplify.ExchangeRequest{
			ClientID:    ft.Spec.ClientID,
			Code:        tokensecret.Text(source, figmav1alpha1.SecretKeyCode),
			RedirectURI: tokensecret.Text(source, figmav1alpha1.SecretKeyRedirectURI),
		})
		result, got.refreshToken = exchanged.RefreshResult, exchanged.RefreshToken
	}
	took := r.Clock.Since(got.sentAt)
	if err == nil {
		got.accessToken = result.AccessToken
		got.expiresAt, err = schedule.Expiry(got.sentAt, r.Clock.Now(), result.ExpiresIn)
		if err != nil {
			err = &amplify.Error{Kind: amplify.Transient, HTTPStatus: 200, Detail: err.Error()}
		}
	}
	metrics.ObserveRefresh(ft.Namespace, ft.Name, refreshResult(err), took)
	// Even with an unusable access token (zero expiresAt), an exchange's refresh token is good.
	if err == nil || (got.refreshToken != "" && !haveKept) {
		r.kept.keep(key, keptToken{credentialHash: obs.credentialHash(), request: obs.request, obtained: got})
	}
	return got, err
}

// storeRefreshToken writes an exchanged refresh token into the source Secret and removes
// the used code, for a FigmaToken whose access token goes to a target Secret.
func (r *FigmaTokenReconciler) storeRefreshToken(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, token string) error {
	_, _, err := r.writeSecret(ctx, client.ObjectKeyFromObject(source), source.DeepCopy(), func(current *corev1.Secret) error {
		tokensecret.StoreRefreshToken(current, ft.Spec.SecretRef.RefreshTokenKey, token)
		return r.Client.Update(ctx, current)
	}, func(current *corev1.Secret) (bool, error) {
		if current == nil {
			return false, apierrors.NewNotFound(corev1.Resource("secrets"), source.Name)
		}
		return true, nil
	})
	return err
}

// keptTokens holds, per FigmaToken, what was obtained from upstream until it is written.
type keptTokens struct {
	mu   sync.Mutex
	kept map[types.NamespacedName]keptToken
}

// keptToken is an obtained token and the inputs it was obtained for: the credential sent
// and the refresh-requested-at value.
type keptToken struct {
	credentialHash string
	request        string
	obtained
}

func (m *keptTokens) keep(key types.NamespacedName, k keptToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kept == nil {
		m.kept = map[types.NamespacedName]keptToken{}
	}
	m.kept[key] = k
}

// get returns what was kept for the credential; a token obtained with another credential
// is of no use.
func (m *keptTokens) get(key types.NamespacedName, credentialHash string) (keptToken, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.kept[key]
	return k, ok && k.credentialHash == credentialHash
}

func (m *keptTokens) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.kept, key)
}
