package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// A blocker's Warning goes out once, when it starts, even while Ready stays True (an
// immutable Secret this FigmaToken owns, its token still valid); and the message says what
// helps: a hand-over does not, the Secret must be mutable or the token go to spec.target.
func TestABlockerWarnsOnceAndSaysWhatHelps(t *testing.T) {
	t.Parallel()
	ft, secret, r, c, clk, _ := fakeReconciler(t)
	ctx := context.Background()
	reconcile := func() {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ft)}); err != nil {
			t.Fatal(err)
		}
	}
	reconcile() // a token written
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(secret), s); err != nil {
		t.Fatal(err)
	}
	immutable := true
	s.Immutable = &immutable
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	recorder := r.Recorder.(*events.FakeRecorder)
	for range 4 {
		clk.Step(time.Minute)
		reconcile()
	}
	var conflicts []string
	for len(recorder.Events) > 0 {
		if e := <-recorder.Events; strings.Contains(e, figmav1alpha1.ReasonSecretConflict) {
			conflicts = append(conflicts, e)
		}
	}
	if len(conflicts) != 1 {
		t.Fatalf("%d SecretConflict Warnings in 4 reconciles, want 1: %v", len(conflicts), conflicts)
	}
	if strings.Contains(conflicts[0], "kubectl annotate") || !strings.Contains(conflicts[0], "spec.target") {
		t.Fatalf("the Warning advises a hand-over it already has, or not spec.target: %s", conflicts[0])
	}
}
