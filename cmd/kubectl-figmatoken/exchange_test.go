package main

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

func TestExchangeOutcomeWaitsForThisCode(t *testing.T) {
	const uid, code = "uid-1", "the-code"
	codeHash := tokensecret.Fingerprint(uid, code)
	refreshed := now.Add(-time.Minute)
	withCode := func(c string) *corev1.Secret {
		return &corev1.Secret{Data: map[string][]byte{"code": []byte(c), "redirectUri": []byte("http://127.0.0.1:8765/callback")}}
	}
	exchanged := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{figmav1alpha1.AnnotationRefreshedAt: refreshed.Format(time.RFC3339)}},
		Data:       map[string][]byte{"refreshToken": []byte("rt"), "accessToken": []byte("at")},
	}
	token := func(setup func(*figmav1alpha1.FigmaToken), conditions ...string) *figmav1alpha1.FigmaToken {
		ft := figmaToken(conditions...)
		ft.UID = uid
		if setup != nil {
			setup(ft)
		}
		return ft
	}
	mirrored := func(ft *figmav1alpha1.FigmaToken) { ft.Status.LastRefreshTime = &metav1.Time{Time: refreshed} }
	failedWith := func(hash string) func(*figmav1alpha1.FigmaToken) {
		return func(ft *figmav1alpha1.FigmaToken) { ft.Status.FailedAttempts, ft.Status.FailedCredentialHash = 1, hash }
	}
	tests := []struct {
		name   string
		ft     *figmav1alpha1.FigmaToken
		secret *corev1.Secret
		want   exchange
	}{
		{"not reconciled yet", token(nil), withCode(code), exchangePending},
		{"Ready with the old token, code not yet exchanged", token(mirrored, "Ready=True/Refreshed"), withCode(code), exchangePending},
		{"exchanged, status mirrors the write", token(mirrored, "Ready=True/Refreshed"), exchanged, exchangeDone},
		{"exchanged, status not yet updated", token(func(ft *figmav1alpha1.FigmaToken) {
			ft.Status.LastRefreshTime = &metav1.Time{Time: refreshed.Add(-time.Hour)}
		}, "Ready=True/Refreshed"), exchanged, exchangePending},
		{"code refused", token(failedWith(codeHash), "Ready=False/RefreshRejected", "Stalled=True/RefreshRejected"), withCode(code), exchangeFailed},
		{"an earlier failure, of the old refresh token", token(failedWith("0123456789abcdef"), "Ready=False/RefreshRejected", "Stalled=True/RefreshRejected"), withCode(code), exchangePending},
		{"transient failure: retried", token(failedWith(codeHash), "Ready=False/RefreshFailed", "Reconciling=True/RefreshFailed"), withCode(code), exchangePending},
		{"another code replaced this one", token(mirrored, "Ready=True/Refreshed"), withCode("other"), exchangePending},
		{"Secret unreadable", token(mirrored, "Ready=True/Refreshed"), nil, exchangePending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exchangeOutcome(tt.ft, tt.secret, codeHash); got != tt.want {
				t.Fatalf("exchangeOutcome = %d, want %d", got, tt.want)
			}
		})
	}
}
