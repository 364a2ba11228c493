package controllers

import (
	"context"
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

// hangingUpstream answers every call with a timeout after its deadline has passed.
type hangingUpstream struct{ clock *clocktesting.FakeClock }

func (h hangingUpstream) Refresh(context.Context, upstream.RefreshRequest) (upstream.Result, error) {
	h.clock.Step(30 * time.Second)
	return upstream.Result{}, &upstream.Error{Kind: upstream.Transient, Detail: "timeout"}
}

func (h hangingUpstream) Exchange(context.Context, upstream.ExchangeRequest) (upstream.Result, error) {
	return upstream.Result{}, nil
}

// The soak found it: after a call that hung until its 30 s deadline, the retry meant for 5 s
// later was scheduled 35 s later, from the time the reconcile began, and a token close to
// expiry lapsed. The backoff counts from the attempt's start, so after a hang the retry comes
// at once (in a second, the least wake-up), and the requeue is timed from now.
func TestRetryAfterAHangingCallComesAtOnce(t *testing.T) {
	t.Parallel()
	scheme := testScheme(t)
	ft := inPlaceFigmaToken()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"},
		Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ft, secret).WithStatusSubresource(ft).
		WithIndex(&figmav1alpha1.FigmaToken{}, secretNameIndex, secretNames).
		WithIndex(&corev1.Secret{}, targetOwnerIndex, controllingFigmaToken).Build()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	r := &FigmaTokenReconciler{Client: c, APIReader: c, Secrets: &secretwrite.Writer{Client: c, Reader: c, Clock: clk}, SecretMetadata: c, Clock: clk,
		Clients: &OAuthClients{Amplify: hangingUpstream{clk}}, Recorder: events.NewFakeRecorder(10)}

	result, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ft)})
	if err != nil {
		t.Fatal(err)
	}
	if result.RequeueAfter != time.Second {
		t.Fatalf("retry in %s after a call that hung for 30 s, want at once (1 s)", result.RequeueAfter)
	}
	got := &figmav1alpha1.FigmaToken{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(ft), got); err != nil {
		t.Fatal(err)
	}
	if st := got.Status; st.FailedAttempts != 1 || st.NextRefreshTime == nil || !st.NextRefreshTime.Time.Before(clk.Now()) {
		t.Fatalf("status after the hang: failedAttempts %d, nextRefreshTime %v, now %v", st.FailedAttempts, st.NextRefreshTime, clk.Now())
	}
}
