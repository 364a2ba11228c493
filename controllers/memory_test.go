package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

func TestMemoryHoldsOneEntryPerFigmaTokenAndForgetsIt(t *testing.T) {
	t.Parallel()
	var m memory
	ft := &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "design", UID: "uid-1", ResourceVersion: "7"}}
	secret := types.NamespacedName{Namespace: "web", Name: "creds"}
	m.rememberFailure(ft, policy.Failure{Attempts: 2, Last: time.Now(), Reason: figmav1alpha1.ReasonRefreshFailed})
	m.keep(ft, keptToken{credentialHash: "hash-1"})
	m.rememberRestart(ft, workload{"Deployment", "web"}, "2026-11-25T10:00:00Z")
	m.sawVersion(ft)
	m.noteWrite(ft, secret, "2026-11-25T10:00:00Z")
	if tokens, secrets := m.size(); tokens != 1 || secrets != 1 {
		t.Fatalf("size = %d FigmaTokens, %d Secrets; want 1, 1", tokens, secrets)
	}

	// A FigmaToken re-created under the same name starts afresh.
	recreated := ft.DeepCopy()
	recreated.UID = "uid-2"
	if m.latestFailure(recreated).Attempts != 0 {
		t.Fatal("the failure streak of the old FigmaToken carried over")
	}
	if _, ok := m.keptFor(recreated, "hash-1"); ok {
		t.Fatal("the kept token of the old FigmaToken carried over")
	}
	if m.restartSent(recreated, workload{"Deployment", "web"}, "2026-11-25T10:00:00Z") {
		t.Fatal("the restarts of the old FigmaToken carried over")
	}

	m.forget(types.NamespacedName{Namespace: "web", Name: "design"})
	if tokens, secrets := m.size(); tokens != 0 || secrets != 0 {
		t.Fatalf("after forget: %d FigmaTokens, %d Secrets; want none", tokens, secrets)
	}
	if m.isOwnWrite(secret, nil, map[string]string{figmav1alpha1.AnnotationRefreshedAt: "2026-11-25T10:00:00Z"}) {
		t.Fatal("an own-write note outlived its FigmaToken")
	}
}
