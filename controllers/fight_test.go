package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// countingUpstream issues one-hour tokens and counts the calls.
type countingUpstream struct{ calls int }

func (u *countingUpstream) Refresh(context.Context, upstream.RefreshRequest) (upstream.Result, error) {
	u.calls++
	return upstream.Result{AccessToken: fmt.Sprintf("access-%d", u.calls), ExpiresIn: 3600}, nil
}

func (u *countingUpstream) Exchange(context.Context, upstream.ExchangeRequest) (upstream.Result, error) {
	return upstream.Result{}, nil
}

// fakeReconciler is FigmaToken inPlaceFigmaToken() on Secret "creds" (refresh token
// "refresh-1") in a fake client, with a reconciler on a fake clock and a counting upstream.
func fakeReconciler(t *testing.T) (*figmav1alpha1.FigmaToken, *corev1.Secret, *FigmaTokenReconciler, client.Client, *clocktesting.FakeClock, *countingUpstream) {
	t.Helper()
	ft := inPlaceFigmaToken()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"},
		Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(ft, secret).WithStatusSubresource(ft).
		WithIndex(&figmav1alpha1.FigmaToken{}, secretNameIndex, secretNames).
		WithIndex(&figmav1alpha1.FigmaToken{}, secretRefNameField, secretRefName).
		WithIndex(&corev1.Secret{}, targetOwnerIndex, controllingFigmaToken).Build()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	up := &countingUpstream{}
	r := &FigmaTokenReconciler{Client: c, APIReader: c, Secrets: &secretwrite.Writer{Client: c, Reader: c, Clock: clk}, SecretMetadata: c,
		Clock: clk, Clients: &OAuthClients{Amplify: up}, Recorder: events.NewFakeRecorder(100)}
	return ft, secret, r, c, clk, up
}

// The fight's timing through the whole reconcile, on a fake clock: two overwrites are
// answered at once, the third starts a fight whose rewrites come 1, then 2 minutes after,
// each with the token obtained at first: one upstream call in all.
func TestAFightRewritesOnItsBackoffWithTheKeptToken(t *testing.T) {
	t.Parallel()
	ft, secret, r, c, clk, up := fakeReconciler(t)
	recorder := r.Recorder.(*events.FakeRecorder)
	ctx := context.Background()
	reconcile := func() time.Duration {
		t.Helper()
		result, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ft)})
		if err != nil {
			t.Fatal(err)
		}
		return result.RequeueAfter
	}
	accessToken := func() string {
		t.Helper()
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(secret), s); err != nil {
			t.Fatal(err)
		}
		return string(s.Data["accessToken"])
	}
	overwrite := func() {
		t.Helper()
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(secret), s); err != nil {
			t.Fatal(err)
		}
		s.Data["accessToken"] = []byte("")
		if err := c.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	reconcile()
	if accessToken() != "access-1" {
		t.Fatalf("first refresh wrote %q", accessToken())
	}
	for i := 1; i <= 2; i++ {
		clk.Step(10 * time.Second)
		overwrite()
		reconcile()
		if got := accessToken(); got != "access-1" {
			t.Fatalf("overwrite %d: the Secret holds %q, want the kept token back at once", i, got)
		}
	}
	clk.Step(10 * time.Second)
	overwrite()
	if wake := reconcile(); wake != time.Minute {
		t.Fatalf("the third overwrite: wake in %s, want the first rewrite in 1 min", wake)
	}
	if got := accessToken(); got != "" {
		t.Fatalf("the third overwrite was answered at once (%q); a fight waits", got)
	}
	expectEvent(t, recorder, figmav1alpha1.ReasonSecretOverwritten)
	st := r.status(t, ft)
	if st.stalled != figmav1alpha1.ReasonSecretOverwritten || st.ready != "False/"+figmav1alpha1.ReasonSecretOverwritten {
		t.Fatalf("during the fight: %+v", st)
	}

	clk.Step(59 * time.Second)
	reconcile()
	if got := accessToken(); got != "" {
		t.Fatal("rewritten before the minute was up")
	}
	clk.Step(time.Second)
	reconcile()
	if got := accessToken(); got != "access-1" {
		t.Fatalf("the first rewrite wrote %q, want the kept token", got)
	}
	if st := r.status(t, ft); st.ready != "True/"+figmav1alpha1.ReasonRefreshed || st.stalled != figmav1alpha1.ReasonSecretOverwritten {
		t.Fatalf("after the rewrite: %+v, want Ready with Stalled until the fight ends", st)
	}

	clk.Step(time.Second)
	overwrite()
	if wake := reconcile(); wake != 2*time.Minute-time.Second {
		t.Fatalf("the next rewrite in %s, want 2 min after the first", wake)
	}
	if up.calls != 1 {
		t.Fatalf("%d upstream calls, want 1: a fight calls nothing", up.calls)
	}
	select {
	case e := <-recorder.Events:
		if strings.Contains(e, figmav1alpha1.ReasonSecretOverwritten) {
			t.Fatalf("a second Warning in the same fight: %s", e)
		}
	default:
	}
}

type conditionSummary struct{ ready, stalled string }

func (r *FigmaTokenReconciler) status(t *testing.T, ft *figmav1alpha1.FigmaToken) conditionSummary {
	t.Helper()
	got := &figmav1alpha1.FigmaToken{}
	if err := r.Client.Get(context.Background(), client.ObjectKeyFromObject(ft), got); err != nil {
		t.Fatal(err)
	}
	var s conditionSummary
	for _, c := range got.Status.Conditions {
		switch c.Type {
		case figmav1alpha1.ConditionReady:
			s.ready = string(c.Status) + "/" + c.Reason
		case figmav1alpha1.ConditionStalled:
			s.stalled = c.Reason
		}
	}
	return s
}

// expectEvent drains the recorder until an Event with reason arrives.
func expectEvent(t *testing.T, recorder *events.FakeRecorder, reason string) {
	t.Helper()
	for {
		select {
		case e := <-recorder.Events:
			if strings.Contains(e, " "+reason+" ") {
				return
			}
		default:
			t.Fatalf("no %s Event", reason)
		}
	}
}

// A snapshot of the Secret put back from Git holds a token of this FigmaToken with its own
// record and hash, but not the one it wrote last: an overwrite, answered with the kept token.
func TestAnOlderSnapshotPutBackIsAnOverwrite(t *testing.T) {
	t.Parallel()
	ft, secret, r, c, clk, up := fakeReconciler(t)
	ctx := context.Background()
	key := client.ObjectKeyFromObject(ft)
	reconcile := func() {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	read := func() *corev1.Secret {
		t.Helper()
		s := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(secret), s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	reconcile()
	snapshot := read()
	clk.Step(time.Minute)
	f := &figmav1alpha1.FigmaToken{}
	if err := c.Get(ctx, key, f); err != nil {
		t.Fatal(err)
	}
	f.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "now"}
	if err := c.Update(ctx, f); err != nil {
		t.Fatal(err)
	}
	reconcile()
	if got := string(read().Data["accessToken"]); got != "access-2" {
		t.Fatalf("the requested refresh wrote %q", got)
	}

	clk.Step(time.Minute)
	back := read()
	back.Data, back.Annotations = snapshot.Data, snapshot.Annotations
	if err := c.Update(ctx, back); err != nil {
		t.Fatal(err)
	}
	reconcile()
	if got := string(read().Data["accessToken"]); got != "access-2" || up.calls != 2 {
		t.Fatalf("after the snapshot was put back: the Secret holds %q after %d calls; want access-2 back, 2 calls", got, up.calls)
	}
}
