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
	m.rememberFailure(ft, policy.Failure{Attempts: 2, Last: time.Now(), Reason: figmav1alpha1.ReasonRefreshFailed})
	m.rememberRestart(ft, workload{"Deployment", "web"}, "2026-11-25T10:00:00Z")
	m.sawVersion(ft)
	if n := m.size(); n != 1 {
		t.Fatalf("size = %d FigmaTokens, want 1", n)
	}

	// A FigmaToken re-created under the same name starts afresh.
	recreated := ft.DeepCopy()
	recreated.UID = "uid-2"
	if m.failure(recreated) != nil {
		t.Fatal("the failure streak of the old FigmaToken carried over")
	}
	if m.restartSent(recreated, workload{"Deployment", "web"}, "2026-11-25T10:00:00Z") {
		t.Fatal("the restarts of the old FigmaToken carried over")
	}

	m.forget(types.NamespacedName{Namespace: "web", Name: "design"})
	if n := m.size(); n != 0 {
		t.Fatalf("after forget: %d FigmaTokens, want none", n)
	}
}
