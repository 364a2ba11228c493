package controllers

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/secretwrite"
)

// A rollout restart that fails for a passing reason (here a timeout of the API server) is
// tried again within restartRetry, not at the next refresh an hour later.
func TestAFailedRolloutRestartIsRetriedSoon(t *testing.T) {
	t.Parallel()
	ft := inPlaceFigmaToken()
	ft.Spec.RolloutRestartTargets = []figmav1alpha1.RolloutRestartTarget{{Kind: "Deployment", Name: "web"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"}, Data: map[string][]byte{"refreshToken": []byte("refresh-1")}}
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}
	failures := 1
	c := fakeclient.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(ft, secret, web).WithStatusSubresource(ft).
		WithIndex(&figmav1alpha1.FigmaToken{}, secretNameIndex, secretNames).
		WithIndex(&corev1.Secret{}, targetOwnerIndex, controllingFigmaToken).
		WithInterceptorFuncs(interceptor.Funcs{Patch: func(ctx context.Context, c ctrlclient.WithWatch, obj ctrlclient.Object, patch ctrlclient.Patch, opts ...ctrlclient.PatchOption) error {
			if _, ok := obj.(*appsv1.Deployment); ok && failures > 0 {
				failures--
				return apierrors.NewServerTimeout(appsv1.Resource("deployments"), "patch", 1)
			}
			return c.Patch(ctx, obj, patch, opts...)
		}}).Build()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	r := &FigmaTokenReconciler{Client: c, APIReader: c, Secrets: &secretwrite.Writer{Client: c, Reader: c, Clock: clk}, SecretMetadata: c,
		Clock: clk, Clients: &OAuthClients{Amplify: &countingUpstream{}}, Recorder: events.NewFakeRecorder(100), RolloutRestarts: true}

	if after := reconcileOnce(t, r, ft).RequeueAfter; after <= 0 || after > restartRetry {
		t.Fatalf("requeued after %s, want at most %s after a failed restart", after, restartRetry)
	}
	clk.Step(restartRetry)
	reconcileOnce(t, r, ft)
	got := &appsv1.Deployment{}
	if err := c.Get(context.Background(), ctrlclient.ObjectKeyFromObject(web), got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Template.Annotations[figmav1alpha1.AnnotationRestartedAt] == "" {
		t.Fatal("the workload was not restarted on the retry")
	}
}
