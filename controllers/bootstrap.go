package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

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

// obtain calls upstream for a new access token: RefreshToken with the refresh token or,
// when the Secret holds an authorization code instead, ExchangeCodeForToken. A code works
// only once, so the tokens of an exchange are kept until they are stored: a usable access
// token is used again as it is, else the kept refresh token is refreshed.
func (r *FigmaTokenReconciler) obtain(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, obs observation) (obtained, error) {
	key := types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}
	var kept obtained
	var haveKept bool
	if obs.refreshTokenHash == "" {
		kept, haveKept = r.exchanges.get(key, obs.codeHash)
		if haveKept && kept.expiresAt.After(r.Clock.Now()) {
			return kept, nil
		}
	}
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
	if got.refreshToken != "" && (err == nil || !haveKept) {
		// Even with an unusable access token (zero expiresAt), the refresh token is good.
		r.exchanges.keep(key, obs.codeHash, got)
	}
	return got, err
}

// storeRefreshToken writes an exchanged refresh token into the source Secret and removes
// the used code, for a FigmaToken whose access token goes to a target Secret.
func (r *FigmaTokenReconciler) storeRefreshToken(ctx context.Context, ft *figmav1alpha1.FigmaToken, source *corev1.Secret, token string) error {
	current := source.DeepCopy()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		tokensecret.StoreRefreshToken(current, ft.Spec.SecretRef.RefreshTokenKey, token)
		err := r.Client.Update(ctx, current)
		if !apierrors.IsConflict(err) {
			return err
		}
		if current, err = r.readSecret(ctx, source.Namespace, source.Name); err != nil {
			return err
		}
		if current == nil {
			return apierrors.NewNotFound(corev1.Resource("secrets"), source.Name)
		}
		return apierrors.NewConflict(corev1.Resource("secrets"), source.Name, errors.New("changed meanwhile"))
	})
}

// exchangeMemory keeps exchanged tokens until they are stored in the Secret, per FigmaToken
// and code.
type exchangeMemory struct {
	mu   sync.Mutex
	kept map[types.NamespacedName]keptExchange
}

type keptExchange struct {
	codeHash string
	obtained
}

func (m *exchangeMemory) keep(key types.NamespacedName, codeHash string, got obtained) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kept == nil {
		m.kept = map[types.NamespacedName]keptExchange{}
	}
	m.kept[key] = keptExchange{codeHash: codeHash, obtained: got}
}

func (m *exchangeMemory) get(key types.NamespacedName, codeHash string) (obtained, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.kept[key]
	return k.obtained, ok && k.codeHash == codeHash
}

func (m *exchangeMemory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.kept, key)
}
